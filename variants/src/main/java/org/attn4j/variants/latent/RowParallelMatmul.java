package org.attn4j.variants.latent;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;

/**
 * Row-parallel dense products used by the projection stages of the latent and recurrent variants:
 * {@code out[m×n] = a[m×k] · w[k×n] (+ bias)}, all row-major. Rows are split into fixed blocks, so
 * each output element is computed the same way whatever the thread count.
 */
public final class RowParallelMatmul {
    private static final int ROWS = 64;

    private RowParallelMatmul() {}

    /** {@code out = a · w + bias} (bias may be null); returns the FLOPs executed (2·m·k·n). */
    public static long matmul(int threads, float[] a, int m, int k, float[] w, int n, float[] bias, float[] out) {
        if (a.length < (long) m * k || w.length < (long) k * n || out.length < (long) m * n) {
            throw new IllegalArgumentException("matmul: arrays too small for " + m + "x" + k + " · " + k + "x" + n);
        }
        int blocks = (m + ROWS - 1) / ROWS;
        MicroKernels mk = MicroKernels.get();
        Parallel.forEach(Math.max(1, Math.min(Parallel.resolveThreads(threads), blocks)), blocks, wk -> null, (blk, s) -> {
            int r0 = blk * ROWS, rows = Math.min(ROWS, m - r0);
            mk.gemm(rows, n, k, a, r0 * k, k, 1, w, 0, n, out, r0 * n, n, false);
            if (bias != null) for (int r = r0; r < r0 + rows; r++) for (int j = 0; j < n; j++) out[r * n + j] += bias[j];
        });
        return 2L * m * k * n;
    }

    /** {@code a · w} into a fresh array. */
    public static float[] matmul(int threads, float[] a, int m, int k, float[] w, int n) {
        float[] out = new float[m * n];
        matmul(threads, a, m, k, w, n, null, out);
        return out;
    }
}
