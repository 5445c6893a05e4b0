package org.attn4j.train.layers;

import java.util.Arrays;
import org.attn4j.train.Parameters;

/**
 * RMS normalisation (Zhang &amp; Sennrich 2019, Llama's norm) over the last dimension:
 * {@code y = x·rstd·γ} with {@code rstd = 1/sqrt(mean(x²) + eps)}; no centring, no bias. Rows are
 * {@code [rows, C]} row-major; {@code γ} ({@code prefix.weight}) is {@code [C]}.
 *
 * <p>The forward keeps each row's rstd. The backward, per row with {@code n = x·rstd} and
 * {@code g = dy·γ}: {@code dx += rstd·(g − n·mean(g·n))}, {@code dγ += dy·n} (LayerNorm's formula
 * without the mean terms, which RMSNorm does not subtract).
 *
 * <p>Determinism as in {@link LayerNorm} ({@link NormRows}): fixed row blocks, per-block partials of
 * {@code dγ} added in block order.
 */
public final class RmsNorm implements Normalization {
    private final Parameters params;
    private final Parameters.Param gamma;
    private final int c, threads;
    private final float eps;
    private final float[] output, rstd, partials;
    private float[] input;
    private int rows;

    /** Declares {@code prefix.weight} (γ, initialised by the model to 1), {@code [C]}, without weight decay. */
    public static void declare(Parameters.Builder b, String prefix, int c) {
        b.add(prefix + ".weight", false, c);
    }

    public RmsNorm(Parameters params, String prefix, int maxRows, float eps, int threads) {
        this.params = params;
        this.gamma = params.get(prefix + ".weight");
        this.c = gamma.dim(0);
        this.eps = eps;
        this.threads = threads;
        this.output = new float[Math.multiplyExact(maxRows, c)];
        this.rstd = new float[maxRows];
        this.partials = new float[NormRows.blocks(maxRows) * c];
    }

    @Override
    public float[] forward(float[] x, int rows) {
        if (rows > rstd.length) throw new IllegalArgumentException("rows: at most " + rstd.length + ", got " + rows);
        this.input = x;
        this.rows = rows;
        float[] p = params.values();
        int gOff = gamma.offset();
        NormRows.forEach(threads, rows, (r, block) -> {
            int o = r * c;
            float ss = 0f;
            for (int i = 0; i < c; i++) ss += x[o + i] * x[o + i];
            float s = (float) (1.0 / Math.sqrt(ss / c + eps));
            for (int i = 0; i < c; i++) output[o + i] = x[o + i] * s * p[gOff + i];
            rstd[r] = s;
        });
        return output;
    }

    @Override
    public void backward(float[] dOut, float[] dInput) {
        float[] p = params.values(), x = input;
        int gOff = gamma.offset(), blocks = NormRows.blocks(rows);
        Arrays.fill(partials, 0, blocks * c, 0f);
        // LayerNorm's row backward without centring: the mean is 0 and mean(g) is not subtracted
        NormRows.forEach(threads, rows, (r, block) -> NormRows.backwardRow(x, dOut, dInput, p, gOff, r * c, c, 0f, rstd[r], false,
                partials, block * c, -1));
        NormRows.addPartials(partials, blocks, c, params.grads(), gOff);
    }
}
