package org.attn4j.core.simd;

/**
 * Products with int8-quantised rows (ggml's Q8_0 layout unpacked: one signed byte per weight and one
 * float scale per block of 32 consecutive weights of a row, {@code w = d·q}). The activations stay
 * float32; a row is dequantised on the fly, so the weights cross the memory bus as one byte each.
 * {@link #get()} is the Vector API implementation when {@link MicroKernels#get()} is one, else the
 * scalar twin {@link #scalar()}.
 */
public interface Q8Kernels {

    /** Weights per scale. */
    int BLOCK = 32;

    /**
     * {@code y[yOff + r] = Σ_{c<n} x[xOff + c] · d[dOff + r·n/32 + c/32] · q[qOff + r·n + c]} for
     * r &lt; rows: a GEMV over {@code rows} rows of {@code n} weights ({@code n % 32 == 0}).
     */
    void gemv(int rows, int n, byte[] q, int qOff, float[] d, int dOff, float[] x, int xOff, float[] y, int yOff);

    /** The implementation chosen at start-up. */
    static Q8Kernels get() { return Q8KernelsProvider.INSTANCE; }

    /** The scalar twin, always available (tests compare against it). */
    static Q8Kernels scalar() { return ScalarQ8Kernels.INSTANCE; }
}
