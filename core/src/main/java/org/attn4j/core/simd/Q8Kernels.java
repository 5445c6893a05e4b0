package org.attn4j.core.simd;

/**
 * Products with int8-quantised rows (ggml's Q8_0 layout unpacked: one signed byte per weight and one
 * float scale per block of 32 consecutive weights of a row, {@code w = d·q}), so the weights cross the
 * memory bus as one byte each. Two forms:
 * <ul>
 * <li>{@link #gemv}: float32 activations, each weight widened to float on the fly (the reference);</li>
 * <li>{@link #gemmQ8}: activations quantised to Q8_0 blocks first ({@link #quantizeActivations}, as
 *     llama.cpp does), then int8 × int8 block sums in integers, scaled once per block by
 *     {@code d_w·d_x}. Cheaper per weight, and it changes the numerics by the activation rounding.</li>
 * </ul>
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

    /**
     * {@link #gemv} for {@code t} activation rows at once, each weight block widened once for all of
     * them: {@code y[yOff + i·ldy + r] = Σ_{c<n} x[xOff + i·n + c] · d[dOff + r·n/32 + c/32] · q[qOff + r·n + c]}
     * for tokens i &lt; t, rows r &lt; rows. The weights are scaled before the products here, so results
     * differ from {@link #gemv}'s in float rounding only.
     */
    void gemm(int t, int rows, int n, byte[] q, int qOff, float[] d, int dOff, float[] x, int xOff, float[] y, int yOff, int ldy);

    /**
     * Rows of int8 weights times Q8_0-quantised activations, for {@code t} activation rows at once (each
     * weight block is loaded once for all of them):
     * {@code y[yOff + i·ldy + r] = Σ_b (d[dOff + r·n/32 + b]·dx[i·n/32 + b]) · Σ_{j<32} q[qOff + r·n + 32b + j]·xq[i·n + 32b + j]}
     * for tokens i &lt; t and rows r &lt; rows ({@code n % 32 == 0}). {@code xq} holds values in
     * [−127, 127] (as {@link #quantizeActivations} writes them), so every pair of products fits 16 bits;
     * the block sums are exact integers, only the scaling and the sum over blocks round.
     */
    void gemmQ8(int t, int rows, int n, byte[] q, int qOff, float[] d, int dOff, short[] xq, float[] dx, float[] y, int yOff, int ldy);

    /**
     * Quantises {@code t} rows of {@code n} activations ({@code x[xOff + i·n + c]}, {@code n % 32 == 0})
     * to Q8_0 blocks as llama.cpp's x86 code does: per block of 32, {@code amax = max|x|},
     * {@code xq = round-half-even(x·127/amax)} in [−127, 127] into {@code xq[i·n + c]}, and the scale
     * {@code amax/127} rounded to float16 into {@code dx[i·n/32 + c/32]} (0 and all-zero quanta for an
     * all-zero block). Error per value: {@code |x − dx·xq| ≤ (1/2 + 127·2⁻¹¹)·amax/127} while the
     * scale is a normal float16 (amax/127 ≥ 2⁻¹⁴).
     */
    static void quantizeActivations(float[] x, int xOff, int t, int n, short[] xq, float[] dx) {
        if (n % BLOCK != 0) throw new IllegalArgumentException("n: expected a multiple of " + BLOCK + ", got " + n);
        int blocks = n / BLOCK;
        for (int i = 0; i < t; i++) {
            for (int b = 0; b < blocks; b++) {
                int at = xOff + i * n + b * BLOCK, to = i * n + b * BLOCK;
                float amax = 0;
                for (int j = 0; j < BLOCK; j++) amax = Math.max(amax, Math.abs(x[at + j]));
                float id = amax != 0 ? 127f / amax : 0f;
                dx[i * blocks + b] = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
                for (int j = 0; j < BLOCK; j++) xq[to + j] = (short) Math.rint(x[at + j] * id);
            }
        }
    }

    /** The implementation chosen at start-up. */
    static Q8Kernels get() { return Q8KernelsProvider.INSTANCE; }

    /** The scalar twin, always available (tests compare against it). */
    static Q8Kernels scalar() { return ScalarQ8Kernels.INSTANCE; }
}
