package org.attn4j.variants.heads;

import java.util.concurrent.atomic.AtomicLong;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Shapes;

/**
 * Shared machinery of the head-mixing variants that must materialise score maps: the inputs
 * copied once per (batch, head) into GEMM-friendly layouts (Q pre-scaled row-major N×D, K
 * transposed D×N, V row-major N×Dv), the two products done with {@link MicroKernels#gemm}, and a
 * masked row softmax.
 *
 * <p>Memory: callers process query rows in blocks of {@link #blockRows} rows, so a score buffer
 * holds at most {@code blockRows · N} floats per head, {@code O(blockRows · N · H)} per worker, never
 * the whole {@code N × N × H} tensor.
 */
final class HeadBlocks {
    /** Upper bound on the floats one worker's score buffers may hold (per map), ~4 MiB. */
    static final int MAX_BLOCK_FLOATS = 1 << 20;

    final int batch, heads, n, d, dv;
    /** Index {@code b·H + h}: Q·scale (N×D), Kᵀ (D×N), V (N×Dv). */
    final float[][] q, kt, v;

    private HeadBlocks(int batch, int heads, int n, int d, int dv) {
        this.batch = batch;
        this.heads = heads;
        this.n = n;
        this.d = d;
        this.dv = dv;
        q = new float[batch * heads][];
        kt = new float[batch * heads][];
        v = new float[batch * heads][];
    }

    /**
     * Copies q (scaled), k (transposed) and v for every (b, h). Requires self-attention with as many
     * kv heads as query heads (head mixing pairs query head h with key/value head h).
     */
    static HeadBlocks of(Tensor q, Tensor k, Tensor v, float scale, int threads) {
        Shapes s = Shapes.self(q, k, v).requireSameHeads();
        HeadBlocks hb = new HeadBlocks(s.batch(), s.heads(), s.nq(), s.d(), s.dv());
        int nn = s.nq(), dd = s.d();
        Parallel.forEach(threads, s.batch() * s.heads(), w -> null, (i, st) -> {
            int b = i / hb.heads, h = i % hb.heads;
            float[] qh = Shapes.head(q, b, h);
            for (int x = 0; x < qh.length; x++) qh[x] *= scale;
            hb.q[i] = qh;
            float[] kh = Shapes.head(k, b, h), t = new float[kh.length];
            for (int r = 0; r < nn; r++) for (int c = 0; c < dd; c++) t[c * nn + r] = kh[r * dd + c];
            hb.kt[i] = t;
            hb.v[i] = Shapes.head(v, b, h);
        });
        return hb;
    }

    /** Rows per block so that one map buffer stays under {@link #MAX_BLOCK_FLOATS} (at least 1, at most 64). */
    static int blockRows(int n, int maps) {
        long per = (long) Math.max(1, n) * Math.max(1, maps);
        return (int) Math.max(1, Math.min(Math.min(64, Math.max(1, n)), MAX_BLOCK_FLOATS / per));
    }

    /**
     * {@code s[off + r·ld + j] = (scale·q_{qHead}[r0 + r]) · k_{kHead}[j]} for r &lt; rows, j &lt; nk.
     * Returns the FLOPs (2·rows·nk·D).
     */
    long scores(int qHead, int kHead, int r0, int rows, int nk, float[] s, int off, int ld) {
        if (rows <= 0 || nk <= 0) return 0;
        MicroKernels.get().gemm(rows, nk, d, q[qHead], r0 * d, d, 1, kt[kHead], 0, n, s, off, ld, false);
        return 2L * rows * nk * d;
    }

    /**
     * {@code out[outOff + r·dv + c] = Σ_{j<nk} p[off + r·ld + j] · v_{vHead}[j][c]}. Returns the FLOPs.
     */
    long weightedValues(int vHead, int rows, int nk, float[] p, int off, int ld, float[] out, int outOff) {
        if (rows <= 0) return 0;
        if (nk <= 0) {
            java.util.Arrays.fill(out, outOff, outOff + rows * dv, 0f);
            return 0;
        }
        MicroKernels.get().gemm(rows, dv, nk, p, off, ld, 1, v[vHead], 0, dv, out, outOff, dv, false);
        return 2L * rows * nk * dv;
    }

    /**
     * In-place softmax of {@code s[off .. off+valid)}; entries {@code [valid, width)} are set to 0.
     * A row with no valid entry becomes all zeros (never NaN).
     */
    static void softmaxRow(float[] s, int off, int valid, int width) {
        if (valid <= 0) {
            java.util.Arrays.fill(s, off, off + width, 0f);
            return;
        }
        MicroKernels mk = MicroKernels.get();
        float[] m = new float[1], sum = new float[1];
        // A row read as a one-column tile: the kernels' vectorised max and exp run along it.
        mk.columnMax(s, off, valid, 1, 1, m);
        mk.expColumns(s, off, valid, 1, 1, m, sum);
        mk.scale(s, off, valid, 1f / sum[0]);
        if (width > valid) java.util.Arrays.fill(s, off + valid, off + width, 0f);
    }

    /** Work items (b, row block), largest (latest rows, under causal masking) first. */
    static int blocks(int n, int rows) { return (n + rows - 1) / rows; }

    /** Adds FLOPs from workers; the total is an integer sum, so independent of the thread count. */
    static final class Flops {
        private final AtomicLong total = new AtomicLong();

        void add(long f) { total.addAndGet(f); }

        long get() { return total.get(); }
    }

    /** The default logit scale 1/sqrt(D) when {@code scale} is 0. */
    static float scaleOr(double scale, int d) {
        return scale != 0 ? (float) scale : (float) (1.0 / Math.sqrt(d));
    }

    /**
     * Identity plus seeded N(0, perturb²/cols) noise, an {@code rows × cols} row-major matrix: the
     * noise in each output is about {@code perturb} times the identity's, whatever the size.
     */
    static float[] identityPlus(long seed, String name, int rows, int cols, double perturb) {
        float[] m = perturb > 0 ? org.attn4j.variants.Init.normal(seed, name, rows * cols, perturb / Math.sqrt(cols)) : new float[rows * cols];
        for (int i = 0; i < Math.min(rows, cols); i++) m[i * cols + i] += 1f;
        return m;
    }
}
