package org.attn4j.variants.latent;

import java.util.Arrays;
import org.attn4j.variants.linalg.OneSidedJacobi;

/**
 * Singular values and numerical rank of a dense float64 matrix by one-sided (Hestenes) Jacobi
 * rotations: the columns of the matrix (or of its transpose, whichever has fewer columns) are
 * rotated pairwise until mutually orthogonal; the singular values are then the column norms.
 * Accurate to a few ulps relative to the largest singular value, which is what a rank test needs.
 */
public final class NumericalRank {
    /** Default relative threshold: singular values below {@code tol·σ_max} count as zero. */
    public static final double DEFAULT_TOL = 1e-9;

    private NumericalRank() {}

    /** Singular values of the row-major {@code rows × cols} matrix {@code a}, largest first. */
    public static double[] singularValues(double[] a, int rows, int cols) {
        if (rows < 0 || cols < 0 || a.length < (long) rows * cols) {
            throw new IllegalArgumentException("a: expected at least " + rows + "x" + cols + " values, got " + a.length);
        }
        // Work on columns of the tall orientation: m ≥ n, column c stored contiguously in u[c].
        boolean transpose = cols > rows;
        int m = transpose ? cols : rows, n = transpose ? rows : cols;
        double[][] u = new double[n][m];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                if (transpose) u[r][c] = a[r * cols + c];
                else u[c][r] = a[r * cols + c];
            }
        }
        OneSidedJacobi.orthogonalise(u, null, 60);
        double[] sv = new double[n];
        for (int c = 0; c < n; c++) sv[c] = Math.sqrt(OneSidedJacobi.dot(u[c], u[c]));
        Arrays.sort(sv);
        for (int i = 0, j = n - 1; i < j; i++, j--) {
            double t = sv[i];
            sv[i] = sv[j];
            sv[j] = t;
        }
        return sv;
    }

    /** Number of singular values above {@code tol·σ_max} (0 for a zero matrix). */
    public static int rank(double[] a, int rows, int cols, double tol) {
        if (!(tol > 0 && tol < 1)) throw new IllegalArgumentException("tol: expected in (0, 1), got " + tol);
        double[] sv = singularValues(a, rows, cols);
        if (sv.length == 0 || sv[0] == 0) return 0;
        int r = 0;
        for (double s : sv) if (s > tol * sv[0]) r++;
        return r;
    }
}
