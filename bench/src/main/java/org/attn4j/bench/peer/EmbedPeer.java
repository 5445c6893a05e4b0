package org.attn4j.bench.peer;

/**
 * A peer runtime for a BERT-family ONNX model (e.g. ONNX Runtime) that {@code attn4j bench embed}
 * times beside attn4j's encoder. Found with {@link java.util.ServiceLoader} in the optional
 * {@code peers} module.
 */
public interface EmbedPeer {
    String name();

    String version();

    /**
     * Loads the model and the inputs once. {@code ids} is {@code [batch][tokens]} (all rows the same
     * length: attention mask all ones, token types all zero).
     *
     * @param threads intra-op threads the peer must use
     */
    Prepared prepare(byte[] onnxModel, int[][] ids, int threads);

    /** A loaded model with its inputs. */
    interface Prepared extends AutoCloseable {
        /** One forward pass; the result is kept for {@link #lastHiddenState()}. */
        void run();

        /** The last run's last_hidden_state, {@code [batch][tokens][hidden]}. */
        float[][][] lastHiddenState();

        @Override
        void close();
    }
}
