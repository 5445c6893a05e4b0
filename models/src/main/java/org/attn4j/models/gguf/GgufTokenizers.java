package org.attn4j.models.gguf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attn4j.models.tokenizer.Tokenizer;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.models.tokenizer.bpe.PreTokenizer;
import org.attn4j.models.tokenizer.bpe.RegexPreTokenizer;
import org.attn4j.models.tokenizer.bpe.SequencePreTokenizer;
import org.attn4j.models.tokenizer.spm.SentencePieceBpe;

/**
 * The tokenizer stored in a GGUF file's metadata ({@code tokenizer.ggml.*}).
 *
 * <ul>
 *   <li>{@code tokenizer.ggml.model = "gpt2"}: byte-level BPE from {@code tokens} and {@code merges};
 *       control and user-defined tokens ({@code token_type} 3 and 4) are added tokens. The
 *       pre-tokenizer comes from {@code tokenizer.ggml.pre}: {@code gpt-2} (and {@code default}),
 *       {@code llama-bpe}/{@code llama3}, {@code qwen2} (with the NFC normalisation of Qwen's
 *       Hugging Face tokenizer), {@code smollm}/{@code starcoder}.</li>
 *   <li>{@code tokenizer.ggml.model = "llama"}: SentencePiece-style BPE from {@code tokens},
 *       {@code scores} and {@code token_type}, with a dummy space prefix unless
 *       {@code tokenizer.ggml.add_space_prefix} is false.</li>
 * </ul>
 * Anything else is refused with an error naming the file and the key.
 */
public final class GgufTokenizers {
    private GgufTokenizers() {}

    /** The pre-tokeniser names this reader knows. */
    public static final List<String> PRE_TOKENIZERS = List.of("default", "gpt-2", "llama-bpe", "llama3", "qwen2", "smollm", "starcoder");

    /** Reads the tokenizer of {@code g}. */
    public static Tokenizer read(GgufFile g) throws GgufFormatException {
        String model = g.string("tokenizer.ggml.model", null);
        String[] tokens = g.array("tokenizer.ggml.tokens", String[].class);
        if (tokens == null) throw new GgufFormatException(g.path() + ": metadata 'tokenizer.ggml.tokens': missing");
        int[] types = g.array("tokenizer.ggml.token_type", int[].class);
        if (types != null && types.length != tokens.length) {
            throw new GgufFormatException(g.path() + ": metadata 'tokenizer.ggml.token_type': expected " + tokens.length + " entries (one per token), got " + types.length);
        }
        try {
            return switch (model) {
                case "gpt2" -> byteLevel(g, tokens, types);
                case "llama" -> sentencePiece(g, tokens, types);
                default -> throw new GgufFormatException(g.path() + ": metadata 'tokenizer.ggml.model': expected gpt2 or llama, got '" + model + "'");
            };
        } catch (IllegalArgumentException e) {
            throw new GgufFormatException(g.path() + ": tokenizer: " + e.getMessage());
        }
    }

    private static Tokenizer byteLevel(GgufFile g, String[] tokens, int[] types) throws GgufFormatException {
        String pre = g.string("tokenizer.ggml.pre", "default");
        PreTokenizer split;
        boolean nfc = false, ignoreMerges = false;
        switch (pre) {
            case "default", "gpt-2" -> split = RegexPreTokenizer.GPT2;
            case "llama-bpe", "llama3" -> {
                split = new RegexPreTokenizer(RegexPreTokenizer.LLAMA3_PATTERN);
                ignoreMerges = true; // Llama 3's tokenizer.json sets ignore_merges
            }
            case "qwen2" -> {
                split = new RegexPreTokenizer(RegexPreTokenizer.QWEN2_PATTERN);
                nfc = true;
            }
            case "smollm", "starcoder" -> split = SequencePreTokenizer.DIGITS_THEN_GPT2;
            default -> throw new GgufFormatException(g.path() + ": metadata 'tokenizer.ggml.pre': '" + pre + "' is not supported; supported: " + PRE_TOKENIZERS);
        }
        String[] mergeLines = g.array("tokenizer.ggml.merges", String[].class);
        if (mergeLines == null) throw new GgufFormatException(g.path() + ": metadata 'tokenizer.ggml.merges': missing (a gpt2 tokenizer needs merges)");
        Map<String, Integer> vocab = new LinkedHashMap<>();
        List<ByteLevelBpe.AddedToken> added = new ArrayList<>();
        for (int id = 0; id < tokens.length; id++) {
            int type = types == null ? 1 : types[id];
            if (type == 3 || type == 4) added.add(new ByteLevelBpe.AddedToken(id, tokens[id], type == 3));
            else vocab.putIfAbsent(tokens[id], id);
        }
        List<String[]> merges = new ArrayList<>(mergeLines.length);
        for (int i = 0; i < mergeLines.length; i++) {
            String m = mergeLines[i];
            int sp = m.indexOf(' ', 1);
            if (sp <= 0 || sp == m.length() - 1) throw new GgufFormatException(g.path() + ": metadata 'tokenizer.ggml.merges'[" + i + "]: expected 'left right', got '" + m + "'");
            merges.add(new String[] {m.substring(0, sp), m.substring(sp + 1)});
        }
        return new ByteLevelBpe(vocab, merges, added, split, false, nfc, ignoreMerges);
    }

    private static Tokenizer sentencePiece(GgufFile g, String[] tokens, int[] types) throws GgufFormatException {
        float[] scores = g.array("tokenizer.ggml.scores", float[].class);
        if (scores == null) throw new GgufFormatException(g.path() + ": metadata 'tokenizer.ggml.scores': missing (a llama tokenizer needs scores)");
        SentencePieceBpe.Kind[] kinds = new SentencePieceBpe.Kind[tokens.length];
        SentencePieceBpe.Kind[] all = SentencePieceBpe.Kind.values();
        for (int i = 0; i < tokens.length; i++) {
            int t = types == null ? 1 : types[i];
            if (t < 0 || t >= all.length) throw new GgufFormatException(g.path() + ": metadata 'tokenizer.ggml.token_type'[" + i + "]: expected 0..6, got " + t);
            kinds[i] = all[t];
        }
        return new SentencePieceBpe(tokens, scores, kinds, g.bool("tokenizer.ggml.add_space_prefix", true));
    }
}
