package org.attn4j.variants.latent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class LowRankHeadsTest {

    /** Direct float64 evaluation of softmax(scale·(q W_Q)(k W_K)ᵀ) v per head, bottom-right causal. */
    static float[] naive(Tensor q, Tensor k, Tensor v, LowRankHeads.Weights w, double scale, boolean causal) {
        int b = q.dim(0), heads = q.dim(1), nq = q.dim(2), d = q.dim(3), nk = k.dim(2), dv = v.dim(3), r = w.rank();
        float[] out = new float[b * heads * nq * dv];
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < nq; i++) {
                    double[] s = new double[nk];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < nk; j++) {
                        if (causal && j > i + nk - nq) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double acc = 0;
                        for (int c = 0; c < r; c++) {
                            double qa = 0, ka = 0;
                            for (int p = 0; p < d; p++) {
                                qa += (double) q.get(bi, h, i, p) * w.wq()[h][p * r + c];
                                ka += (double) k.get(bi, h, j, p) * w.wk()[h][p * r + c];
                            }
                            acc += qa * ka;
                        }
                        s[j] = scale * acc;
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < nk; j++) z += s[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
                    if (z == 0) continue; // no visible key: the row is 0
                    for (int c = 0; c < dv; c++) {
                        double acc = 0;
                        for (int j = 0; j < nk; j++) if (s[j] != Double.NEGATIVE_INFINITY) acc += Math.exp(s[j] - max) / z * v.get(bi, h, j, c);
                        out[((bi * heads + h) * nq + i) * dv + c] = (float) acc;
                    }
                }
            }
        }
        return out;
    }

    @Test
    void matchesDirectFloat64OnRandomShapes() {
        SplittableRandom r = new SplittableRandom(5);
        // {B, H, Nq, Nk, D, Dv, r}: fixed edge cases (N = 1, Nq > Nk with fully masked causal rows), then random draws.
        java.util.List<int[]> shapes = new java.util.ArrayList<>(java.util.List.of(
                new int[] {2, 3, 7, 9, 5, 3, 2}, new int[] {1, 2, 1, 1, 4, 4, 1}, new int[] {1, 1, 13, 13, 10, 6, 7},
                new int[] {3, 2, 6, 11, 3, 5, 9}, new int[] {1, 2, 6, 4, 3, 2, 2}));
        for (int i = 0; i < 4; i++) {
            shapes.add(new int[] {1 + r.nextInt(3), 1 + r.nextInt(3), 1 + r.nextInt(20), 1 + r.nextInt(20), 1 + r.nextInt(12), 1 + r.nextInt(9), 1 + r.nextInt(10)});
        }
        for (int[] sh : shapes) {
            for (boolean causal : new boolean[] {false, true}) {
                Tensor q = VariantAssert.random(r, sh[0], sh[1], sh[2], sh[4]);
                Tensor k = VariantAssert.random(r, sh[0], sh[1], sh[3], sh[4]);
                Tensor v = VariantAssert.random(r, sh[0], sh[1], sh[3], sh[5]);
                LowRankHeads m = new LowRankHeads(new LowRankParams(sh[6], null, causal), 17 + sh[6]);
                LowRankHeads.Weights w = m.weights(sh[1], sh[4]);
                VariantResult res = m.run(q, k, v, 2);
                Tensor expect = Tensor.of(naive(q, k, v, w, 1 / Math.sqrt(sh[4]), causal), sh[0], sh[1], sh[2], sh[5]);
                VariantAssert.assertClose(expect, res.output(), 2e-5, 1e-4, java.util.Arrays.toString(sh) + " causal=" + causal);
                assertTrue(res.flops() > 0);
            }
        }
    }

    @Test
    void fullRankIdentityFactorsAreStandardMultiHeadAttention() {
        SplittableRandom r = new SplittableRandom(6);
        int heads = 3, d = 6;
        for (int rank : new int[] {d, d + 3}) {
            float[][] wq = new float[heads][d * rank], wk = new float[heads][d * rank];
            for (int h = 0; h < heads; h++) for (int p = 0; p < d; p++) {
                wq[h][p * rank + p] = 1;
                wk[h][p * rank + p] = 1;
            }
            Tensor q = VariantAssert.random(r, 2, heads, 9, d), k = VariantAssert.random(r, 2, heads, 9, d), v = VariantAssert.random(r, 2, heads, 9, 4);
            LowRankHeads m = new LowRankHeads(new LowRankParams(rank, null, false), new LowRankHeads.Weights(heads, d, rank, wq, wk));
            VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, null, null), m.forward(q, k, v), 1e-5, 1e-5, "rank " + rank);
        }
    }

    @Test
    void eachHeadsLogitRankIsAtMostR() {
        SplittableRandom r = new SplittableRandom(7);
        int d = 8, n = 20;
        Tensor q = VariantAssert.random(r, 2, 2, n, d), k = VariantAssert.random(r, 2, 2, n + 3, d);
        for (int rank : new int[] {1, 3, 8, 12}) {
            LowRankHeads m = new LowRankHeads(new LowRankParams(rank, null, false), 40 + rank);
            int[][] ranks = m.logitRanks(q, k, NumericalRank.DEFAULT_TOL);
            for (int[] row : ranks) {
                for (int got : row) {
                    assertTrue(got <= rank, "rank " + got + " > r " + rank);
                    // Generic random factors reach the bound min(r, D).
                    assertEquals(Math.min(rank, d), got, "r=" + rank);
                }
            }
        }
    }

    @Test
    void numericalRankOfKnownMatrices() {
        SplittableRandom r = new SplittableRandom(8);
        // A 10×12 product of 10×4 and 4×12 random factors has rank 4.
        double[] a = new double[10 * 4], b = new double[4 * 12], m = new double[10 * 12];
        for (int i = 0; i < a.length; i++) a[i] = VariantAssert.gaussian(r);
        for (int i = 0; i < b.length; i++) b[i] = VariantAssert.gaussian(r);
        for (int i = 0; i < 10; i++) for (int j = 0; j < 12; j++) for (int p = 0; p < 4; p++) m[i * 12 + j] += a[i * 4 + p] * b[p * 12 + j];
        assertEquals(4, NumericalRank.rank(m, 10, 12, 1e-9));
        assertEquals(4, NumericalRank.rank(transpose(m, 10, 12), 12, 10, 1e-9));
        // Diagonal with known singular values (one negative entry, one zero).
        double[] diag = new double[5 * 5];
        double[] s = {3, -7, 0.5, 0, 2};
        for (int i = 0; i < 5; i++) diag[i * 5 + i] = s[i];
        double[] sv = NumericalRank.singularValues(diag, 5, 5);
        double[] expect = {7, 3, 2, 0.5, 0};
        for (int i = 0; i < 5; i++) assertEquals(expect[i], sv[i], 1e-12);
        assertEquals(4, NumericalRank.rank(diag, 5, 5, 1e-9));
        assertEquals(0, NumericalRank.rank(new double[6], 2, 3, 1e-9));
        // A rotation-mixed 2×2 with σ = {5, 0}: [[3, 4], [6, 8]] has rank 1, σ_max = 5·sqrt(5).
        double[] sv2 = NumericalRank.singularValues(new double[] {3, 4, 6, 8}, 2, 2);
        assertEquals(5 * Math.sqrt(5), sv2[0], 1e-12);
        assertEquals(0, sv2[1], 1e-12);
    }

    private static double[] transpose(double[] m, int rows, int cols) {
        double[] t = new double[m.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = m[i * cols + j];
        return t;
    }

    @Test
    void causalOutputIgnoresFutureTokens() {
        SplittableRandom r = new SplittableRandom(9);
        Tensor q = VariantAssert.random(r, 1, 2, 12, 5), k = VariantAssert.random(r, 1, 2, 12, 5), v = VariantAssert.random(r, 1, 2, 12, 3);
        LowRankHeads m = new LowRankHeads(new LowRankParams(2, null, true), 3);
        float[] a = m.forward(q, k, v).toArray();
        float[] kd = k.toArray(), vd = v.toArray();
        for (int h = 0; h < 2; h++) for (int t = 8; t < 12; t++) {
            for (int c = 0; c < 5; c++) kd[(h * 12 + t) * 5 + c] += 3;
            for (int c = 0; c < 3; c++) vd[(h * 12 + t) * 3 + c] -= 2;
        }
        float[] b = m.forward(q, Tensor.of(kd, 1, 2, 12, 5), Tensor.of(vd, 1, 2, 12, 3)).toArray();
        for (int h = 0; h < 2; h++) for (int t = 0; t < 8; t++) for (int c = 0; c < 3; c++) {
            int i = (h * 12 + t) * 3 + c;
            assertEquals(a[i], b[i], 0f, "row " + t + " saw a future key");
        }
        boolean changed = false;
        for (int i = 0; i < a.length; i++) changed |= a[i] != b[i];
        assertTrue(changed, "perturbing keys changed nothing at all");
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LowRankParams(0, null, false));
        assertTrue(e.getMessage().contains("rank") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LowRankParams(2, Float.NaN, false));
        assertTrue(e.getMessage().contains("scale"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("low-rank-heads", Settings.of("rank=-1"), 1));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LowRankHeads.Weights(1, 4, 2, new float[][] {new float[7]}, new float[][] {new float[8]}));
        assertTrue(e.getMessage().contains("wq[0]"), e.getMessage());
        assertEquals(3, ((LowRankHeads) VariantRegistry.create("low-rank-heads", Settings.of("rank=3", "scale=0.5"), 1)).params().rank());
    }
}
