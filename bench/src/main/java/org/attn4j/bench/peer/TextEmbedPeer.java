package org.attn4j.bench.peer;

import java.util.List;

/**
 * A peer that embeds texts end to end (tokenizer, encoder, pooling, normalisation), e.g. langchain4j's
 * ONNX Runtime {@code AllMiniLmL6V2EmbeddingModel}, which {@code attn4j bench embed-texts} times beside
 * attn4j's all-MiniLM-L6-v2 {@code Embedder}. Found with {@link java.util.ServiceLoader} in the optional
 * {@code peers} module.
 */
public interface TextEmbedPeer {
    String name();

    String version();

    /**
     * Loads the model once.
     *
     * @param threads   how many threads the peer may use (as far as its API lets us bound it: the
     *                  implementation says how in {@link Loaded#threadNote()})
     * @param batchSize texts per forward pass, for peers that batch
     */
    Loaded load(int threads, int batchSize);

    /** A loaded model. */
    interface Loaded extends AutoCloseable {
        /** One embedding per text, in order, {@code [texts][dimension]}. */
        float[][] embed(List<String> texts);

        /** How the thread count was applied, for the report. */
        String threadNote();

        @Override
        void close();
    }
}
