package org.attn4j.variants.heads;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class HeadEmbeddingAttentionTest {

    /** X = concat of heads, Y_h = X·W ⊕ e_h for each role, O_h = softmax(scale·Q_h K_hᵀ) V_h; float64. */
    static Tensor direct(Tensor q, Tensor k, Tensor v, float[][] p, boolean mul, boolean causal) {
        int bn = q.dim(0), hn = q.dim(1);
        double scale = 1 / Math.sqrt(q.dim(3));
        double[][][][] out = new double[bn][hn][][];
        for (int b = 0; b < bn; b++) {
            double[][][] qh = role(q, b, p[0], p[3], mul), kh = role(k, b, p[1], p[4], mul), vh = role(v, b, p[2], p[5], mul);
            for (int h = 0; h < hn; h++) out[b][h] = Direct.ab(Direct.softmax(Direct.scaled(Direct.abT(qh[h], kh[h]), scale), causal), vh[h]);
        }
        return Direct.tensor(out);
    }

    private static double[][][] role(Tensor x, int b, float[] w, float[] e, boolean mul) {
        int hn = x.dim(1), n = x.dim(2), d = x.dim(3);
        double[][] shared = new double[n][d];
        for (int t = 0; t < n; t++) for (int c = 0; c < d; c++) {
            double acc = 0;
            for (int h = 0; h < hn; h++) for (int z = 0; z < d; z++) acc += x.get(b, h, t, z) * w[(h * d + z) * d + c];
            shared[t][c] = acc;
        }
        double[][][] y = new double[hn][n][d];
        for (int h = 0; h < hn; h++) for (int t = 0; t < n; t++) for (int c = 0; c < d; c++) {
            y[h][t][c] = mul ? shared[t][c] * e[h * d + c] : shared[t][c] + e[h * d + c];
        }
        return y;
    }

    @Test
    void matchesTheDirectFormulaAddAndMul() {
        SplittableRandom r = new SplittableRandom(61);
        int[][] shapes = {{2, 3, 19, 13, 13}, {1, 4, 40, 8, 5}, {2, 2, 1, 4, 4}};
        for (int[] sh : shapes) {
            int b = sh[0], h = sh[1], n = sh[2], d = sh[3], dv = sh[4];
            Tensor q = Direct.random(r, b, h, n, d), k = Direct.random(r, b, h, n, d), v = Direct.random(r, b, h, n, dv);
            float[][] p = {Direct.randomMatrix(r, h * d * d, 0.3, false, 0), Direct.randomMatrix(r, h * d * d, 0.3, false, 0), Direct.randomMatrix(r, h * dv * dv, 0.3, false, 0),
                Direct.randomMatrix(r, h * d, 0.5, false, 0), Direct.randomMatrix(r, h * d, 0.5, false, 0), Direct.randomMatrix(r, h * dv, 0.5, false, 0)};
            for (boolean mul : new boolean[] {false, true}) for (boolean causal : new boolean[] {false, true}) {
                Tensor got = new HeadEmbeddingAttention(new HeadEmbeddingParams(causal, 0, mul), p[0], p[1], p[2], p[3], p[4], p[5]).run(q, k, v, 2).output();
                VariantAssert.assertClose(direct(q, k, v, p, mul, causal), got, 3e-5, 2e-4, "mhe " + java.util.Arrays.toString(sh) + " mul=" + mul + " causal=" + causal);
            }
        }
    }

    @Test
    void handCaseEveryHeadComputesHeadZerosAttention() {
        // W = [I; 0; …] selects head 0's features; with e = 0 (ADD) or e = 1 (MUL) every head is head 0's MHA.
        SplittableRandom r = new SplittableRandom(62);
        int h = 3, n = 27, d = 13;
        Tensor q = Direct.random(r, 2, h, n, d), k = Direct.random(r, 2, h, n, d), v = Direct.random(r, 2, h, n, d);
        float[] w = new float[h * d * d];
        for (int i = 0; i < d; i++) w[i * d + i] = 1;
        float[] ones = new float[h * d];
        java.util.Arrays.fill(ones, 1f);
        Tensor head0 = Direct.mha(slice0(q), slice0(k), slice0(v), true);
        float[] rep = new float[2 * h * n * d];
        for (int b = 0; b < 2; b++) for (int hh = 0; hh < h; hh++) for (int i = 0; i < n * d; i++) rep[(b * h + hh) * n * d + i] = head0.data()[b * n * d + i];
        Tensor expected = Tensor.of(rep, 2, h, n, d);
        Tensor add = new HeadEmbeddingAttention(new HeadEmbeddingParams(true, 0, false), w, w, w, new float[h * d], new float[h * d], new float[h * d]).run(q, k, v, 2).output();
        VariantAssert.assertClose(expected, add, 1e-5, 1e-4, "MHE-ADD with e = 0");
        Tensor mul = new HeadEmbeddingAttention(new HeadEmbeddingParams(true, 0, true), w, w, w, ones, ones, ones).run(q, k, v, 2).output();
        VariantAssert.assertClose(expected, mul, 1e-5, 1e-4, "MHE-MUL with e = 1");
    }

    private static Tensor slice0(Tensor x) {
        int b = x.dim(0), n = x.dim(2), d = x.dim(3);
        float[] out = new float[b * n * d];
        for (int bi = 0; bi < b; bi++) for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) out[(bi * n + i) * d + c] = x.get(bi, 0, i, c);
        return Tensor.of(out, b, 1, n, d);
    }

    @Test
    void causalRowsNeverSeeLaterTokens() {
        SplittableRandom r = new SplittableRandom(63);
        Tensor q = Direct.random(r, 2, 3, 33, 13), k = Direct.random(r, 2, 3, 33, 13), v = Direct.random(r, 2, 3, 33, 13);
        Direct.assertNoFutureLeak(VariantRegistry.create("mhe", Settings.of("causal=true", "embedding=mul"), 2), q, k, v, 11, r);
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HeadEmbeddingParams(false, Double.NaN, false));
        assertTrue(e.getMessage().startsWith("scale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("mhe", Settings.of("embedding=concat"), 1));
        assertTrue(e.getMessage().startsWith("embedding"), e.getMessage());
        SplittableRandom r = new SplittableRandom(64);
        Tensor q = Direct.random(r, 1, 2, 4, 4);
        float[] w = new float[2 * 16], e2 = new float[8];
        e = assertThrows(IllegalArgumentException.class, () -> new HeadEmbeddingAttention(HeadEmbeddingParams.defaults(), w, w, w, e2, e2, new float[3]).run(q, q, q, 1));
        assertTrue(e.getMessage().startsWith("ev"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new HeadEmbeddingAttention(HeadEmbeddingParams.defaults(), w, null, w, e2, e2, e2));
        assertTrue(e.getMessage().startsWith("wk"), e.getMessage());
    }
}
