package org.attn4j.models.decoder;

import org.attn4j.models.gguf.GgufFile;
import org.attn4j.models.gguf.GgufTokenizers;
import org.attn4j.models.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** A model with what generation needs beside it: its tokenizer and special ids. */
public final class DecoderFiles {
    private DecoderFiles() {}

    /**
     * @param model     the network
     * @param tokenizer its tokenizer
     * @param bos       the beginning-of-sequence id, or -1
     * @param addBos    whether a prompt starts with {@code bos}
     * @param eos       the end-of-sequence id, or -1
     */
    public record Loaded(DecoderModel model, Tokenizer tokenizer, int bos, boolean addBos, int eos) {}

    /**
     * Loads a Hugging Face model directory (see {@link #loadDirectory}) or a {@code .gguf} file (weights, tokenizer and {@code tokenizer.ggml.*} ids). BOS is
     * added when {@code tokenizer.ggml.add_bos_token} says so, by default for SentencePiece
     * vocabularies only (as llama.cpp does). A malformed file raises GgufFormatException naming it.
     */
    public static Loaded load(Path path) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "no such file or directory");
        if (Files.isDirectory(path)) return loadDirectory(path);
        try (GgufFile g = GgufFile.open(path)) {
            DecoderModel m = GgufDecoder.load(g);
            Tokenizer tok = GgufTokenizers.read(g);
            int bos = (int) g.integer("tokenizer.ggml.bos_token_id", -1), eos = (int) g.integer("tokenizer.ggml.eos_token_id", -1);
            boolean addBos = g.bool("tokenizer.ggml.add_bos_token", "llama".equals(g.string("tokenizer.ggml.model", "none")));
            return new Loaded(m, tok, bos, addBos && bos >= 0, eos);
        }
    }

    /**
     * A Hugging Face directory ({@link HfDecoder}) with its {@code tokenizer.json}; BOS/EOS ids from
     * {@code config.json} (the first, when EOS is a list), BOS added when
     * {@code tokenizer_config.json} sets {@code add_bos_token}.
     */
    private static Loaded loadDirectory(Path dir) throws IOException {
        DecoderModel m = HfDecoder.load(dir);
        Tokenizer tok = org.attn4j.models.tokenizer.Tokenizers.load(dir);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var cfg = json.readTree(dir.resolve("config.json").toFile());
        int bos = cfg.path("bos_token_id").asInt(-1);
        var eosNode = cfg.path("eos_token_id");
        int eos = eosNode.isArray() ? eosNode.path(0).asInt(-1) : eosNode.asInt(-1);
        Path tc = dir.resolve("tokenizer_config.json");
        boolean addBos = Files.isRegularFile(tc) && json.readTree(tc.toFile()).path("add_bos_token").asBoolean(false);
        return new Loaded(m, tok, bos, addBos && bos >= 0, eos);
    }
}
