package org.attn4j.train.layers;

import org.attn4j.core.parallel.Parallel;

/**
 * What {@link LayerNorm} and {@link RmsNorm} share: rows taken in fixed blocks of {@link #ROW_BLOCK}
 * (in parallel), the backward of one row, and the per-block partial sums of the γ/β gradients,
 * added in block order so that the result does not depend on the thread count or on which thread
 * ran which block. Rows are {@code [rows, C]} row-major.
 */
final class NormRows {
    static final int ROW_BLOCK = 64;

    private NormRows() {}

    /** Blocks of {@link #ROW_BLOCK} rows needed for {@code rows} rows. */
    static int blocks(int rows) { return (rows + ROW_BLOCK - 1) / ROW_BLOCK; }

    /** One row's work: row {@code r}, which lies in block {@code block}. */
    @FunctionalInterface
    interface Row {
        void run(int r, int block);
    }

    /** Runs {@code row} for rows {@code [0, rows)}, one block per work item on up to {@code threads} threads. */
    static void forEach(int threads, int rows, Row row) {
        Parallel.forEach(threads, blocks(rows), t -> null, (item, unused) -> {
            for (int r = item * ROW_BLOCK, end = Math.min(rows, r + ROW_BLOCK); r < end; r++) row.run(r, item);
        });
    }

    /**
     * The backward of one normalised row starting at {@code o}, with {@code n = (x − mean)·rstd} and
     * {@code g = dy·γ}: {@code dx += rstd·(g − mean(g) − n·mean(g·n))} when {@code centred} (LayerNorm),
     * {@code dx += rstd·(g − n·mean(g·n))} otherwise (RMSNorm, where {@code mean} is 0). Adds
     * {@code dy·n} to {@code partials[dGamma..+C)} and, when {@code dBeta >= 0}, {@code dy} to
     * {@code partials[dBeta..+C)}.
     */
    static void backwardRow(float[] x, float[] dOut, float[] dInput, float[] p, int gOff, int o, int c, float mean, float rstd,
                            boolean centred, float[] partials, int dGamma, int dBeta) {
        // the two means of the dx formula: mean(g) and mean(g·n)
        float gMean = 0f, gnMean = 0f;
        for (int i = 0; i < c; i++) {
            float n = (x[o + i] - mean) * rstd;
            float gi = dOut[o + i] * p[gOff + i];
            gMean += gi;
            gnMean += gi * n;
        }
        gMean = centred ? gMean / c : 0f;
        gnMean /= c;
        for (int i = 0; i < c; i++) {
            float n = (x[o + i] - mean) * rstd;
            float gi = dOut[o + i] * p[gOff + i];
            dInput[o + i] += rstd * (gi - gMean - n * gnMean);
            partials[dGamma + i] += dOut[o + i] * n;
            if (dBeta >= 0) partials[dBeta + i] += dOut[o + i];
        }
    }

    /**
     * Adds the partials of {@code blocks} blocks, each {@code offsets.length} runs of {@code c} floats
     * (run j of a block belongs at {@code grads[offsets[j]..+C)}), in block order.
     */
    static void addPartials(float[] partials, int blocks, int c, float[] grads, int... offsets) {
        int width = offsets.length * c;
        for (int blk = 0; blk < blocks; blk++) {
            for (int j = 0; j < offsets.length; j++) {
                int part = blk * width + j * c, to = offsets[j];
                for (int i = 0; i < c; i++) grads[to + i] += partials[part + i];
            }
        }
    }
}
