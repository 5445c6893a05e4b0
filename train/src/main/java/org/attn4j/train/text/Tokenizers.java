package org.attn4j.train.text;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attn4j.models.tokenizer.bpe.ByteLevel;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.models.tokenizer.bpe.TokenizerJson;

/**
 * The tokenizer of the {@code lm} task, by specification:
 * <ul>
 *   <li>{@code byte}: the 256 bytes (id = byte value) and {@code <|endoftext|>} = 256; vocabulary 257;</li>
 *   <li>{@code bpe:N}: byte-level BPE with N ids learned from the training documents ({@link BpeTrainer});</li>
 *   <li>a path ending in {@code .json}: an existing byte-level BPE {@code tokenizer.json}.</li>
 * </ul>
 */
public final class Tokenizers {
    private Tokenizers() {}

    /** Throws IllegalArgumentException naming {@code tokenizer} unless {@code spec} is one of the forms above. */
    public static void validate(String spec) {
        if (spec == null) throw new IllegalArgumentException("tokenizer: expected byte, bpe:N or a tokenizer.json path, got none");
        if (spec.equals("byte") || spec.endsWith(".json")) return;
        if (spec.startsWith("bpe:")) {
            int n;
            try {
                n = Integer.parseInt(spec.substring(4));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("tokenizer: expected bpe:N with an integer N, got '" + spec + "'");
            }
            if (n < 257) throw new IllegalArgumentException("tokenizer: bpe:N needs N >= 257 (256 bytes and <|endoftext|>), got " + n);
            return;
        }
        throw new IllegalArgumentException("tokenizer: expected byte, bpe:N or a tokenizer.json path, got '" + spec + "'");
    }

    /** The tokenizer {@code spec} names; {@code bpe:N} learns from {@code trainingDocuments} only. */
    public static ByteLevelBpe resolve(String spec, List<Document> trainingDocuments) throws IOException {
        validate(spec);
        if (spec.equals("byte")) return bytes();
        if (spec.endsWith(".json")) {
            ByteLevelBpe t = TokenizerJson.read(Path.of(spec));
            if (t.id(BpeTrainer.END_OF_TEXT) < 0) throw new IllegalArgumentException("tokenizer: " + spec + " has no " + BpeTrainer.END_OF_TEXT + " token to separate documents");
            return t;
        }
        List<String> texts = new ArrayList<>(trainingDocuments.size());
        for (Document d : trainingDocuments) texts.add(d.text());
        return BpeTrainer.train(texts, Integer.parseInt(spec.substring(4)));
    }

    /** The byte-level vocabulary: 256 bytes and {@code <|endoftext|>}. */
    public static ByteLevelBpe bytes() {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevel.charOf(b)), b);
        return ByteLevelBpe.gpt2Style(vocab, List.of(), List.of(new ByteLevelBpe.AddedToken(256, BpeTrainer.END_OF_TEXT, true)));
    }
}
