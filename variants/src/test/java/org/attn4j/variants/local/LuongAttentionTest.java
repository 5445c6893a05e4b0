package org.attn4j.variants.local;

import static org.attn4j.variants.local.HaloAttentionTest.assertField;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.attn4j.variants.local.LuongParams.Mode;
import org.attn4j.variants.local.LuongParams.Score;
import org.junit.jupiter.api.Test;

class LuongAttentionTest {

    /** Luong et al.'s equations in float64, one head and one target position at a time. */
    static Tensor direct(Tensor q, Tensor k, Tensor v, LuongParams p, LuongWeights w) {
        int batch = q.dim(0), heads = q.dim(1), nq = q.dim(2), d = q.dim(3), hkv = k.dim(1), nk = k.dim(2), dv = v.dim(3);
        double scale = p.scale() != null ? p.scale() : 1.0 / Math.sqrt(d);
        float[] wg = w.general(), wa = w.concatW(), va = w.concatV(), wp = w.predictW(), vp = w.predictV();
        int dw = p.window();
        float[] out = new float[batch * heads * nq * dv];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++) {
                int kh = h / (heads / hkv);
                for (int t = 0; t < nq; t++) {
                    double pt = 0;
                    int lo = 0, hi = nk - 1;
                    if (p.mode() == Mode.LOCAL_M) {
                        pt = nq == nk ? t : Math.floor((double) t * nk / nq);
                        lo = (int) Math.max(0, pt - dw);
                        hi = (int) Math.min(nk - 1, pt + dw);
                    } else if (p.mode() == Mode.LOCAL_P) {
                        double z = 0;
                        for (int r = 0; r < d; r++) {
                            double u = 0;
                            for (int i = 0; i < d; i++) u += wp[(h * d + r) * d + i] * (double) q.get(b, h, t, i);
                            z += vp[h * d + r] * Math.tanh(u);
                        }
                        pt = nk / (1 + Math.exp(-z));
                        lo = nk;
                        hi = -1;
                        for (int s = 0; s < nk; s++) {
                            if (s >= pt - dw && s <= pt + dw) {
                                lo = Math.min(lo, s);
                                hi = Math.max(hi, s);
                            }
                        }
                    }
                    if (hi < lo) continue;
                    double[] score = new double[hi - lo + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int s = lo; s <= hi; s++) {
                        double x = 0;
                        switch (p.score()) {
                            case DOT -> {
                                for (int i = 0; i < d; i++) x += (double) q.get(b, h, t, i) * k.get(b, kh, s, i);
                                x *= scale;
                            }
                            case GENERAL -> {
                                for (int i = 0; i < d; i++)
                                    for (int j = 0; j < d; j++) x += (double) q.get(b, h, t, i) * wg[(h * d + i) * d + j] * k.get(b, kh, s, j);
                                x *= scale;
                            }
                            case CONCAT -> {
                                for (int r = 0; r < d; r++) {
                                    double u = 0;
                                    for (int i = 0; i < d; i++) {
                                        u += (double) wa[(h * d + r) * 2 * d + i] * q.get(b, h, t, i);
                                        u += (double) wa[(h * d + r) * 2 * d + d + i] * k.get(b, kh, s, i);
                                    }
                                    x += va[h * d + r] * Math.tanh(u);
                                }
                            }
                        }
                        score[s - lo] = x;
                        max = Math.max(max, x);
                    }
                    double sum = 0;
                    for (int s = lo; s <= hi; s++) sum += Math.exp(score[s - lo] - max);
                    for (int s = lo; s <= hi; s++) {
                        double a = Math.exp(score[s - lo] - max) / sum;
                        if (p.mode() == Mode.LOCAL_P) {
                            double sigma = dw / 2.0;
                            a *= Math.exp(-(s - pt) * (s - pt) / (2 * sigma * sigma));
                        }
                        for (int c = 0; c < dv; c++) out[((b * heads + h) * nq + t) * dv + c] += (float) (a * v.get(b, kh, s, c));
                    }
                }
            }
        return Tensor.of(out, batch, heads, nq, dv);
    }

    private static void check(SplittableRandom r, Mode mode, Score score, int window, Float scale, int batch, int heads, int hkv, int nq, int nk, int d, int dv) {
        Tensor q = VariantAssert.random(r, batch, heads, nq, d), k = VariantAssert.random(r, batch, hkv, nk, d), v = VariantAssert.random(r, batch, hkv, nk, dv);
        LuongParams p = new LuongParams(mode, score, window, scale);
        LuongAttention a = new LuongAttention(p, r.nextLong());
        VariantResult got = a.run(q, k, v, 3);
        String what = mode + "/" + score + " window " + window + " Nq " + nq + " Nk " + nk + " H " + heads + "/" + hkv;
        VariantAssert.assertClose(direct(q, k, v, p, a.weights(heads, d)), got.output(), 3e-5, 2e-4, what);
        assertTrue(got.flops() > 0, what + ": flops");
        assertArrayEquals(got.output().toArray(), a.run(q, k, v, 1).output().toArray(), 1e-6f, what + ": 1 vs 3 threads");
    }

    @Test
    void everyModeAndScoreMatchesThePapersFormulas() {
        SplittableRandom r = new SplittableRandom(30);
        for (Mode mode : Mode.values())
            for (Score score : Score.values()) {
                check(r, mode, score, 3, null, 2, 2, 2, 21, 21, 5, 6);    // self-attention (engine path for global / local-m dot, general)
                check(r, mode, score, 2, 1f, 1, 4, 2, 7, 19, 8, 3);       // Nq != Nk, GQA, unscaled as in the paper
                check(r, mode, score, 10, null, 1, 2, 2, 64, 64, 16, 16); // defaults' shapes, paper window D = 10
                check(r, mode, score, 1, null, 1, 1, 1, 1, 1, 3, 2);      // N = 1
                check(r, mode, score, 4, 0.5f, 1, 2, 1, 13, 5, 4, 4);     // Nq > Nk
            }
    }

    @Test
    void globalDotIsPlainAttention() {
        SplittableRandom r = new SplittableRandom(31);
        Tensor q = VariantAssert.random(r, 2, 2, 17, 8), k = VariantAssert.random(r, 2, 2, 23, 8), v = VariantAssert.random(r, 2, 2, 23, 5);
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, null, null),
                new LuongAttention(new LuongParams(Mode.GLOBAL, Score.DOT, 0, null), 1).forward(q, k, v), 2e-5, 1e-4, "global dot");
    }

    @Test
    void localMDotIsABandMask() {
        SplittableRandom r = new SplittableRandom(32);
        int n = 25, dw = 3;
        Tensor q = VariantAssert.random(r, 1, 2, n, 8), k = VariantAssert.random(r, 1, 2, n, 8), v = VariantAssert.random(r, 1, 2, n, 8);
        boolean[] m = new boolean[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) m[i * n + j] = Math.abs(i - j) <= dw;
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, BoolTensor.of(m, 1, 1, n, n), null, null),
                new LuongAttention(new LuongParams(Mode.LOCAL_M, Score.DOT, dw, null), 1).forward(q, k, v), 2e-5, 1e-4, "local-m band");
    }

    @Test
    void localMWithAWindowCoveringNIsGlobal() {
        SplittableRandom r = new SplittableRandom(33);
        for (Score score : Score.values()) {
            Tensor q = VariantAssert.random(r, 1, 2, 15, 6), k = VariantAssert.random(r, 1, 2, 15, 6), v = VariantAssert.random(r, 1, 2, 15, 6);
            Tensor global = new LuongAttention(new LuongParams(Mode.GLOBAL, score, 0, null), 9).forward(q, k, v);
            Tensor local = new LuongAttention(new LuongParams(Mode.LOCAL_M, score, 15, null), 9).forward(q, k, v);
            VariantAssert.assertClose(global, local, 2e-5, 1e-4, "local-m window >= N, " + score);
            Tensor huge = new LuongAttention(new LuongParams(Mode.LOCAL_M, score, Integer.MAX_VALUE, null), 9).forward(q, k, v);
            VariantAssert.assertClose(global, huge, 2e-5, 1e-4, "local-m window = Integer.MAX_VALUE, " + score);
            // local-p with the same window is not global: the Gaussian reweights (weights no longer sum to 1).
            Tensor ones = Tensor.of(filled(15 * 2 * 6, 1f), 1, 2, 15, 6);
            float[] mass = new LuongAttention(new LuongParams(Mode.LOCAL_P, score, 15, null), 9).forward(q, k, ones).toArray();
            for (float x : mass) assertTrue(x > 0 && x < 1, "local-p mass " + x + " must lie in (0, 1)");
        }
    }

    @Test
    void generalWithIdentityEqualsDot() {
        SplittableRandom r = new SplittableRandom(34);
        Tensor q = VariantAssert.random(r, 1, 2, 19, 7), k = VariantAssert.random(r, 1, 2, 19, 7), v = VariantAssert.random(r, 1, 2, 19, 4);
        LuongWeights eye = LuongWeights.init(3, 2, 7).withIdentityGeneral();
        for (Mode mode : Mode.values()) {
            Tensor dot = new LuongAttention(new LuongParams(mode, Score.DOT, 3, null), eye).forward(q, k, v);
            Tensor general = new LuongAttention(new LuongParams(mode, Score.GENERAL, 3, null), eye).forward(q, k, v);
            VariantAssert.assertClose(dot, general, 2e-5, 1e-4, "general with W = I, " + mode);
        }
        // And a random W is not the identity: the test can tell.
        Tensor dot = new LuongAttention(new LuongParams(Mode.GLOBAL, Score.DOT, 0, null), 3).forward(q, k, v);
        Tensor general = new LuongAttention(new LuongParams(Mode.GLOBAL, Score.GENERAL, 0, null), 3).forward(q, k, v);
        assertTrue(VariantAssert.relativeError(dot, general) > 1e-3);
    }

    @Test
    void flopsFollowTheWindow() {
        SplittableRandom r = new SplittableRandom(35);
        Tensor q = VariantAssert.random(r, 1, 1, 40, 8);
        long global = new LuongAttention(new LuongParams(Mode.GLOBAL, Score.DOT, 0, null), 1).run(q, q, q, 1).flops();
        long local = new LuongAttention(new LuongParams(Mode.LOCAL_M, Score.DOT, 2, null), 1).run(q, q, q, 1).flops();
        assertEquals(2L * 40 * 40 * 16, global);
        assertEquals(2L * (40 * 5 - 2 * 3) * 16, local); // 5 keys per row, minus 2+1 missing at each end
    }

    @Test
    void registryAndErrors() {
        SplittableRandom r = new SplittableRandom(36);
        Tensor q = VariantAssert.random(r, 1, 2, 12, 4);
        LuongAttention viaRegistry = (LuongAttention) VariantRegistry.create("luong-local-p", Settings.of("score=concat", "window=3"), 5);
        assertEquals(new LuongParams(Mode.LOCAL_P, Score.CONCAT, 3, null), viaRegistry.params());
        assertArrayEquals(LuongWeights.init(5, 2, 4).concatW(), viaRegistry.weights(2, 4).concatW());
        assertEquals("luong-local-p", viaRegistry.info().name());
        VariantAssert.assertRejects("no parameter window", () -> VariantRegistry.create("luong-global", Settings.of("window=3"), 1));
        VariantAssert.assertRejects("score", () -> VariantRegistry.create("luong-global", Settings.of("score=cosine"), 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LuongAttention(new LuongParams(Mode.GLOBAL, Score.DOT, 0, null), LuongWeights.init(1, 3, 4)).forward(q, q, q));
        assertTrue(e.getMessage().startsWith("weights:"), e.getMessage());
        assertField("window", () -> new LuongParams(Mode.LOCAL_M, Score.DOT, -1, null));
        assertField("window", () -> new LuongParams(Mode.LOCAL_P, Score.DOT, 0, null));
        assertField("mode", () -> new LuongParams(null, Score.DOT, 1, null));
        assertField("score", () -> new LuongParams(Mode.GLOBAL, null, 1, null));
        assertField("scale", () -> new LuongParams(Mode.GLOBAL, Score.DOT, 1, Float.NaN));
        assertField("general", () -> new LuongWeights(1, 2, new float[3], new float[8], new float[2], new float[4], new float[2]));
        assertField("concatW", () -> new LuongWeights(1, 2, new float[4], new float[4], new float[2], new float[4], new float[2]));
        assertField("predictV", () -> new LuongWeights(1, 2, new float[4], new float[8], new float[2], new float[4], new float[] {1, Float.NaN}));
        assertField("heads", () -> new LuongWeights(0, 2, new float[0], new float[0], new float[0], new float[0], new float[0]));
        assertField("params", () -> new LuongAttention(null, 1));
        assertField("weights", () -> new LuongAttention(new LuongParams(Mode.GLOBAL, Score.DOT, 0, null), (LuongWeights) null));
    }

    private static float[] filled(int n, float x) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, x);
        return a;
    }
}
