package org.attn4j.variants.linalg;

/**
 * One-sided (Hestenes) Jacobi orthogonalisation in float64: the columns are rotated pairwise until
 * mutually orthogonal, after which their norms are the singular values of the matrix they form.
 * Shared by the truncated SVD of FlashBias and the numerical-rank report of low-rank heads.
 */
public final class OneSidedJacobi {
    private OneSidedJacobi() {}

    /**
     * Rotates {@code cols} (each an array of the same length) in place until every pair is
     * orthogonal to 1e-15 relative, or {@code maxSweeps} sweeps have run. When {@code w} is not
     * null, the same rotations are applied to its columns ({@code w[col][row]}), so that
     * {@code A·W} stays equal to the rotated columns when W starts as the identity.
     */
    public static void orthogonalise(double[][] cols, double[][] w, int maxSweeps) {
        int k = cols.length;
        for (int sweep = 0; sweep < maxSweeps; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < k - 1; p++) {
                for (int q = p + 1; q < k; q++) {
                    double[] ap = cols[p], aq = cols[q];
                    double alpha = dot(ap, ap), beta = dot(aq, aq), gamma = dot(ap, aq);
                    if (gamma == 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    if (zeta == 0) t = 1;
                    double c = 1 / Math.sqrt(1 + t * t), sn = c * t;
                    rotate(ap, aq, c, sn);
                    if (w != null) rotate(w[p], w[q], c, sn);
                }
            }
            if (!rotated) return;
        }
    }

    /** The plane rotation of columns x, y: {@code x ← c·x − s·y, y ← s·x + c·y}. */
    private static void rotate(double[] x, double[] y, double c, double s) {
        for (int i = 0; i < x.length; i++) {
            double a = x[i], b = y[i];
            x[i] = c * a - s * b;
            y[i] = s * a + c * b;
        }
    }

    /** Σ a[i]·b[i] in index order. */
    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
