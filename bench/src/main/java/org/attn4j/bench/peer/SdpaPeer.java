package org.attn4j.bench.peer;

/**
 * A peer implementation of scaled-dot-product attention (another library) that {@code attn4j bench}
 * times side by side with attn4j. Implementations are found with {@link java.util.ServiceLoader};
 * they live in the optional {@code peers} module (Maven profile {@code -Ppeers}).
 */
public interface SdpaPeer {
    /** Short name shown in the benchmark table, e.g. {@code pytorch}. */
    String name();

    /** Version string of the peer library, for the table and JSON. */
    String version();

    /**
     * Copies the inputs into the peer's own memory once, so that {@link Prepared#run()} times only the
     * attention call. Layout of every array: row-major {@code [B, H, N, D]}; {@code k} and {@code v}
     * have {@code Hkv} heads ({@code Hq % Hkv == 0}). {@code causal} is top-left aligned when Nq == Nk
     * (the only case the default benchmark shapes use with causal masking). The scale is 1/sqrt(D).
     *
     * @param threads the intra-op thread count the peer must use (same as attn4j's in the same row)
     */
    Prepared prepare(float[] q, float[] k, float[] v, int b, int hq, int hkv, int nq, int nk, int d, int dv,
                     boolean causal, int threads);

    /** Prepared inputs for one shape. */
    interface Prepared extends AutoCloseable {
        /** Runs attention once and waits for the result. */
        void run();

        /** The last run's output, row-major {@code [B, Hq, Nq, Dv]}. */
        float[] output();

        @Override
        void close();
    }
}
