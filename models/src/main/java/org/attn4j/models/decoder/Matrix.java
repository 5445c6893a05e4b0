package org.attn4j.models.decoder;

/**
 * A weight matrix {@code [rows, cols]}, one row per output (the layout of GGUF tensors and of
 * {@code nn.Linear}), held as float32 ({@link FloatMatrix}) or int8 blocks ({@link Q8Matrix}).
 */
public sealed interface Matrix permits FloatMatrix, Q8Matrix {
    int rows();

    int cols();

    /**
     * {@code y[i·ldy + r] = Σ_c x[i·cols + c] · W[r][c]} for tokens i &lt; t and rows r in
     * {@code [r0, r1)}: part of {@code x·Wᵀ}, so that threads can split the rows.
     */
    void multiply(float[] x, int t, float[] y, int ldy, int r0, int r1);

    /** Row {@code r} as floats into {@code dst[off..off+cols)} (an embedding lookup). */
    void row(int r, float[] dst, int off);

    /** Rows {@code [r0, r1)} as a matrix of the same kind (GPT-2's fused QKV split). */
    Matrix rows(int r0, int r1);

    /** Every element as float32, row-major (dequantised for Q8). */
    float[] toFloats();

    /** Bytes the weights occupy in memory. */
    long bytes();
}
