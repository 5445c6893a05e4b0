package org.attn4j.train.layers;

import org.attn4j.train.Parameters;

/**
 * Layer normalisation over the last dimension: {@code y = (x − mean)·rstd·γ + β} with
 * {@code rstd = 1/sqrt(var + eps)} and the population variance. Rows are {@code [rows, C]} row-major;
 * {@code γ} ({@code prefix.weight}) and {@code β} ({@code prefix.bias}) are {@code [C]}.
 *
 * <p>The forward keeps each row's mean and rstd for the backward. The backward is the standard
 * three-term formula (per row, with {@code n = (x − mean)·rstd} and {@code g = dy·γ}):
 * {@code dx += rstd·(g − mean(g) − n·mean(g·n))}, {@code dγ += dy·n}, {@code dβ += dy}.
 *
 * <p>Determinism ({@link NormRows}): rows are processed in fixed blocks; {@code dγ} and {@code dβ}
 * are summed per block into a partial and the partials are added in block order, so the result does
 * not depend on the thread count or on which thread ran which block.
 */
public final class LayerNorm implements Normalization {
    private final Parameters params;
    private final Parameters.Param gamma, beta;
    private final int c, threads;
    private final float eps;
    private final float[] output, mean, rstd;
    private final float[] partials;
    private float[] input;
    private int rows;

    /** Declares {@code prefix.weight} (γ, initialised by the model to 1) and {@code prefix.bias} (β), both {@code [C]}, without weight decay. */
    public static void declare(Parameters.Builder b, String prefix, int c) {
        b.add(prefix + ".weight", false, c);
        b.add(prefix + ".bias", false, c);
    }

    public LayerNorm(Parameters params, String prefix, int maxRows, float eps, int threads) {
        this.params = params;
        this.gamma = params.get(prefix + ".weight");
        this.beta = params.get(prefix + ".bias");
        this.c = gamma.dim(0);
        this.eps = eps;
        this.threads = threads;
        this.output = new float[Math.multiplyExact(maxRows, c)];
        this.mean = new float[maxRows];
        this.rstd = new float[maxRows];
        this.partials = new float[NormRows.blocks(maxRows) * 2 * c];
    }

    /** Normalises {@code rows} rows of {@code x} ({@code [rows, C]}); returns the output buffer ({@code [rows, C]}). Keeps {@code x} for the backward. */
    @Override
    public float[] forward(float[] x, int rows) {
        if (rows > mean.length) throw new IllegalArgumentException("rows: at most " + mean.length + ", got " + rows);
        this.input = x;
        this.rows = rows;
        float[] p = params.values();
        int gOff = gamma.offset(), bOff = beta.offset();
        NormRows.forEach(threads, rows, (r, block) -> {
            int o = r * c;
            float m = 0f;
            for (int i = 0; i < c; i++) m += x[o + i];
            m /= c;
            float v = 0f;
            for (int i = 0; i < c; i++) {
                float d = x[o + i] - m;
                v += d * d;
            }
            v /= c;
            float s = (float) (1.0 / Math.sqrt(v + eps));
            for (int i = 0; i < c; i++) output[o + i] = (x[o + i] - m) * s * p[gOff + i] + p[bOff + i];
            mean[r] = m;
            rstd[r] = s;
        });
        return output;
    }

    /** Accumulates {@code dInput += ∂loss/∂x} and the γ, β gradients for {@code dOut} = ∂loss/∂y ({@code [rows, C]}). */
    @Override
    public void backward(float[] dOut, float[] dInput) {
        float[] p = params.values(), x = input;
        int gOff = gamma.offset(), blocks = NormRows.blocks(rows);
        java.util.Arrays.fill(partials, 0, blocks * 2 * c, 0f);
        // each block's partial is [dγ | dβ]
        NormRows.forEach(threads, rows, (r, block) -> NormRows.backwardRow(x, dOut, dInput, p, gOff, r * c, c, mean[r], rstd[r], true,
                partials, block * 2 * c, block * 2 * c + c));
        NormRows.addPartials(partials, blocks, c, params.grads(), gOff, beta.offset());
    }
}
