package org.attn4j.variants.heads;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class TalkingHeadsAttentionTest {

    /** Shazeer et al.: L = P_l·S (over heads), A = softmax(L), W = P_w·A, O = W V; float64, written out. */
    static Tensor direct(Tensor q, Tensor k, Tensor v, float[] pl, float[] pw, boolean causal) {
        int bn = q.dim(0), hn = q.dim(1), n = q.dim(2);
        double scale = 1 / Math.sqrt(q.dim(3));
        double[][][][] out = new double[bn][hn][][];
        for (int b = 0; b < bn; b++) {
            double[][][] s = new double[hn][][];
            for (int h = 0; h < hn; h++) s[h] = Direct.scaled(Direct.abT(Direct.head(q, b, h), Direct.head(k, b, h)), scale);
            double[][][] a = new double[hn][][];
            for (int h = 0; h < hn; h++) {
                double[][] l = new double[n][n];
                for (int g = 0; g < hn; g++) {
                    double c = pl == null ? (g == h ? 1 : 0) : pl[h * hn + g];
                    for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) l[i][j] += c * s[g][i][j];
                }
                a[h] = Direct.softmax(l, causal);
            }
            for (int h = 0; h < hn; h++) {
                double[][] w = new double[n][n];
                for (int g = 0; g < hn; g++) {
                    double c = pw == null ? (g == h ? 1 : 0) : pw[h * hn + g];
                    for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) w[i][j] += c * a[g][i][j];
                }
                out[b][h] = Direct.ab(w, Direct.head(v, b, h));
            }
        }
        return Direct.tensor(out);
    }

    @Test
    void matchesTheDirectFormulaOnRandomShapes() {
        SplittableRandom r = new SplittableRandom(1);
        int[][] shapes = {{2, 3, 17, 13, 7}, {1, 2, 1, 5, 5}, {2, 4, 70, 8, 9}};
        for (int[] sh : shapes) {
            int b = sh[0], h = sh[1], n = sh[2], d = sh[3], dv = sh[4];
            Tensor q = Direct.random(r, b, h, n, d), k = Direct.random(r, b, h, n, d), v = Direct.random(r, b, h, n, dv);
            float[] pl = Direct.randomMatrix(r, h * h, 0.5, true, h), pw = Direct.randomMatrix(r, h * h, 0.5, true, h);
            for (boolean causal : new boolean[] {false, true}) {
                TalkingHeadsParams p = new TalkingHeadsParams(causal, 0, 0, true, true);
                Tensor got = new TalkingHeadsAttention(p, pl, pw).run(q, k, v, 2).output();
                VariantAssert.assertClose(direct(q, k, v, pl, pw, causal), got, 2e-5, 1e-4, "talking-heads " + java.util.Arrays.toString(sh) + " causal=" + causal);
                // Only pre or only post mixing.
                Tensor pre = new TalkingHeadsAttention(p, pl, null).run(q, k, v, 1).output();
                VariantAssert.assertClose(direct(q, k, v, pl, null, causal), pre, 2e-5, 1e-4, "pre only");
                Tensor post = new TalkingHeadsAttention(p, null, pw).run(q, k, v, 1).output();
                VariantAssert.assertClose(direct(q, k, v, null, pw, causal), post, 2e-5, 1e-4, "post only");
            }
        }
    }

    @Test
    void identityMixingIsStandardMultiHeadAttention() {
        SplittableRandom r = new SplittableRandom(2);
        Tensor q = Direct.random(r, 2, 3, 33, 13), k = Direct.random(r, 2, 3, 33, 13), v = Direct.random(r, 2, 3, 33, 13);
        for (boolean causal : new boolean[] {false, true}) {
            Tensor got = new TalkingHeadsAttention(new TalkingHeadsParams(causal, 0, 0, true, true), 7).run(q, k, v, 2).output();
            VariantAssert.assertClose(Direct.mha(q, k, v, causal), got, 1e-5, 1e-4, "perturb=0 talking-heads vs sdpa, causal=" + causal);
        }
        // And the seeded default is not the identity.
        Tensor def = VariantRegistry.create("talking-heads", Settings.empty(), 7).run(q, k, v, 1).output();
        assertTrue(VariantAssert.relativeError(Direct.mha(q, k, v, false), def) > 1e-3);
    }

    @Test
    void causalRowsNeverSeeLaterTokens() {
        SplittableRandom r = new SplittableRandom(3);
        Tensor q = Direct.random(r, 2, 3, 41, 13), k = Direct.random(r, 2, 3, 41, 13), v = Direct.random(r, 2, 3, 41, 13);
        Direct.assertNoFutureLeak(new TalkingHeadsAttention(new TalkingHeadsParams(true, 0, 0.3, true, true), 5), q, k, v, 19, r);
    }

    @Test
    void flopsCountTheExecutedWork() {
        SplittableRandom r = new SplittableRandom(4);
        Tensor q = Direct.random(r, 1, 2, 64, 16), k = Direct.random(r, 1, 2, 64, 16), v = Direct.random(r, 1, 2, 64, 16);
        VariantResult full = new TalkingHeadsAttention(new TalkingHeadsParams(false, 0, 0.1, true, true), 1).run(q, k, v, 1);
        long dense = VariantResult.denseFlops(1, 2, 64, 64, 16, 16);
        // dense products + two mixings of 2 maps with 2 coefficients each: 2·(2·2·2·N²)
        org.junit.jupiter.api.Assertions.assertEquals(dense + 2L * 2 * 2 * 2 * 64 * 64, full.flops());
        // Causal blocks skip the keys after their last row (blocks are up to 64 rows, so use N = 200).
        Tensor q2 = Direct.random(r, 1, 2, 200, 16);
        long all = new TalkingHeadsAttention(new TalkingHeadsParams(false, 0, 0.1, true, true), 1).run(q2, q2, q2, 1).flops();
        long causal = new TalkingHeadsAttention(new TalkingHeadsParams(true, 0, 0.1, true, true), 1).run(q2, q2, q2, 1).flops();
        assertTrue(causal < 0.8 * all, causal + " vs " + all);
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TalkingHeadsParams(false, -1, 0, true, true));
        assertTrue(e.getMessage().startsWith("scale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TalkingHeadsParams(false, 0, Double.NaN, true, true));
        assertTrue(e.getMessage().startsWith("perturb"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("talking-heads", Settings.of("pre=false", "post=false"), 1));
        assertTrue(e.getMessage().startsWith("pre"), e.getMessage());
        SplittableRandom r = new SplittableRandom(5);
        Tensor q = Direct.random(r, 1, 3, 4, 4);
        e = assertThrows(IllegalArgumentException.class, () -> new TalkingHeadsAttention(new TalkingHeadsParams(false, 0, 0, true, true), new float[4], null).run(q, q, q, 1));
        assertTrue(e.getMessage().startsWith("logitMix"), e.getMessage());
        // Grouped kv heads are refused with a clear message.
        Tensor k = Direct.random(r, 1, 1, 4, 4);
        e = assertThrows(IllegalArgumentException.class, () -> new TalkingHeadsAttention(TalkingHeadsParams.defaults(), 1).run(q, k, k, 1));
        assertTrue(e.getMessage().startsWith("k:"), e.getMessage());
    }
}
