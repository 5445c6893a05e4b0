package org.attn4j.variants.trainable;

/**
 * Softmax attention of one head in float64 over an arbitrary set of visible keys per query row,
 * forward and backward. The forward keeps the output and the log-sum-exp per row; the backward
 * recomputes each row's probabilities from them (FlashAttention's trick), so memory stays
 * O(N·(D + Dv)) plus one row of scores, never N × N.
 *
 * <p>Arrays are row-major: q, k {@code N × D}, v {@code N × Dv}. Row i sees the keys
 * {@code vis.key(i, 0 .. vis.count(i) − 1)}; a row that sees none has output 0 and no gradient.
 */
final class Softmax64 {
    private Softmax64() {}

    /** The keys each query row sees. */
    interface Visible {
        int count(int i);

        int key(int i, int t);
    }

    /** Causal: row i sees keys 0..i. */
    static final Visible CAUSAL = new Visible() {
        @Override public int count(int i) { return i + 1; }
        @Override public int key(int i, int t) { return t; }
    };

    /** Causal sliding window of {@code kernel} keys: row i sees max(0, i − kernel + 1)..i. */
    static Visible window(int kernel) {
        return new Visible() {
            @Override public int count(int i) { return Math.min(i + 1, kernel); }
            @Override public int key(int i, int t) { return Math.max(0, i - kernel + 1) + t; }
        };
    }

    /** Explicit key lists per row. */
    static Visible lists(int[][] keys) {
        return new Visible() {
            @Override public int count(int i) { return keys[i].length; }
            @Override public int key(int i, int t) { return keys[i][t]; }
        };
    }

    /**
     * out_i = Σ_t p_it v_{key(i,t)}, p_i = softmax_t(scale·q_i·k_{key(i,t)}); writes out (N × Dv)
     * and lse (N; −∞ for a row without keys).
     */
    static void forward(double[] q, double[] k, double[] v, int n, int d, int dv, double scale, Visible vis, double[] out, double[] lse) {
        forward(q, k, v, n, d, dv, scale, vis, false, out, lse);
    }

    /**
     * With {@code signed}, Cog attention's weights (P35): {@code a_it = sign(s_it)·softmax_t(|s_it|)};
     * lse is then that of |s|.
     */
    static void forward(double[] q, double[] k, double[] v, int n, int d, int dv, double scale, Visible vis, boolean signed, double[] out, double[] lse) {
        double[] s = new double[maxCount(vis, n)];
        for (int i = 0; i < n; i++) {
            int cnt = vis.count(i);
            java.util.Arrays.fill(out, i * dv, (i + 1) * dv, 0);
            if (cnt == 0) {
                lse[i] = Double.NEGATIVE_INFINITY;
                continue;
            }
            double m = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < cnt; t++) {
                s[t] = scale * dot(q, i * d, k, vis.key(i, t) * d, d);
                m = Math.max(m, signed ? Math.abs(s[t]) : s[t]);
            }
            double sum = 0;
            for (int t = 0; t < cnt; t++) {
                double p = Math.exp((signed ? Math.abs(s[t]) : s[t]) - m);
                sum += p;
                axpy(signed ? Math.signum(s[t]) * p : p, v, vis.key(i, t) * dv, out, i * dv, dv);
            }
            for (int c = 0; c < dv; c++) out[i * dv + c] /= sum;
            lse[i] = m + Math.log(sum);
        }
    }

    /**
     * Adds the gradients of q, k, v for {@code dOut}: with p recomputed from lse,
     * dv_j += p_ij dO_i; dS_ij = p_ij (dO_i·v_j − dO_i·out_i); dq_i += scale Σ_j dS_ij k_j;
     * dk_j += scale dS_ij q_i.
     */
    static void backward(double[] q, double[] k, double[] v, double[] out, double[] lse, double[] dOut, int n, int d, int dv,
                         double scale, Visible vis, double[] dq, double[] dk, double[] dvOut) {
        backward(q, k, v, out, lse, dOut, n, d, dv, scale, vis, false, dq, dk, dvOut);
    }

    /**
     * With {@code signed} (Cog): a = σ·p with σ = sign(s), p = softmax(|s|); dp_it = σ_it dO_i·v_j and
     * Σ_t p_it dp_it = dO_i·out_i again, so d|s| = p (dp − dO_i·out_i) and ds = σ·d|s| (sign(0) = 0:
     * a zero logit passes no gradient, the subgradient 0 of |s|·sign at 0).
     */
    static void backward(double[] q, double[] k, double[] v, double[] out, double[] lse, double[] dOut, int n, int d, int dv,
                         double scale, Visible vis, boolean signed, double[] dq, double[] dk, double[] dvOut) {
        for (int i = 0; i < n; i++) {
            int cnt = vis.count(i);
            if (cnt == 0) continue;
            double di = dot(dOut, i * dv, out, i * dv, dv);
            for (int t = 0; t < cnt; t++) {
                int j = vis.key(i, t);
                double sij = scale * dot(q, i * d, k, j * d, d);
                double sign = signed ? Math.signum(sij) : 1;
                double p = Math.exp((signed ? Math.abs(sij) : sij) - lse[i]);
                axpy(sign * p, dOut, i * dv, dvOut, j * dv, dv);
                double ds = sign * p * (sign * dot(dOut, i * dv, v, j * dv, dv) - di) * scale;
                axpy(ds, k, j * d, dq, i * d, d);
                axpy(ds, q, i * d, dk, j * d, d);
            }
        }
    }

    static int maxCount(Visible vis, int n) {
        int m = 1;
        for (int i = 0; i < n; i++) m = Math.max(m, vis.count(i));
        return m;
    }

    static double dot(double[] a, int ao, double[] b, int bo, int len) {
        double s = 0;
        for (int c = 0; c < len; c++) s += a[ao + c] * b[bo + c];
        return s;
    }

    static void axpy(double alpha, double[] x, int xo, double[] y, int yo, int len) {
        for (int c = 0; c < len; c++) y[yo + c] += alpha * x[xo + c];
    }
}
