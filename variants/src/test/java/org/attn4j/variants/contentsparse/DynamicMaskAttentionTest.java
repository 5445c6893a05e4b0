package org.attn4j.variants.contentsparse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantAssert;
import org.junit.jupiter.api.Test;

class DynamicMaskAttentionTest {

    /** δ [B][H][N] in float64, straight from the formula. */
    static double[][][] delta(Tensor v, int heads, DynamicMaskAttention.Weights w) {
        int bs = v.dim(0), hkv = v.dim(1), n = v.dim(2), dv = v.dim(3);
        double[][][] out = new double[bs][heads][n];
        for (int b = 0; b < bs; b++) {
            for (int h = 0; h < heads; h++) {
                for (int j = 0; j < n; j++) {
                    double z = w.c()[h];
                    for (int g = 0; g < hkv; g++) for (int x = 0; x < dv; x++) z += w.w()[h * hkv * dv + g * dv + x] * (double) v.get(b, g, j, x);
                    out[b][h][j] = Math.exp(w.a()[h] * Math.log(1 + Math.exp(z)));
                }
            }
        }
        return out;
    }

    /** The dense bias: δ on kept keys, −inf elsewhere; flags near-ties at the top-k or threshold boundary. */
    static Tensor bias(double[][][] delta, int n, DynamicMaskParams p, boolean[] ambiguous, long[] kept) {
        int bs = delta.length, heads = delta[0].length;
        float[] bias = new float[bs * heads * n * n];
        Arrays.fill(bias, Float.NEGATIVE_INFINITY);
        for (int b = 0; b < bs; b++) {
            for (int h = 0; h < heads; h++) {
                double[] dl = delta[b][h];
                for (int i = 0; i < n; i++) {
                    int end = p.causal() ? i + 1 : n;
                    Integer[] cand = new Integer[end];
                    int c = 0;
                    for (int j = 0; j < end; j++) {
                        if (Math.abs(dl[j] - p.threshold()) < 1e-5) ambiguous[0] = true;
                        if (dl[j] >= p.threshold()) cand[c++] = j;
                    }
                    Integer[] sorted = Arrays.copyOf(cand, c);
                    Arrays.sort(sorted, (x, y) -> dl[x] != dl[y] ? Double.compare(dl[y], dl[x]) : Integer.compare(x, y));
                    int keep = Math.min(p.topk(), c);
                    if (keep < c && Math.abs(dl[sorted[keep - 1]] - dl[sorted[keep]]) < 1e-5 * Math.abs(dl[sorted[keep]])) ambiguous[0] = true;
                    for (int t = 0; t < keep; t++) bias[((b * heads + h) * n + i) * n + sorted[t]] = (float) dl[sorted[t]];
                    kept[0] += keep;
                }
            }
        }
        return Tensor.of(bias, bs, heads, n, n);
    }

    static DynamicMaskAttention.Weights weights(SplittableRandom r, int heads, int in) {
        float[] w = new float[heads * in], c = new float[heads], a = new float[heads];
        for (int i = 0; i < w.length; i++) w[i] = (float) (VariantAssert.gaussian(r) / Math.sqrt(in));
        for (int i = 0; i < heads; i++) {
            c[i] = (float) VariantAssert.gaussian(r);
            a[i] = (float) (1.5 * VariantAssert.gaussian(r));
        }
        return new DynamicMaskAttention.Weights(heads, in, w, c, a);
    }

    @Test
    void equalsTheReferenceWithTheDenseBiasOfTheKeptKeys() {
        SplittableRandom r = new SplittableRandom(21);
        // {B, H, Hkv, N, D, Dv, topk, causal(1/0), threshold·100}
        int[][] cfg = {{1, 2, 2, 64, 16, 16, 8, 1, 0}, {2, 3, 3, 71, 5, 7, 5, 1, 0}, {1, 4, 2, 300, 9, 8, 20, 1, 0},
                {1, 2, 1, 45, 8, 3, 6, 0, 0}, {2, 2, 2, 90, 12, 12, 1, 1, 0}, {1, 1, 1, 1, 3, 3, 3, 1, 0},
                {1, 2, 2, 260, 16, 16, 40, 1, 90}, {1, 2, 2, 77, 6, 6, 10, 0, 110}, {1, 1, 1, 140, 4, 4, 200, 1, 0}};
        for (int[] c : cfg) {
            DynamicMaskParams p = new DynamicMaskParams(c[6], c[8] / 100.0, c[7] == 1);
            for (int attempt = 0; ; attempt++) {
                Tensor q = VariantAssert.random(r, c[0], c[1], c[3], c[4]);
                Tensor k = VariantAssert.random(r, c[0], c[2], c[3], c[4]);
                Tensor v = VariantAssert.random(r, c[0], c[2], c[3], c[5]);
                DynamicMaskAttention.Weights w = weights(r, c[1], c[2] * c[5]);
                boolean[] amb = {false};
                long[] kept = {0};
                Tensor bias = bias(delta(v, c[1], w), c[3], p, amb, kept);
                if (amb[0]) {
                    assertTrue(attempt < 20, "kept drawing near-ties");
                    continue;
                }
                DynamicMaskAttention dma = new DynamicMaskAttention(p, w);
                Tensor expected = VariantAssert.reference(q, k, v, null, bias, null);
                String what = "dma " + Arrays.toString(c);
                VariantAssert.assertClose(expected, dma.run(q, k, v, 1).output(), 2e-5, 1e-4, what + " 1 thread");
                var res = dma.run(q, k, v, 2);
                VariantAssert.assertClose(expected, res.output(), 2e-5, 1e-4, what + " 2 threads");
                // Selected-key count honoured: the work is exactly the kept pairs plus the δ projection.
                long in = (long) c[2] * c[5];
                assertEquals(2L * (c[4] + c[5]) * kept[0] + 2L * c[0] * c[1] * c[3] * in, res.flops(), what + " flops");
                break;
            }
        }
    }

    @Test
    void keepingEveryKeyWithConstantWeightsIsFullAttention() {
        SplittableRandom r = new SplittableRandom(4);
        int n = 53, d = 7;
        Tensor q = VariantAssert.random(r, 2, 2, n, d), k = VariantAssert.random(r, 2, 2, n, d), v = VariantAssert.random(r, 2, 2, n, d);
        // A = 0 makes δ = 1 for every key: a constant logit shift, which softmax ignores.
        DynamicMaskAttention.Weights w = new DynamicMaskAttention.Weights(2, 2 * d, new float[2 * 2 * d], new float[2], new float[2]);
        VariantAssert.assertClose(MobaAttentionTest.causal(q, k, v),
                new DynamicMaskAttention(new DynamicMaskParams(n, 0, true), w).run(q, k, v, 2).output(), 2e-5, 1e-4, "causal");
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, null, null),
                new DynamicMaskAttention(new DynamicMaskParams(n, 0, false), w).run(q, k, v, 2).output(), 2e-5, 1e-4, "bidirectional");
    }

    @Test
    void theCausalIntervalsAreThePrefixTopK() {
        SplittableRandom r = new SplittableRandom(9);
        for (int trial = 0; trial < 20; trial++) {
            int n = 1 + r.nextInt(80), topk = 1 + r.nextInt(10);
            float[] dl = new float[n];
            // Few distinct values: ties resolved toward the earlier key.
            for (int j = 0; j < n; j++) dl[j] = r.nextInt(6);
            int[][] iv = DynamicMaskAttention.intervals(dl, topk, 0);
            for (int i = 0; i < n; i++) {
                Integer[] idx = new Integer[i + 1];
                for (int j = 0; j <= i; j++) idx[j] = j;
                Arrays.sort(idx, (x, y) -> dl[x] != dl[y] ? Float.compare(dl[y], dl[x]) : Integer.compare(x, y));
                boolean[] in = new boolean[n];
                for (int t = 0; t < Math.min(topk, i + 1); t++) in[idx[t]] = true;
                for (int j = 0; j < n; j++) assertEquals(in[j], iv[0][j] <= i && i < iv[1][j], "n=" + n + " k=" + topk + " i=" + i + " j=" + j);
            }
        }
    }

    @Test
    void badParametersAndWeightsAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DynamicMaskParams(0, 0, true));
        assertTrue(e.getMessage().contains("topk"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DynamicMaskParams(4, -1, true));
        assertTrue(e.getMessage().contains("threshold"), e.getMessage());
        VariantAssert.assertRejects("threshold:", () -> new DynamicMaskParams(4, Double.NaN, true));
        e = assertThrows(IllegalArgumentException.class, () -> new DynamicMaskAttention.Weights(2, 3, new float[5], new float[2], new float[2]));
        assertTrue(e.getMessage().startsWith("w:"), e.getMessage());
        DynamicMaskAttention dma = new DynamicMaskAttention(new DynamicMaskParams(4, 0, true),
                new DynamicMaskAttention.Weights(2, 8, new float[16], new float[2], new float[2]));
        Tensor x = Tensor.zeros(1, 3, 5, 8);
        e = assertThrows(IllegalArgumentException.class, () -> dma.run(x, x, x, 1));
        assertTrue(e.getMessage().contains("H=2"), e.getMessage());
    }
}
