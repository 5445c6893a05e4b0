package org.attn4j.variants.contentsparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantAssert;
import org.junit.jupiter.api.Test;

class MobaAttentionTest {

    /** The MoBA key set of every query, from gates computed here in float64: [B, H, N, N]. */
    static BoolTensor mobaMask(Tensor q, Tensor k, int block, int topk, boolean[] ambiguous) {
        int bs = q.dim(0), h = q.dim(1), n = q.dim(2), d = q.dim(3), hkv = k.dim(1);
        boolean[] m = new boolean[bs * h * n * n];
        for (int b = 0; b < bs; b++) {
            for (int hh = 0; hh < h; hh++) {
                int kh = hh / (h / hkv);
                for (int i = 0; i < n; i++) {
                    int c = i / block;
                    int base = ((b * h + hh) * n + i) * n;
                    for (int j = c * block; j <= i; j++) m[base + j] = true;
                    double[] g = new double[c];
                    for (int blk = 0; blk < c; blk++) {
                        double dot = 0;
                        for (int x = 0; x < d; x++) {
                            double mean = 0;
                            for (int j = blk * block; j < (blk + 1) * block; j++) mean += k.get(b, kh, j, x);
                            dot += q.get(b, hh, i, x) * (mean / block);
                        }
                        g[blk] = dot;
                    }
                    Integer[] idx = new Integer[c];
                    for (int x = 0; x < c; x++) idx[x] = x;
                    java.util.Arrays.sort(idx, (a, z) -> Double.compare(g[z], g[a]));
                    int keep = Math.min(topk - 1, c);
                    for (int t = 0; t < keep; t++) for (int j = idx[t] * block; j < (idx[t] + 1) * block; j++) m[base + j] = true;
                    if (keep < c && keep > 0 && Math.abs(g[idx[keep - 1]] - g[idx[keep]]) < 1e-4) ambiguous[0] = true;
                }
            }
        }
        return BoolTensor.of(m, bs, h, n, n);
    }

    static Tensor causal(Tensor q, Tensor k, Tensor v) {
        return Attention.sdpa(q, k, v, AttentionSpec.builder().kernel(KernelChoice.REFERENCE).causal(CausalAlignment.TOP_LEFT).build()).output();
    }

    @Test
    void topkOfAllBlocksIsCausalAttention() {
        SplittableRandom r = new SplittableRandom(1);
        int[][] cfg = {{1, 2, 64, 16, 16}, {2, 3, 37, 5, 8}, {1, 1, 1, 4, 16}, {1, 2, 50, 9, 7}, {2, 4, 33, 8, 33}};
        for (int[] c : cfg) {
            Tensor q = VariantAssert.random(r, c[0], c[1], c[2], c[3]);
            Tensor k = VariantAssert.random(r, c[0], c[1], c[2], c[3]);
            Tensor v = VariantAssert.random(r, c[0], c[1], c[2], c[3] + 2);
            int nb = (c[2] + c[4] - 1) / c[4];
            MobaAttention moba = new MobaAttention(new MobaParams(c[4], nb));
            VariantAssert.assertClose(causal(q, k, v), moba.run(q, k, v, 2).output(), 2e-5, 1e-4, "moba top-all " + java.util.Arrays.toString(c));
        }
    }

    @Test
    void topkBeyondTheBlockCountIsCausalAttentionWithoutSizingStateByTopk() {
        // topk is only an upper bound: a budget far above the number of blocks must mean "every past
        // block", not per-query state sized N·topk (which ran out of memory or overflowed int).
        SplittableRandom r = new SplittableRandom(8);
        Tensor q = VariantAssert.random(r, 1, 2, 70, 8), k = VariantAssert.random(r, 1, 2, 70, 8), v = VariantAssert.random(r, 1, 2, 70, 6);
        for (int topk : new int[] {5, 1 << 20, Integer.MAX_VALUE}) {
            MobaAttention moba = new MobaAttention(new MobaParams(16, topk));
            VariantAssert.assertClose(causal(q, k, v), moba.run(q, k, v, 2).output(), 2e-5, 1e-4, "moba topk " + topk);
            for (int[][] head : moba.selection(q, k, v)) for (int[] row : head) assertTrue(row.length <= 4, "past blocks " + row.length);
        }
        // A block longer than N is one causal block (N + block − 1 overflowed int: no block, all-zero output).
        for (int block : new int[] {70, 1000, Integer.MAX_VALUE}) {
            MobaAttention one = new MobaAttention(new MobaParams(block, 3));
            VariantAssert.assertClose(causal(q, k, v), one.run(q, k, v, 2).output(), 2e-5, 1e-4, "moba block " + block);
            for (int[][] head : one.selection(q, k, v)) for (int[] row : head) assertEquals(0, row.length);
        }
    }

    @Test
    void randomConfigsEqualTheReferenceWithTheGateMask() {
        SplittableRandom r = new SplittableRandom(7);
        // {B, H, Hkv, N, D, block, topk}
        int[][] cfg = {{1, 2, 2, 64, 16, 16, 3}, {2, 3, 3, 71, 5, 8, 2}, {1, 4, 2, 100, 9, 7, 4}, {1, 2, 1, 45, 8, 4, 1},
                {2, 2, 2, 90, 12, 9, 5}, {1, 1, 1, 1, 3, 4, 3}, {1, 2, 2, 129, 16, 16, 3}};
        for (int[] c : cfg) {
            for (int attempt = 0; ; attempt++) {
                Tensor q = VariantAssert.random(r, c[0], c[1], c[3], c[4]);
                Tensor k = VariantAssert.random(r, c[0], c[2], c[3], c[4]);
                Tensor v = VariantAssert.random(r, c[0], c[2], c[3], c[4] + 1);
                boolean[] amb = {false};
                BoolTensor mask = mobaMask(q, k, c[5], c[6], amb);
                if (amb[0]) {
                    assertTrue(attempt < 10, "kept drawing near-tied gates");
                    continue;
                }
                MobaAttention moba = new MobaAttention(new MobaParams(c[5], c[6]));
                Tensor expected = VariantAssert.reference(q, k, v, mask, null, null);
                String what = "moba " + java.util.Arrays.toString(c);
                VariantAssert.assertClose(expected, moba.run(q, k, v, 1).output(), 2e-5, 1e-4, what + " 1 thread");
                VariantAssert.assertClose(expected, moba.run(q, k, v, 2).output(), 2e-5, 1e-4, what + " 2 threads");
                // The selection is exactly the mask's past blocks, never more than topk - 1.
                int[][][] sel = moba.selection(q, k, v);
                for (int[][] head : sel) for (int[] row : head) assertTrue(row.length <= c[6] - 1);
                break;
            }
        }
    }

    @Test
    void stridedViewsAreReadInPlace() {
        SplittableRandom r = new SplittableRandom(3);
        // [B, N, H, D] buffers permuted to [B, H, N, D].
        Tensor q = VariantAssert.random(r, 2, 40, 3, 8).permute(0, 2, 1, 3);
        Tensor k = VariantAssert.random(r, 2, 40, 3, 8).permute(0, 2, 1, 3);
        Tensor v = VariantAssert.random(r, 2, 40, 3, 8).permute(0, 2, 1, 3);
        MobaAttention moba = new MobaAttention(new MobaParams(6, 3));
        VariantAssert.assertClose(moba.run(q.contiguous(), k.contiguous(), v.contiguous(), 1).output(), moba.run(q, k, v, 2).output(),
                1e-6, 1e-6, "views");
    }

    @Test
    void flopsCountGatesAndVisiblePairs() {
        SplittableRandom r = new SplittableRandom(5);
        Tensor q = VariantAssert.random(r, 1, 1, 64, 8), k = VariantAssert.random(r, 1, 1, 64, 8), v = VariantAssert.random(r, 1, 1, 64, 8);
        // topk = 1: own block only, 4 blocks of 16 → 4 · 16·17/2 pairs, no gates (no past block is ever chosen).
        long own = 4L * 16 * 17 / 2 * 2 * 16;
        long means = 3L * 16 * 8;
        assertEquals(own + means, new MobaAttention(new MobaParams(16, 1)).run(q, k, v, 1).flops());
        // topk = 2: blocks 1 has one past block (taken without gates); blocks 2, 3 gate 2 and 3 blocks.
        long pairs = 4L * 16 * 17 / 2 + 3L * 16 * 16;
        long gates = 2L * 8 * (16 * 2 + 16 * 3);
        assertEquals(2 * 16 * pairs + gates + means, new MobaAttention(new MobaParams(16, 2)).run(q, k, v, 1).flops());
    }

    @Test
    void tiedGatesGoToTheEarlierBlock() {
        SplittableRandom r = new SplittableRandom(13);
        // Blocks 0 and 1 hold the same keys, so every query of block 2 sees two equal gates.
        float[] kd = VariantAssert.random(r, 1, 1, 48, 4).toArray();
        System.arraycopy(kd, 0, kd, 16 * 4, 16 * 4);
        Tensor k = Tensor.of(kd, 1, 1, 48, 4), q = VariantAssert.random(r, 1, 1, 48, 4), v = VariantAssert.random(r, 1, 1, 48, 4);
        int[][][] sel = new MobaAttention(new MobaParams(16, 2)).selection(q, k, v);
        for (int i = 32; i < 48; i++) assertArrayEquals(new int[] {0}, sel[0][i], "query " + i);
        for (int i = 16; i < 32; i++) assertArrayEquals(new int[] {0}, sel[0][i], "query " + i);
        for (int i = 0; i < 16; i++) assertEquals(0, sel[0][i].length);
    }

    @Test
    void automaticBlockFollowsTheSequenceLength() {
        MobaParams auto = new MobaParams(0, 3);
        assertEquals(16, auto.blockFor(1));
        assertEquals(16, auto.blockFor(64));
        assertEquals(512, auto.blockFor(32768));
        assertEquals(1024, auto.blockFor(65536));
        assertEquals(7, new MobaParams(7, 3).blockFor(32768));
        SplittableRandom r = new SplittableRandom(12);
        Tensor q = VariantAssert.random(r, 1, 2, 64, 8), k = VariantAssert.random(r, 1, 2, 64, 8), v = VariantAssert.random(r, 1, 2, 64, 8);
        assertArrayEquals(new MobaAttention(new MobaParams(16, 3)).run(q, k, v, 1).output().toArray(),
                new MobaAttention(auto).run(q, k, v, 1).output().toArray());
    }

    @Test
    void paramsRejectBadValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MobaParams(-1, 3));
        assertTrue(e.getMessage().contains("block") && e.getMessage().contains("-1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MobaParams(16, 0));
        assertTrue(e.getMessage().contains("topk"), e.getMessage());
        Tensor q = Tensor.zeros(1, 1, 8, 4), k = Tensor.zeros(1, 1, 9, 4);
        VariantAssert.assertRejects("k: this variant is self-attention", () -> new MobaAttention(new MobaParams(4, 2)).run(q, k, k, 1));
    }
}
