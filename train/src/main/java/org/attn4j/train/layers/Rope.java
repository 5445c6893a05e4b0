package org.attn4j.train.layers;

import org.attn4j.core.parallel.Parallel;

/**
 * Rotary position embedding (Su et al. 2021, RoFormer) in the rotate-half pairing of GPT-NeoX and
 * Hugging Face's Llama: within each head of size D, element i (i &lt; D/2) and element i + D/2 of the
 * vector at position t are rotated by the angle {@code t·θ_i}, {@code θ_i = base^(−2i/D)}:
 * <pre>
 *   x'[i]       = x[i]·cos − x[i + D/2]·sin
 *   x'[i + D/2] = x[i]·sin + x[i + D/2]·cos
 * </pre>
 * Applied to q and k only, q·k then depends on positions through their difference alone. The
 * rotation is orthogonal, so its backward is the rotation by the opposite angle (the transpose).
 * The angles are computed once in float64 and stored as float32 cos/sin tables {@code [T, D/2]}.
 */
public final class Rope {
    private static final int ROW_BLOCK = 64;
    /** Llama's (and RoFormer's) base. */
    public static final double BASE = 10000.0;

    private final int seqLen, headDim, half;
    private final float[] cos, sin;

    public Rope(int seqLen, int headDim) {
        if (headDim <= 0 || headDim % 2 != 0) throw new IllegalArgumentException("headDim: RoPE needs an even head dimension, got " + headDim);
        this.seqLen = seqLen;
        this.headDim = headDim;
        this.half = headDim / 2;
        this.cos = new float[seqLen * half];
        this.sin = new float[seqLen * half];
        for (int t = 0; t < seqLen; t++) {
            for (int i = 0; i < half; i++) {
                double angle = t * Math.pow(BASE, -2.0 * i / headDim);
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /**
     * Rotates in place every head vector of {@code heads} heads in {@code [batch·T, stride]} rows of
     * {@code a}: head h of row r starts at {@code offset + r·stride + h·D}; row r is position r mod T.
     * {@code inverse} rotates by the opposite angle (the backward). Rows are split into fixed blocks
     * on {@code threads} workers; each element is written by one of them.
     */
    public void apply(float[] a, int offset, int stride, int rows, int heads, boolean inverse, int threads) {
        Parallel.forEach(threads, (rows + ROW_BLOCK - 1) / ROW_BLOCK, w -> null, (item, unused) -> {
            for (int r = item * ROW_BLOCK, end = Math.min(rows, r + ROW_BLOCK); r < end; r++) rotateRow(a, offset, stride, r, heads, inverse);
        });
    }

    private void rotateRow(float[] a, int offset, int stride, int r, int heads, boolean inverse) {
        int t = (r % seqLen) * half;
        for (int h = 0; h < heads; h++) {
            int base = offset + r * stride + h * headDim;
            for (int i = 0; i < half; i++) {
                float c = cos[t + i], s = inverse ? -sin[t + i] : sin[t + i];
                float x0 = a[base + i], x1 = a[base + half + i];
                a[base + i] = x0 * c - x1 * s;
                a[base + half + i] = x0 * s + x1 * c;
            }
        }
    }
}
