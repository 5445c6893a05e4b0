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

class CogAttentionTest {

    /** a_ij = sign(s_ij)·exp|s_ij| / Σ_j' exp|s_ij'| over visible keys; float64. */
    static Tensor direct(Tensor q, Tensor k, Tensor v, double scale, boolean causal) {
        int bn = q.dim(0), hn = q.dim(1), n = q.dim(2);
        double[][][][] out = new double[bn][hn][][];
        for (int b = 0; b < bn; b++) for (int h = 0; h < hn; h++) {
            double[][] s = Direct.scaled(Direct.abT(Direct.head(q, b, h), Direct.head(k, b, h)), scale);
            double[][] a = new double[n][n];
            for (int i = 0; i < n; i++) {
                int valid = causal ? i + 1 : n;
                double sum = 0;
                for (int j = 0; j < valid; j++) sum += Math.exp(Math.abs(s[i][j]));
                for (int j = 0; j < valid; j++) a[i][j] = Math.signum(s[i][j]) * Math.exp(Math.abs(s[i][j])) / sum;
            }
            out[b][h] = Direct.ab(a, Direct.head(v, b, h));
        }
        return Direct.tensor(out);
    }

    @Test
    void matchesTheDirectFormulaOnRandomShapes() {
        SplittableRandom r = new SplittableRandom(21);
        int[][] shapes = {{2, 3, 17, 13, 13}, {1, 1, 1, 3, 2}, {2, 2, 131, 16, 9}};
        for (int[] sh : shapes) {
            Tensor q = Direct.random(r, sh[0], sh[1], sh[2], sh[3]), k = Direct.random(r, sh[0], sh[1], sh[2], sh[3]), v = Direct.random(r, sh[0], sh[1], sh[2], sh[4]);
            for (boolean causal : new boolean[] {false, true}) {
                Tensor got = new CogAttention(new CogParams(causal, 0)).run(q, k, v, 2).output();
                VariantAssert.assertClose(direct(q, k, v, 1 / Math.sqrt(sh[3]), causal), got, 2e-5, 1e-4, "cog " + java.util.Arrays.toString(sh) + " causal=" + causal);
            }
        }
    }

    @Test
    void handCheckableCase() {
        // scale 1, D = 1. Query 0 (q = 1): s = [ln 2, −ln 3], |s| → exp = [2, 3], weights [2/5, −3/5];
        // with v = [10, 5]: 4 − 3 = 1. Query 1 (q = 0): both logits 0, sign 0, output 0.
        Tensor q = Tensor.of(new float[] {1, 0}, 1, 1, 2, 1);
        Tensor k = Tensor.of(new float[] {(float) Math.log(2), (float) -Math.log(3)}, 1, 1, 2, 1);
        Tensor v = Tensor.of(new float[] {10, 5}, 1, 1, 2, 1);
        Tensor got = new CogAttention(new CogParams(false, 1)).run(q, k, v, 1).output();
        VariantAssert.assertClose(Tensor.of(new float[] {1, 0}, 1, 1, 2, 1), got, 1e-5, 0, "hand case");
        // Causal: query 0 sees only key 0: weight sign(ln 2)·1 = 1, output 10.
        Tensor causal = new CogAttention(new CogParams(true, 1)).run(q, k, v, 1).output();
        VariantAssert.assertClose(Tensor.of(new float[] {10, 0}, 1, 1, 2, 1), causal, 1e-5, 0, "hand case, causal");
    }

    @Test
    void positiveLogitsGiveSoftmaxAttentionAndNegativeOnesItsNegation() {
        SplittableRandom r = new SplittableRandom(22);
        int b = 2, h = 3, n = 29, d = 13;
        float[] qa = new float[b * h * n * d], ka = new float[qa.length];
        for (int i = 0; i < qa.length; i++) {
            qa[i] = (float) (0.1 + r.nextDouble());
            ka[i] = (float) (0.1 + r.nextDouble());
        }
        Tensor q = Tensor.of(qa, b, h, n, d), k = Tensor.of(ka, b, h, n, d), v = Direct.random(r, b, h, n, d);
        for (boolean causal : new boolean[] {false, true}) {
            Tensor got = new CogAttention(new CogParams(causal, 0)).run(q, k, v, 2).output();
            VariantAssert.assertClose(Direct.mha(q, k, v, causal), got, 1e-5, 1e-4, "all logits > 0: cog = softmax attention, causal=" + causal);
            // Negate the keys: every logit < 0, weights = −softmax(|s|) = −softmax attention of (q, −k).
            float[] neg = ka.clone();
            for (int i = 0; i < neg.length; i++) neg[i] = -neg[i];
            Tensor gotNeg = new CogAttention(new CogParams(causal, 0)).run(q, Tensor.of(neg, b, h, n, d), v, 2).output();
            float[] m = Direct.mha(q, k, v, causal).toArray();
            for (int i = 0; i < m.length; i++) m[i] = -m[i];
            VariantAssert.assertClose(Tensor.of(m, b, h, n, d), gotNeg, 1e-5, 1e-4, "all logits < 0");
        }
    }

    @Test
    void causalRowsNeverSeeLaterTokensAndFlopsShrink() {
        SplittableRandom r = new SplittableRandom(23);
        Tensor q = Direct.random(r, 2, 3, 45, 13), k = Direct.random(r, 2, 3, 45, 13), v = Direct.random(r, 2, 3, 45, 13);
        Direct.assertNoFutureLeak(new CogAttention(new CogParams(true, 0)), q, k, v, 30, r);
        Tensor x = Direct.random(r, 1, 2, 300, 16);
        VariantResult full = VariantRegistry.create("cog", Settings.empty(), 1).run(x, x, x, 1);
        VariantResult causal = VariantRegistry.create("cog", Settings.of("causal=true"), 1).run(x, x, x, 1);
        org.junit.jupiter.api.Assertions.assertEquals(VariantResult.denseFlops(1, 2, 300, 300, 16, 16), full.flops());
        assertTrue(causal.flops() < 0.8 * full.flops());
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CogParams(false, -2));
        assertTrue(e.getMessage().startsWith("scale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("cog", Settings.of("causal=maybe"), 1));
        assertTrue(e.getMessage().startsWith("causal"), e.getMessage());
    }
}
