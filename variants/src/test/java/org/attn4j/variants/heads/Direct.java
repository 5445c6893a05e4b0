package org.attn4j.variants.heads;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantAssert;

/** Float64 building blocks for the head-variant oracles, written independently of the code under test. */
final class Direct {
    private Direct() {}

    /** t[b][h] as a double N × X matrix. */
    static double[][] head(Tensor t, int b, int h) {
        int n = t.dim(2), x = t.dim(3);
        double[][] m = new double[n][x];
        for (int i = 0; i < n; i++) for (int c = 0; c < x; c++) m[i][c] = t.get(b, h, i, c);
        return m;
    }

    /** a · bᵀ. */
    static double[][] abT(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b.length; j++) {
                double s = 0;
                for (int p = 0; p < a[i].length; p++) s += a[i][p] * b[j][p];
                c[i][j] = s;
            }
        }
        return c;
    }

    /** a · b. */
    static double[][] ab(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int p = 0; p < b.length; p++) {
                double x = a[i][p];
                for (int j = 0; j < b[0].length; j++) c[i][j] += x * b[p][j];
            }
        }
        return c;
    }

    static double[][] scaled(double[][] a, double s) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
            for (int j = 0; j < c[i].length; j++) c[i][j] *= s;
        }
        return c;
    }

    /** Row softmax; under causal masking entries j > i get weight 0. */
    static double[][] softmax(double[][] logits, boolean causal) {
        int n = logits.length;
        double[][] p = new double[n][];
        for (int i = 0; i < n; i++) {
            int m = logits[i].length, valid = causal ? Math.min(m, i + 1) : m;
            p[i] = new double[m];
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < valid; j++) max = Math.max(max, logits[i][j]);
            for (int j = 0; j < valid; j++) sum += p[i][j] = Math.exp(logits[i][j] - max);
            for (int j = 0; j < valid; j++) p[i][j] /= sum;
        }
        return p;
    }

    /** out[b][h] (N × X) into a [B, H, N, X] tensor. */
    static Tensor tensor(double[][][][] out) {
        int bn = out.length, hn = out[0].length, n = out[0][0].length, x = out[0][0][0].length;
        float[] f = new float[bn * hn * n * x];
        for (int b = 0; b < bn; b++) for (int h = 0; h < hn; h++) for (int i = 0; i < n; i++) for (int c = 0; c < x; c++) {
            f[((b * hn + h) * n + i) * x + c] = (float) out[b][h][i][c];
        }
        return Tensor.of(f, bn, hn, n, x);
    }

    /** The engine's float64 reference kernel: standard multi-head attention. */
    static Tensor mha(Tensor q, Tensor k, Tensor v, boolean causal) {
        AttentionSpec.Builder s = AttentionSpec.builder().kernel(KernelChoice.REFERENCE);
        if (causal) s.causal(CausalAlignment.TOP_LEFT);
        return Attention.sdpa(q, k, v, s.build()).output();
    }

    /** Random [B, H, N, X]. */
    static Tensor random(SplittableRandom r, int b, int h, int n, int x) {
        return VariantAssert.random(r, b, h, n, x);
    }

    static float[] randomMatrix(SplittableRandom r, int len, double std, boolean plusIdentity, int n) {
        float[] m = new float[len];
        for (int i = 0; i < len; i++) m[i] = (float) (std * VariantAssert.gaussian(r));
        if (plusIdentity) for (int i = 0; i < n; i++) m[i * n + i] += 1f;
        return m;
    }

    /**
     * Causal leak check: changing q, k and v at every position after {@code t} must not change any
     * output row at or before t (in any head or batch).
     */
    static void assertNoFutureLeak(Variant variant, Tensor q, Tensor k, Tensor v, int t, SplittableRandom r) {
        Tensor a = variant.run(q, k, v, 2).output();
        Tensor q2 = perturbAfter(q, t, r), k2 = perturbAfter(k, t, r), v2 = perturbAfter(v, t, r);
        Tensor b = variant.run(q2, k2, v2, 2).output();
        for (int bi = 0; bi < a.dim(0); bi++) for (int h = 0; h < a.dim(1); h++) for (int i = 0; i <= t; i++) for (int c = 0; c < a.dim(3); c++) {
            assertEquals(a.get(bi, h, i, c), b.get(bi, h, i, c), 1e-6, variant.info().name() + ": row " + i + " changed when tokens after " + t + " changed");
        }
        // And the check can fail: some later row must change.
        boolean changed = false;
        for (int i = t + 1; i < a.dim(2) && !changed; i++) for (int c = 0; c < a.dim(3); c++) if (a.get(0, 0, i, c) != b.get(0, 0, i, c)) changed = true;
        org.junit.jupiter.api.Assertions.assertTrue(changed || t + 1 >= a.dim(2), "perturbation had no effect at all");
    }

    private static Tensor perturbAfter(Tensor x, int t, SplittableRandom r) {
        float[] d = x.contiguous().toArray().clone();
        int bn = x.dim(0), hn = x.dim(1), n = x.dim(2), c = x.dim(3);
        for (int b = 0; b < bn; b++) for (int h = 0; h < hn; h++) for (int i = t + 1; i < n; i++) for (int z = 0; z < c; z++) {
            d[((b * hn + h) * n + i) * c + z] = (float) (3 * VariantAssert.gaussian(r));
        }
        return Tensor.of(d, bn, hn, n, c);
    }
}
