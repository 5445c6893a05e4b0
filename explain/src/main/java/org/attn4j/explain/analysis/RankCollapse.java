package org.attn4j.explain.analysis;

/**
 * Rank collapse of token representations (Dong, Cordonnier and Loukas, "Attention is Not All You Need:
 * Pure Attention Loses Rank Doubly Exponentially with Depth", ICML 2021).
 *
 * <p>For hidden states {@code H} ({@code n × d}, one row per token), the residual from rank one is
 * {@code res(H) = H − 1·mean_rows(H)} (each column minus its mean), and the collapse ratio is
 * {@code ‖res(H)‖ / ‖H‖} with the composite norm {@code ‖M‖ = sqrt(‖M‖₁·‖M‖∞)}:
 * {@code ‖M‖₁} the largest column absolute sum and {@code ‖M‖∞} the largest row absolute sum. A ratio
 * near 0 means all tokens carry (nearly) the same vector. {@code H = 0} gives 0.
 */
public final class RankCollapse {

    private RankCollapse() {}

    /** {@code res(H) = H − 1·mean_rows(H)}, a new n × d matrix. */
    public static double[][] residual(double[][] h) {
        int n = Validate.matrix("h", h);
        int d = h[0].length;
        double[] mean = new double[d];
        for (double[] row : h) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
        }
        double[][] out = new double[n][d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                out[i][j] = h[i][j] - mean[j];
            }
        }
        return out;
    }

    /** {@code ‖M‖ = sqrt(‖M‖₁·‖M‖∞)}: max column abs-sum times max row abs-sum, square-rooted. */
    public static double norm(double[][] m) {
        Validate.matrix("m", m);
        int d = m[0].length;
        double[] colSums = new double[d];
        double maxRow = 0;
        for (double[] row : m) {
            double rowSum = 0;
            for (int j = 0; j < d; j++) {
                double a = Math.abs(row[j]);
                rowSum += a;
                colSums[j] += a;
            }
            maxRow = Math.max(maxRow, rowSum);
        }
        double maxCol = 0;
        for (double c : colSums) {
            maxCol = Math.max(maxCol, c);
        }
        return Math.sqrt(maxCol * maxRow);
    }

    /** {@code ‖res(H)‖ / ‖H‖}, or 0 when {@code H = 0}. */
    public static double ratio(double[][] h) {
        Validate.matrix("h", h);
        double denominator = norm(h);
        return denominator == 0 ? 0 : norm(residual(h)) / denominator;
    }

    /**
     * The ratio per layer from hidden states {@code [layers + 1][n][d]} (index 0 the embeddings); every
     * layer must have the same n and d.
     */
    public static double[] ratios(double[][][] hidden) {
        if (hidden == null || hidden.length == 0) {
            throw new IllegalArgumentException("hidden: " + (hidden == null ? "null" : "0 layers")
                    + " (expected [layers + 1][n][d])");
        }
        int n = Validate.matrix("hidden[0]", hidden[0]);
        int d = hidden[0][0].length;
        double[] out = new double[hidden.length];
        for (int l = 0; l < hidden.length; l++) {
            int m = Validate.matrix("hidden[" + l + "]", hidden[l]);
            if (m != n || hidden[l][0].length != d) {
                throw new IllegalArgumentException("hidden[" + l + "]: " + m + " x " + hidden[l][0].length
                        + " (expected " + n + " x " + d + ", as in hidden[0])");
            }
            out[l] = ratio(hidden[l]);
        }
        return out;
    }
}
