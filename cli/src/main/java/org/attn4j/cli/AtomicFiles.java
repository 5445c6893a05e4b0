package org.attn4j.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Output files that appear whole or not at all: written beside the target, then moved over it. */
final class AtomicFiles {
    private AtomicFiles() {}

    /** What writes the file's content. */
    interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes {@code content} to a temporary file beside {@code file} and moves it into place; on failure nothing is left behind. */
    static void write(Path file, Content content) throws IOException {
        Path abs = file.toAbsolutePath();
        Path tmp = abs.resolveSibling("." + abs.getFileName() + ".attn4j-" + ProcessHandle.current().pid() + ".tmp");
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                content.writeTo(out);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
