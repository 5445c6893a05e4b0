package org.attn4j.bench.peer;

/**
 * A peer implementation of scaled-dot-product attention <em>with its backward pass</em> (another
 * library's autograd), timed by {@code attn4j bench sdpa --backward} beside attn4j's backward. A
 * sibling of {@link SdpaPeer} (forward only), found the same way with
 * {@link java.util.ServiceLoader}; a peer library may provide both.
 */
public interface SdpaGradPeer {
    /** Short name shown in the benchmark table, e.g. {@code pytorch}. */
    String name();

    /** Version string of the peer library, for the table and JSON. */
    String version();

    /**
     * Copies the inputs into the peer's own memory once, so that the timed calls do only the
     * attention work. Layouts and conventions are those of {@link SdpaPeer#prepare}: row-major
     * {@code [B, H, N, D]}, {@code k} and {@code v} with {@code Hkv} heads, causal top-left aligned,
     * scale 1/sqrt(D).
     *
     * @param dOut    the gradient of the loss with respect to the output, {@code [B, Hq, Nq, Dv]}
     * @param threads the intra-op thread count the peer must use (same as attn4j's in the same row)
     */
    Prepared prepare(float[] q, float[] k, float[] v, float[] dOut, int b, int hq, int hkv, int nq, int nk, int d, int dv,
                     boolean causal, int threads);

    /** Prepared inputs for one shape. */
    interface Prepared extends AutoCloseable {
        /** The forward (recording what the backward needs) and the backward for dOut; keeps the gradients. */
        void forwardBackward();

        /**
         * The forward only, recording a fresh graph for the next {@link #backward()}: the untimed
         * half of a "backward alone" measurement.
         */
        void forward();

        /** The backward of the graph the last {@link #forward()} recorded (and consumed by this call); keeps the gradients. */
        void backward();

        /** dQ of the last backward, row-major {@code [B, Hq, Nq, D]}. */
        float[] dq();

        /** dK of the last backward, row-major {@code [B, Hkv, Nk, D]}. */
        float[] dk();

        /** dV of the last backward, row-major {@code [B, Hkv, Nk, Dv]}. */
        float[] dv();

        /**
         * What the peer's backward ran, as the peer names it (for PyTorch: the autograd node of the
         * attention op, e.g. {@code ScaledDotProductFlashAttentionForCpuBackward0}); valid after a forward.
         */
        String backwardKernel();

        @Override
        void close();
    }
}
