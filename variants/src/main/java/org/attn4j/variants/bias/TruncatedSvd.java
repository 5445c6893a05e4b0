package org.attn4j.variants.bias;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.attn4j.variants.linalg.OneSidedJacobi;

/**
 * Truncated singular value decomposition {@code A ≈ U·diag(s)·Vᵀ} of a dense {@code m × n} matrix in
 * float64, written for FlashBias (no linear-algebra library).
 *
 * <p>Algorithm: a randomised range finder with power iterations (Halko, Martinsson, Tropp) finds an
 * orthonormal basis {@code Q} ({@code m × k}, {@code k = rank + 10}) of A's dominant column space;
 * the small matrix {@code C = Qᵀ·A} is then decomposed exactly by one-sided (Hestenes) Jacobi
 * rotations, and {@code A ≈ (Q·V_C)·diag(s)·U_Cᵀ}. When {@code k ≥ m} the range finder is skipped
 * ({@code Q = I}) and the decomposition is exact up to rounding: a full-rank request reproduces A.
 *
 * <p>The left vectors are orthonormal and {@code s_i = u_iᵀ·A·v_i}, so the rank-r truncation is
 * the orthogonal projection {@code U_r·U_rᵀ·A} and its error is exactly
 * {@code ‖A − A_r‖_F² = ‖A‖_F² − Σ_{i≤r} s_i²}, which {@link #relativeErrors} reports.
 */
public final class TruncatedSvd {
    private static final int OVERSAMPLE = 10;
    private static final int POWER_ITERATIONS = 6;
    private static final int MAX_SWEEPS = 80;

    private final int m, n, rank;
    private final double[] u; // m × rank, row-major
    private final double[] s; // rank, descending
    private final double[] v; // n × rank, row-major
    private final double frobenius2;

    private TruncatedSvd(int m, int n, int rank, double[] u, double[] s, double[] v, double frobenius2) {
        this.m = m;
        this.n = n;
        this.rank = rank;
        this.u = u;
        this.s = s;
        this.v = v;
        this.frobenius2 = frobenius2;
    }

    /**
     * Decomposes the row-major {@code m × n} matrix {@code a} (not modified) to {@code rank}
     * components; {@code seed} drives the range finder's random test matrix.
     */
    public static TruncatedSvd of(double[] a, int m, int n, int rank, long seed) {
        if (m < 1 || n < 1) throw new IllegalArgumentException("matrix: expected m, n >= 1, got " + m + " x " + n);
        if (a.length != (long) m * n) throw new IllegalArgumentException("a: expected " + ((long) m * n) + " values for " + m + " x " + n + ", got " + a.length);
        if (rank < 1 || rank > Math.min(m, n)) {
            throw new IllegalArgumentException("rank: expected 1.." + Math.min(m, n) + " for a " + m + " x " + n + " matrix, got " + rank);
        }
        double fro = 0;
        for (double x : a) {
            if (!Double.isFinite(x)) throw new IllegalArgumentException("a: expected finite values, got " + x);
            fro += x * x;
        }
        int k = rank + OVERSAMPLE;
        double[][] qCols; // orthonormal basis columns, each of length m
        double[][] cT;    // columns of Cᵀ (n-long), one per basis vector: cT[c][j] = (Qᵀ A)[c][j]
        if (k >= m) {
            qCols = null; // identity
            cT = new double[m][n];
            for (int i = 0; i < m; i++) System.arraycopy(a, i * n, cT[i], 0, n);
            k = m;
        } else {
            SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
            double[][] y = new double[k][];
            for (int c = 0; c < k; c++) {
                double[] omega = new double[n];
                for (int j = 0; j < n; j++) omega[j] = gaussian(r);
                y[c] = times(a, m, n, omega);
            }
            orthonormalise(y);
            for (int it = 0; it < POWER_ITERATIONS; it++) {
                double[][] z = new double[k][];
                for (int c = 0; c < k; c++) z[c] = timesTransposed(a, m, n, y[c]);
                orthonormalise(z);
                for (int c = 0; c < k; c++) y[c] = times(a, m, n, z[c]);
                orthonormalise(y);
            }
            qCols = y;
            cT = new double[k][];
            for (int c = 0; c < k; c++) cT[c] = timesTransposed(a, m, n, y[c]);
        }
        // One-sided Jacobi on the k columns of Cᵀ (n × k): Cᵀ·W = U'·Σ with W (k × k) orthogonal,
        // stored by columns (w[col][row]).
        double[][] w = new double[k][k];
        for (int c = 0; c < k; c++) w[c][c] = 1;
        OneSidedJacobi.orthogonalise(cT, w, MAX_SWEEPS);
        Integer[] order = new Integer[k];
        double[] sigma = new double[k];
        for (int c = 0; c < k; c++) {
            order[c] = c;
            sigma[c] = Math.sqrt(OneSidedJacobi.dot(cT[c], cT[c]));
        }
        Arrays.sort(order, (x, y2) -> Double.compare(sigma[y2], sigma[x]));
        // Cᵀ = U'·Σ·Wᵀ ⇒ C = W·Σ·U'ᵀ ⇒ A ≈ Q·C = (Q·W)·Σ·U'ᵀ: left vectors Q·w_c, right vectors u'_c.
        double[] uu = new double[m * rank], ss = new double[rank], vv = new double[n * rank];
        for (int t = 0; t < rank; t++) {
            int c = order[t];
            ss[t] = sigma[c];
            for (int j = 0; j < n; j++) vv[j * rank + t] = sigma[c] > 0 ? cT[c][j] / sigma[c] : 0;
            // column c of W (stored by columns: w[col][row]).
            for (int i = 0; i < m; i++) {
                double x;
                if (qCols == null) {
                    x = w[c][i];
                } else {
                    x = 0;
                    for (int p = 0; p < k; p++) x += qCols[p][i] * w[c][p];
                }
                uu[i * rank + t] = x;
            }
        }
        return new TruncatedSvd(m, n, rank, uu, ss, vv, fro);
    }

    /** Rows of the matrix. */
    public int rows() { return m; }
    /** Columns of the matrix. */
    public int cols() { return n; }
    /** Number of components kept. */
    public int rank() { return rank; }
    /** Singular values, descending (a copy). */
    public double[] singularValues() { return s.clone(); }
    /** Left vectors {@code m × rank}, row-major (a copy). */
    public double[] left() { return u.clone(); }
    /** Right vectors {@code n × rank}, row-major (a copy). */
    public double[] right() { return v.clone(); }

    /** {@code ‖A − A_r‖_F / ‖A‖_F} for r = 1..rank (0 for a zero matrix). */
    public double[] relativeErrors() {
        double[] e = new double[rank];
        double kept = 0;
        for (int r = 0; r < rank; r++) {
            kept += s[r] * s[r];
            e[r] = frobenius2 == 0 ? 0 : Math.sqrt(Math.max(0, frobenius2 - kept) / frobenius2);
        }
        return e;
    }

    /** The rank-r reconstruction {@code U_r·diag(s_r)·V_rᵀ}, row-major {@code m × n}. */
    public double[] reconstruct(int r) {
        if (r < 0 || r > rank) throw new IllegalArgumentException("r: expected 0.." + rank + ", got " + r);
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double x = 0;
                for (int t = 0; t < r; t++) x += u[i * rank + t] * s[t] * v[j * rank + t];
                out[i * n + j] = x;
            }
        }
        return out;
    }

    private static void orthonormalise(double[][] cols) {
        for (int pass = 0; pass < 2; pass++) {
            for (int c = 0; c < cols.length; c++) {
                double[] x = cols[c];
                for (int p = 0; p < c; p++) {
                    double d = OneSidedJacobi.dot(cols[p], x);
                    double[] y = cols[p];
                    for (int i = 0; i < x.length; i++) x[i] -= d * y[i];
                }
                double norm = Math.sqrt(OneSidedJacobi.dot(x, x));
                if (norm > 0) for (int i = 0; i < x.length; i++) x[i] /= norm;
            }
        }
    }

    private static double[] times(double[] a, int m, int n, double[] x) {
        double[] y = new double[m];
        for (int i = 0; i < m; i++) {
            double acc = 0;
            for (int j = 0; j < n; j++) acc += a[i * n + j] * x[j];
            y[i] = acc;
        }
        return y;
    }

    private static double[] timesTransposed(double[] a, int m, int n, double[] x) {
        double[] y = new double[n];
        for (int i = 0; i < m; i++) {
            double xi = x[i];
            if (xi == 0) continue;
            for (int j = 0; j < n; j++) y[j] += a[i * n + j] * xi;
        }
        return y;
    }

    private static double gaussian(SplittableRandom r) {
        double u1 = 1 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
