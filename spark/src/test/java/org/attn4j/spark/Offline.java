package org.attn4j.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.attn4j.models.embed.Embedder;
import org.attn4j.models.tokenizer.Encoding;

/** What `attn4j embed` computes on one machine (same Embedder, its default batch of 32, all threads). */
public final class Offline {
    private static Embedder model;

    private Offline() {}

    public static synchronized Embedder model(Integer maxTokens) {
        try {
            if (model == null) model = Embedder.load(Embedder.MINILM);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return maxTokens == null ? model : model.withMaxTokens(maxTokens);
    }

    public static float[][] embed(List<String> texts, Integer maxTokens) {
        return model(maxTokens).withBatchSize(32).embed(texts);
    }

    public static Encoding encode(String text, Integer maxTokens) {
        Embedder m = model(maxTokens);
        return m.tokenizer().encode(text, m.maxTokens());
    }
}
