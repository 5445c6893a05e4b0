package org.attn4j.models.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import org.attn4j.models.gguf.GgufFile;
import org.attn4j.models.gguf.GgufTokenizers;
import org.attn4j.models.tokenizer.bpe.TokenizerJson;

/** Loads a decoder tokenizer from whatever file a model comes as. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * The tokenizer of {@code path}: a {@code .gguf} file (its {@code tokenizer.ggml.*} metadata), a
     * {@code tokenizer.json}, or a directory holding {@code tokenizer.json} or
     * {@code vocab.json} + {@code merges.txt}. A malformed GGUF file raises
     * {@link org.attn4j.models.gguf.GgufFormatException}; anything else unusable an
     * IllegalArgumentException naming the file.
     */
    public static Tokenizer load(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path json = path.resolve("tokenizer.json");
            if (Files.isRegularFile(json)) return TokenizerJson.read(json);
            Path vocab = path.resolve("vocab.json"), merges = path.resolve("merges.txt");
            if (Files.isRegularFile(vocab) && Files.isRegularFile(merges)) return TokenizerJson.readVocabAndMerges(vocab, merges);
            throw new IllegalArgumentException(path + ": a model directory needs tokenizer.json, or vocab.json and merges.txt");
        }
        if (!Files.isRegularFile(path)) throw new NoSuchFileException(path.toString(), null, "no such file or directory");
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".json")) return TokenizerJson.read(path);
        // Anything else is taken for GGUF, whose magic bytes say whether it is one.
        try (GgufFile g = GgufFile.open(path)) {
            return GgufTokenizers.read(g);
        }
    }
}
