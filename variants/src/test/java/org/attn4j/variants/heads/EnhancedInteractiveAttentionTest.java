package org.attn4j.variants.heads;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class EnhancedInteractiveAttentionTest {

    /**
     * EMHA written the paper's way: all H² maps S_ij = scale·Q_i K_jᵀ, ISI Z_i = Σ_j U[i][j]·S_ij,
     * A_i = softmax(Z_i), CSI W_i = Σ_l C[i][l]·A_l, O_i = W_i V_i.
     */
    static Tensor direct(Tensor q, Tensor k, Tensor v, float[] u, float[] c, boolean causal) {
        int bn = q.dim(0), hn = q.dim(1), n = q.dim(2);
        double scale = 1 / Math.sqrt(q.dim(3));
        double[][][][] out = new double[bn][hn][][];
        for (int b = 0; b < bn; b++) {
            double[][][] a = new double[hn][][];
            for (int i = 0; i < hn; i++) {
                double[][] z = new double[n][n];
                for (int j = 0; j < hn; j++) {
                    double[][] sij = Direct.scaled(Direct.abT(Direct.head(q, b, i), Direct.head(k, b, j)), scale);
                    for (int x = 0; x < n; x++) for (int y = 0; y < n; y++) z[x][y] += u[i * hn + j] * sij[x][y];
                }
                a[i] = Direct.softmax(z, causal);
            }
            for (int i = 0; i < hn; i++) {
                double[][] w = new double[n][n];
                for (int l = 0; l < hn; l++) for (int x = 0; x < n; x++) for (int y = 0; y < n; y++) w[x][y] += c[i * hn + l] * a[l][x][y];
                out[b][i] = Direct.ab(w, Direct.head(v, b, i));
            }
        }
        return Direct.tensor(out);
    }

    @Test
    void matchesTheDirectManyToManyFormula() {
        SplittableRandom r = new SplittableRandom(11);
        int[][] shapes = {{2, 3, 19, 13, 13}, {1, 2, 1, 4, 6}, {1, 4, 66, 8, 5}};
        for (int[] sh : shapes) {
            Tensor q = Direct.random(r, sh[0], sh[1], sh[2], sh[3]), k = Direct.random(r, sh[0], sh[1], sh[2], sh[3]), v = Direct.random(r, sh[0], sh[1], sh[2], sh[4]);
            float[] u = Direct.randomMatrix(r, sh[1] * sh[1], 0.4, true, sh[1]), c = Direct.randomMatrix(r, sh[1] * sh[1], 0.4, true, sh[1]);
            for (boolean causal : new boolean[] {false, true}) {
                Tensor got = new EnhancedInteractiveAttention(new EitParams(causal, 0, 0), u, c).run(q, k, v, 2).output();
                VariantAssert.assertClose(direct(q, k, v, u, c, causal), got, 2e-5, 1e-4, "eit " + java.util.Arrays.toString(sh) + " causal=" + causal);
            }
        }
    }

    @Test
    void identityInteractionsAreStandardMultiHeadAttention() {
        SplittableRandom r = new SplittableRandom(12);
        Tensor q = Direct.random(r, 2, 3, 31, 13), k = Direct.random(r, 2, 3, 31, 13), v = Direct.random(r, 2, 3, 31, 13);
        for (boolean causal : new boolean[] {false, true}) {
            Tensor got = new EnhancedInteractiveAttention(new EitParams(causal, 0, 0), 9).run(q, k, v, 2).output();
            VariantAssert.assertClose(Direct.mha(q, k, v, causal), got, 1e-5, 1e-4, "eit perturb=0 vs sdpa causal=" + causal);
        }
        Tensor def = VariantRegistry.create("eit", Settings.empty(), 9).run(q, k, v, 1).output();
        assertTrue(VariantAssert.relativeError(Direct.mha(q, k, v, false), def) > 1e-3);
    }

    @Test
    void handCheckableTwoHeadsOneToken() {
        // N = 1: every softmax is [1], so O_i = Σ_l C[i][l]·v_i (ISI cannot matter). C = [[1, 2], [0.5, 0]].
        Tensor q = Tensor.of(new float[] {1, 2}, 1, 2, 1, 1), v = Tensor.of(new float[] {3, -4}, 1, 2, 1, 1);
        Tensor got = new EnhancedInteractiveAttention(new EitParams(false, 0, 0), new float[] {0.3f, 0.7f, -1, 2}, new float[] {1, 2, 0.5f, 0})
                .run(q, q, v, 1).output();
        VariantAssert.assertClose(Tensor.of(new float[] {3 * 3, -4 * 0.5f}, 1, 2, 1, 1), got, 1e-6, 0, "hand case");
    }

    @Test
    void causalRowsNeverSeeLaterTokens() {
        SplittableRandom r = new SplittableRandom(13);
        Tensor q = Direct.random(r, 2, 3, 37, 13), k = Direct.random(r, 2, 3, 37, 13), v = Direct.random(r, 2, 3, 37, 13);
        Direct.assertNoFutureLeak(new EnhancedInteractiveAttention(new EitParams(true, 0, 0.3), 3), q, k, v, 22, r);
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EitParams(false, Double.POSITIVE_INFINITY, 0));
        assertTrue(e.getMessage().startsWith("scale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new EitParams(false, 0, -0.5));
        assertTrue(e.getMessage().startsWith("perturb"), e.getMessage());
        SplittableRandom r = new SplittableRandom(14);
        Tensor q = Direct.random(r, 1, 3, 4, 4);
        e = assertThrows(IllegalArgumentException.class, () -> new EnhancedInteractiveAttention(new EitParams(false, 0, 0), new float[4], new float[9]).run(q, q, q, 1));
        assertTrue(e.getMessage().startsWith("inner"), e.getMessage());
    }
}
