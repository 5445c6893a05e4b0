package org.attn4j.variants.heads;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;

/**
 * The blocked pipeline shared by talking-heads and EIT: for every batch and block of query rows,
 * score maps of all heads, an optional H×H mixing of the logits across heads, a (causally) masked
 * softmax per row, an optional H×H mixing of the weights, and the weighted sum of values.
 *
 * <p>Work items are (batch, row block); each holds two buffers of {@code H · blockRows · Nk} floats,
 * so memory is {@code O(blockRows · N · H)} per worker. Output rows of an item are disjoint from
 * every other item's, so the result does not depend on the thread count.
 */
final class MixedHeads {
    private MixedHeads() {}

    /**
     * @param pre  H×H row-major, {@code L_h = Σ_g pre[h][g]·S_g} before softmax; null for none
     * @param post H×H row-major, {@code W_h = Σ_g post[h][g]·P_g} after softmax; null for none
     * @return the output, contiguous [B, H, N, Dv]
     */
    static float[] run(HeadBlocks hb, float[] pre, float[] post, boolean causal, int threads, HeadBlocks.Flops flops) {
        int heads = hb.heads, n = hb.n, dv = hb.dv;
        int rowsPerBlock = HeadBlocks.blockRows(n, heads);
        int nb = HeadBlocks.blocks(n, rowsPerBlock);
        float[] out = new float[hb.batch * heads * n * dv];
        int bufLen = heads * rowsPerBlock * n;
        Parallel.forEach(threads, hb.batch * nb, w -> new float[][] {new float[bufLen], new float[bufLen]}, (item, buf) -> {
            int b = item / nb, blk = nb - 1 - item % nb;
            int r0 = blk * rowsPerBlock, rows = Math.min(rowsPerBlock, n - r0);
            int nk = causal ? r0 + rows : n, sz = rows * nk;
            float[] s = buf[0], m = buf[1];
            long f = 0;
            for (int h = 0; h < heads; h++) f += hb.scores(b * heads + h, b * heads + h, r0, rows, nk, s, h * sz, nk);
            if (pre != null) {
                f += mix(pre, heads, s, m, sz);
                float[] t = s; s = m; m = t;
            }
            for (int h = 0; h < heads; h++) {
                for (int r = 0; r < rows; r++) HeadBlocks.softmaxRow(s, h * sz + r * nk, causal ? r0 + r + 1 : nk, nk);
            }
            if (post != null) {
                f += mix(post, heads, s, m, sz);
                float[] t = s; s = m; m = t;
            }
            for (int h = 0; h < heads; h++) {
                int bh = b * heads + h;
                f += hb.weightedValues(bh, rows, nk, s, h * sz, nk, out, (bh * n + r0) * dv);
            }
            flops.add(f);
        });
        return out;
    }

    /** {@code dst_h = Σ_g w[h][g]·src_g} over maps of {@code sz} floats; zero weights skipped. */
    static long mix(float[] w, int heads, float[] src, float[] dst, int sz) {
        MicroKernels mk = MicroKernels.get();
        long f = 0;
        for (int h = 0; h < heads; h++) {
            java.util.Arrays.fill(dst, h * sz, (h + 1) * sz, 0f);
            for (int g = 0; g < heads; g++) {
                float c = w[h * heads + g];
                if (c == 0f) continue;
                mk.axpy(c, src, g * sz, dst, h * sz, sz);
                f += 2L * sz;
            }
        }
        return f;
    }
}
