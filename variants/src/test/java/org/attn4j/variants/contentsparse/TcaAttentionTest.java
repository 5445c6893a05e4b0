package org.attn4j.variants.contentsparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantAssert;
import org.junit.jupiter.api.Test;

class TcaAttentionTest {

    /** The selection of query block c recomputed in float64; flags near-ties at the cut. */
    static int[] selection(Tensor q, Tensor k, int b, int h, int c, TcaParams p, boolean[] ambiguous) {
        int n = q.dim(2), d = q.dim(3), kh = h / (q.dim(1) / k.dim(1));
        int row0 = c * p.block(), end = Math.min(n, row0 + p.block());
        double[] qbar = new double[d];
        for (int i = row0; i < end; i++) for (int x = 0; x < d; x++) qbar[x] += q.get(b, h, i, x) / (end - row0);
        List<Integer> cand = new ArrayList<>();
        for (int j = 0; j < (p.causal() ? row0 : n); j++) if (j < row0 || j >= end) cand.add(j);
        double[] e = new double[n];
        for (int j : cand) {
            double dot = 0;
            for (int x = 0; x < d; x++) dot += qbar[x] * k.get(b, kh, j, x);
            e[j] = dot / Math.sqrt(d);
        }
        cand.sort((x, y) -> e[x] != e[y] ? Double.compare(e[y], e[x]) : Integer.compare(x, y));
        double total = 0;
        for (int j : cand) total += Math.exp(e[j]);
        int keep = Math.min(p.topk(), cand.size());
        double acc = 0;
        for (int t = 0; t < keep; t++) {
            acc += Math.exp(e[cand.get(t)]);
            if (p.threshold() < 1 && Math.abs(acc - p.threshold() * total) < 1e-5 * total) ambiguous[0] = true;
            if (p.threshold() < 1 && acc >= p.threshold() * total) {
                keep = t + 1;
                break;
            }
        }
        if (keep < cand.size() && keep > 0 && Math.abs(e[cand.get(keep - 1)] - e[cand.get(keep)]) < 1e-5) ambiguous[0] = true;
        int[] out = new int[keep];
        for (int t = 0; t < keep; t++) out[t] = cand.get(t);
        Arrays.sort(out);
        return out;
    }

    static BoolTensor mask(Tensor q, Tensor k, TcaParams p, boolean[] ambiguous) {
        int bs = q.dim(0), heads = q.dim(1), n = q.dim(2), nb = (n + p.block() - 1) / p.block();
        boolean[] m = new boolean[bs * heads * n * n];
        for (int b = 0; b < bs; b++) {
            for (int h = 0; h < heads; h++) {
                for (int c = 0; c < nb; c++) {
                    int[] sel = selection(q, k, b, h, c, p, ambiguous);
                    int row0 = c * p.block(), end = Math.min(n, row0 + p.block());
                    for (int i = row0; i < end; i++) {
                        int base = ((b * heads + h) * n + i) * n;
                        for (int j : sel) m[base + j] = true;
                        for (int j = row0; j < end; j++) if (!p.causal() || j <= i) m[base + j] = true;
                    }
                }
            }
        }
        return BoolTensor.of(m, bs, heads, n, n);
    }

    @Test
    void equalsTheReferenceWithTheMaskOfTheSelectedKeys() {
        SplittableRandom r = new SplittableRandom(31);
        // {B, H, Hkv, N, D, block, topk, causal, threshold·100}
        int[][] cfg = {{1, 2, 2, 64, 16, 16, 8, 1, 100}, {2, 3, 3, 71, 5, 8, 5, 1, 80}, {1, 4, 2, 130, 9, 10, 30, 0, 90},
                {1, 2, 1, 45, 8, 4, 6, 0, 100}, {2, 2, 2, 90, 12, 9, 1, 1, 50}, {1, 1, 1, 1, 3, 4, 3, 1, 90},
                {1, 2, 2, 97, 16, 32, 40, 1, 70}};
        for (int[] c : cfg) {
            TcaParams p = new TcaParams(c[5], c[6], c[8] / 100.0, c[7] == 1);
            for (int attempt = 0; ; attempt++) {
                // Scaled queries make the estimate peaked enough for the threshold to matter.
                Tensor q = scaled(VariantAssert.random(r, c[0], c[1], c[3], c[4]), 3f);
                Tensor k = VariantAssert.random(r, c[0], c[2], c[3], c[4]);
                Tensor v = VariantAssert.random(r, c[0], c[2], c[3], c[4] + 1);
                boolean[] amb = {false};
                BoolTensor mask = mask(q, k, p, amb);
                if (amb[0]) {
                    assertTrue(attempt < 20, "kept drawing near-ties");
                    continue;
                }
                TcaAttention tca = new TcaAttention(p);
                Tensor expected = VariantAssert.reference(q, k, v, mask, null, null);
                String what = "tca " + Arrays.toString(c);
                VariantAssert.assertClose(expected, tca.run(q, k, v, 1).output(), 2e-5, 1e-4, what + " 1 thread");
                VariantAssert.assertClose(expected, tca.run(q, k, v, 2).output(), 2e-5, 1e-4, what + " 2 threads");
                int nb = (c[3] + c[5] - 1) / c[5];
                for (int blk = 0; blk < nb; blk++) {
                    boolean[] ignore = {false};
                    int[] sel = tca.selected(q, k, v, 0, c[1] - 1, blk);
                    assertTrue(sel.length <= c[6], what + ": budget");
                    assertArrayEquals(selection(q, k, 0, c[1] - 1, blk, p, ignore), sel, what + " block " + blk);
                }
                break;
            }
        }
    }

    @Test
    void selectingEveryKeyIsFullAttention() {
        SplittableRandom r = new SplittableRandom(2);
        int n = 61;
        Tensor q = VariantAssert.random(r, 2, 2, n, 6), k = VariantAssert.random(r, 2, 2, n, 6), v = VariantAssert.random(r, 2, 2, n, 6);
        VariantAssert.assertClose(MobaAttentionTest.causal(q, k, v), new TcaAttention(new TcaParams(8, n, 1, true)).run(q, k, v, 2).output(),
                2e-5, 1e-4, "causal");
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, null, null),
                new TcaAttention(new TcaParams(8, n, 1, false)).run(q, k, v, 2).output(), 2e-5, 1e-4, "bidirectional");
    }

    @Test
    void aBlockLongerThanNIsOneOwnBlock() {
        // N + block − 1 overflowed int for a huge block: no query block ran and the output was all zeros.
        SplittableRandom r = new SplittableRandom(9);
        Tensor q = VariantAssert.random(r, 1, 2, 30, 8), k = VariantAssert.random(r, 1, 2, 30, 8), v = VariantAssert.random(r, 1, 2, 30, 5);
        for (int block : new int[] {30, 1 << 20, Integer.MAX_VALUE}) {
            VariantAssert.assertClose(MobaAttentionTest.causal(q, k, v), new TcaAttention(new TcaParams(block, 4, 1, true)).run(q, k, v, 2).output(),
                    2e-5, 1e-4, "causal block " + block);
            VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, null, null),
                    new TcaAttention(new TcaParams(block, 4, 1, false)).run(q, k, v, 2).output(), 2e-5, 1e-4, "block " + block);
            assertEquals(0, new TcaAttention(new TcaParams(block, 4, 1, false)).selected(q, k, v, 0, 1, 0).length);
        }
    }

    @Test
    void aLowerThresholdKeepsFewerKeys() {
        SplittableRandom r = new SplittableRandom(8);
        Tensor q = scaled(VariantAssert.random(r, 1, 1, 256, 16), 4f), k = VariantAssert.random(r, 1, 1, 256, 16);
        long wide = new TcaAttention(new TcaParams(32, 200, 0.99, true)).run(q, k, k, 1).flops();
        long narrow = new TcaAttention(new TcaParams(32, 200, 0.5, true)).run(q, k, k, 1).flops();
        assertTrue(narrow < wide, narrow + " vs " + wide);
    }

    @Test
    void paramsRejectBadValues() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TcaParams(0, 4, 1, true)).getMessage().contains("block"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TcaParams(4, 0, 1, true)).getMessage().contains("topk"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TcaParams(4, 4, 0, true)).getMessage().contains("threshold"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new TcaParams(4, 4, 1.5, true)).getMessage().contains("threshold"));
        // selected(): batch entry, head and query block must exist (a block past the end read out of bounds or returned keys >= N)
        Tensor q = Tensor.zeros(2, 2, 20, 4);
        TcaAttention tca = new TcaAttention(new TcaParams(8, 4, 1, false));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> tca.selected(q, q, q, 2, 0, 0)).getMessage().startsWith("b:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> tca.selected(q, q, q, 0, -1, 0)).getMessage().startsWith("h:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> tca.selected(q, q, q, 0, 0, 3)).getMessage().startsWith("c: expected 0..2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> tca.selected(q, q, q, 0, 0, -1)).getMessage().startsWith("c:"));
    }

    static Tensor scaled(Tensor t, float f) {
        float[] x = t.toArray();
        for (int i = 0; i < x.length; i++) x[i] *= f;
        return Tensor.of(x, t.shape());
    }
}
