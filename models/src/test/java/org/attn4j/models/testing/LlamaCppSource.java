package org.attn4j.models.testing;

import java.nio.file.Path;
import java.util.Optional;

/**
 * llama.cpp's source as shipped in npm {@code node-llama-cpp@3.21.1} (MIT) as a git bundle, checked
 * out under {@code target/git/llamacpp}: only {@code models/} (tokenizer-only GGUF files with their
 * test cases) and {@code gguf-py/} (the Python GGUF reader/writer) are checked out.
 */
public final class LlamaCppSource {
    private LlamaCppSource() {}

    public static final String PACKAGE = "node-llama-cpp@3.21.1";

    /** The checkout, or empty when npm/tar/git is missing or the registry cannot be reached. */
    public static Optional<Path> get() {
        return NpmPackage.gitBundle(PACKAGE, "llama/gitRelease.bundle", "llamacpp", "models", "gguf-py");
    }

    /** Message for a test that has to skip. */
    public static final String SKIP = "npm could not fetch " + PACKAGE + " (llama.cpp's source); skipping";
}
