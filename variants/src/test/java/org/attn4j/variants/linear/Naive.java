package org.attn4j.variants.linear;

import org.attn4j.core.tensor.Tensor;

/**
 * Direct O(N²) float64 computations of the papers' formulas, written independently of the
 * O(N) code under test: every score matrix is formed in full.
 */
final class Naive {
    private Naive() {}

    /** Row i of head (b, h) of a contiguous [B, H, N, X] tensor as doubles. */
    static double[][] head(Tensor t, int b, int h) {
        int n = t.dim(2), x = t.dim(3);
        double[][] out = new double[n][x];
        for (int i = 0; i < n; i++) for (int c = 0; c < x; c++) out[i][c] = t.get(b, h, i, c);
        return out;
    }

    /** Pairwise weight function of (query row, key row). */
    interface Weight {
        double w(double[] q, double[] k);
    }

    /** out_i = Σ_j w_ij v_j / Σ_j w_ij (normalised) or Σ_j w_ij v_j, j over all keys or j ≤ i. */
    static double[][] weighted(double[][] q, double[][] k, double[][] v, Weight w, boolean causal, boolean normalise) {
        int nq = q.length, nk = k.length, dv = v[0].length;
        double[][] a = new double[nq][nk];
        for (int i = 0; i < nq; i++) for (int j = 0; j < nk; j++) a[i][j] = causal && j > i ? 0 : w.w(q[i], k[j]);
        return apply(a, v, normalise);
    }

    /** (A V) row by row, optionally divided by the row sums of A (a zero sum gives a zero row). */
    static double[][] apply(double[][] a, double[][] v, boolean normalise) {
        int nq = a.length, nk = v.length, dv = v[0].length;
        double[][] out = new double[nq][dv];
        for (int i = 0; i < nq; i++) {
            double den = 0;
            for (int j = 0; j < nk; j++) {
                den += a[i][j];
                for (int c = 0; c < dv; c++) out[i][c] += a[i][j] * v[j][c];
            }
            if (normalise) for (int c = 0; c < dv; c++) out[i][c] = den == 0 ? 0 : out[i][c] / den;
        }
        return out;
    }

    /** Σ_c f(q_c) g(k_c). */
    static double featureDot(double[] q, double[] k, java.util.function.DoubleUnaryOperator f, java.util.function.DoubleUnaryOperator g) {
        double s = 0;
        for (int c = 0; c < q.length; c++) s += f.applyAsDouble(q[c]) * g.applyAsDouble(k[c]);
        return s;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int c = 0; c < a.length; c++) s += a[c] * b[c];
        return s;
    }

    /** Assembles per-head results into a [B, H, N, Dv] tensor. */
    interface PerHead {
        double[][] head(int b, int h);
    }

    static Tensor assemble(int batch, int heads, int n, int dv, PerHead f) {
        float[] out = new float[batch * heads * n * dv];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                double[][] o = f.head(b, h);
                for (int i = 0; i < n; i++) for (int c = 0; c < dv; c++) out[((b * heads + h) * n + i) * dv + c] = (float) o[i][c];
            }
        }
        return Tensor.of(out, batch, heads, n, dv);
    }

    static double elu1(double x) { return x > 0 ? x + 1 : Math.exp(x); }
    static double relu(double x) { return Math.max(0, x); }
    static double sigmoid(double x) { return 1 / (1 + Math.exp(-x)); }
}
