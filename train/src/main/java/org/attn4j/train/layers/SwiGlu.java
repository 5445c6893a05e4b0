package org.attn4j.train.layers;

import org.attn4j.core.parallel.Parallel;

/**
 * The gated unit of a SwiGLU MLP (Shazeer 2020, Llama's MLP), on a fused input whose row r holds
 * the gate pre-activation then the up projection, each {@code hidden} wide:
 * <pre>
 *   in  [rows, 2·hidden]:  a = in[r, 0 .. hidden),  b = in[r, hidden .. 2·hidden)
 *   out [rows, hidden]  :  silu(a)·b,   silu(a) = a·σ(a)
 * </pre>
 * Backward: {@code da += dy·b·silu'(a)} with {@code silu'(a) = σ(a)·(1 + a·(1 − σ(a)))},
 * {@code db += dy·silu(a)}. The forward keeps a reference to its input and recomputes σ from it.
 */
public final class SwiGlu {
    private static final int ROW_CHUNK = 32;

    private final float[] output;
    private final int hidden, threads;
    private float[] input;
    private int rows;

    /** @param maxRows the most rows a forward will see; {@code hidden} the width of the output */
    public SwiGlu(int maxRows, int hidden, int threads) {
        this.output = new float[Math.multiplyExact(maxRows, hidden)];
        this.hidden = hidden;
        this.threads = threads;
    }

    /** {@code out = silu(a)·b} row by row; returns the output buffer {@code [rows, hidden]}. */
    public float[] forward(float[] in, int rows) {
        if (Math.multiplyExact(rows, hidden) > output.length) throw new IllegalArgumentException("rows: at most " + output.length / hidden + ", got " + rows);
        this.input = in;
        this.rows = rows;
        int h = hidden;
        Parallel.forEach(threads, (rows + ROW_CHUNK - 1) / ROW_CHUNK, t -> null, (item, unused) -> {
            for (int r = item * ROW_CHUNK, end = Math.min(rows, r + ROW_CHUNK); r < end; r++) {
                int a0 = r * 2 * h, o = r * h;
                for (int i = 0; i < h; i++) {
                    float a = in[a0 + i];
                    output[o + i] = a * sigmoid(a) * in[a0 + h + i];
                }
            }
        });
        return output;
    }

    /** Accumulates {@code dInput [rows, 2·hidden] += ∂loss/∂in} for {@code dOut [rows, hidden]}. */
    public void backward(float[] dOut, float[] dInput) {
        float[] in = input;
        int h = hidden;
        Parallel.forEach(threads, (rows + ROW_CHUNK - 1) / ROW_CHUNK, t -> null, (item, unused) -> {
            for (int r = item * ROW_CHUNK, end = Math.min(rows, r + ROW_CHUNK); r < end; r++) {
                int a0 = r * 2 * h, o = r * h;
                for (int i = 0; i < h; i++) {
                    float a = in[a0 + i], b = in[a0 + h + i], s = sigmoid(a), dy = dOut[o + i];
                    dInput[a0 + i] += dy * b * s * (1f + a * (1f - s));
                    dInput[a0 + h + i] += dy * a * s;
                }
            }
        });
    }

    private static float sigmoid(float a) {
        return (float) (1.0 / (1.0 + Math.exp(-a)));
    }
}
