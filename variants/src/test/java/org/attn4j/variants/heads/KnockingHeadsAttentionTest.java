package org.attn4j.variants.heads;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class KnockingHeadsAttentionTest {

    private static double[][] times(double[][] x, float[] t) {
        if (t == null) return x;
        int c = x[0].length;
        double[][] m = new double[c][c];
        for (int i = 0; i < c; i++) for (int j = 0; j < c; j++) m[i][j] = t[i * c + j];
        return Direct.ab(x, m);
    }

    /** O_h = softmax(scale·(Q_h T^Q)(K_g T^K)ᵀ)(V_g T^V), g the kv head of h; float64. */
    static Tensor direct(Tensor q, Tensor k, Tensor v, float[] tq, float[] tk, float[] tv, boolean causal) {
        int bn = q.dim(0), hn = q.dim(1), group = hn / k.dim(1);
        double scale = 1 / Math.sqrt(q.dim(3));
        double[][][][] out = new double[bn][hn][][];
        for (int b = 0; b < bn; b++) for (int h = 0; h < hn; h++) {
            double[][] qq = times(Direct.head(q, b, h), tq), kk = times(Direct.head(k, b, h / group), tk), vv = times(Direct.head(v, b, h / group), tv);
            out[b][h] = Direct.ab(Direct.softmax(Direct.scaled(Direct.abT(qq, kk), scale), causal), vv);
        }
        return Direct.tensor(out);
    }

    @Test
    void matchesTheDirectFormulaIncludingGroupedKvHeads() {
        SplittableRandom r = new SplittableRandom(51);
        int[][] shapes = {{2, 3, 21, 13, 3, 13}, {1, 4, 33, 8, 2, 5}, {2, 2, 1, 4, 2, 4}};
        for (int[] sh : shapes) {
            int b = sh[0], h = sh[1], n = sh[2], d = sh[3], hkv = sh[4], dv = sh[5];
            Tensor q = Direct.random(r, b, h, n, d), k = Direct.random(r, b, hkv, n, d), v = Direct.random(r, b, hkv, n, dv);
            float[] tq = Direct.randomMatrix(r, d * d, 0.3, true, d), tk = Direct.randomMatrix(r, d * d, 0.3, true, d), tv = Direct.randomMatrix(r, dv * dv, 0.3, true, dv);
            for (boolean causal : new boolean[] {false, true}) {
                Tensor got = new KnockingHeadsAttention(new KnockingHeadsParams(causal, 0, 0, true, true, true), tq, tk, tv).run(q, k, v, 2).output();
                VariantAssert.assertClose(direct(q, k, v, tq, tk, tv, causal), got, 3e-5, 2e-4, "kha " + java.util.Arrays.toString(sh) + " causal=" + causal);
                Tensor onlyV = new KnockingHeadsAttention(new KnockingHeadsParams(causal, 0, 0, true, true, true), null, null, tv).run(q, k, v, 1).output();
                VariantAssert.assertClose(direct(q, k, v, null, null, tv, causal), onlyV, 3e-5, 2e-4, "kha T^V only");
            }
        }
    }

    @Test
    void identityInitialisationIsStandardMultiHeadAttention() {
        SplittableRandom r = new SplittableRandom(52);
        Tensor q = Direct.random(r, 2, 3, 29, 13), k = Direct.random(r, 2, 3, 29, 13), v = Direct.random(r, 2, 3, 29, 13);
        for (boolean causal : new boolean[] {false, true}) {
            Tensor got = VariantRegistry.create("knocking-heads", Settings.of("perturb=0", "causal=" + causal), 3).run(q, k, v, 2).output();
            VariantAssert.assertClose(Direct.mha(q, k, v, causal), got, 1e-5, 1e-4, "kha T = I causal=" + causal);
        }
        Tensor def = VariantRegistry.create("knocking-heads", Settings.empty(), 3).run(q, k, v, 1).output();
        assertTrue(VariantAssert.relativeError(Direct.mha(q, k, v, false), def) > 1e-3);
        // apply=v leaves Q and K alone: the seeded T^V alone.
        Tensor onlyV = VariantRegistry.create("knocking-heads", Settings.of("apply=v"), 3).run(q, k, v, 1).output();
        float[] tv = HeadBlocks.identityPlus(3, "knocking-heads.v", 13, 13, 0.1);
        VariantAssert.assertClose(direct(q, k, v, null, null, tv, false), onlyV, 3e-5, 2e-4, "apply=v");
    }

    @Test
    void causalRowsNeverSeeLaterTokens() {
        SplittableRandom r = new SplittableRandom(53);
        Tensor q = Direct.random(r, 2, 3, 45, 13), k = Direct.random(r, 2, 3, 45, 13), v = Direct.random(r, 2, 3, 45, 13);
        Direct.assertNoFutureLeak(VariantRegistry.create("knocking-heads", Settings.of("causal=true"), 2), q, k, v, 17, r);
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KnockingHeadsParams(false, 0, 0, false, false, false));
        assertTrue(e.getMessage().startsWith("apply"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new KnockingHeadsParams(false, 0, -1, true, true, true));
        assertTrue(e.getMessage().startsWith("perturb"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("knocking-heads", Settings.of("apply=qx"), 1));
        assertTrue(e.getMessage().startsWith("apply"), e.getMessage());
        SplittableRandom r = new SplittableRandom(54);
        Tensor q = Direct.random(r, 1, 2, 4, 4);
        e = assertThrows(IllegalArgumentException.class, () -> new KnockingHeadsAttention(KnockingHeadsParams.defaults(), new float[9], null, null).run(q, q, q, 1));
        assertTrue(e.getMessage().startsWith("tq"), e.getMessage());
    }
}
