package org.attn4j.explain.analysis;

/**
 * Per-head summary statistics of attention maps: entropy and attention distance.
 *
 * <p>{@code length} is the number of real (non-padding) tokens: only query rows {@code 0 .. length-1} are
 * averaged. Every column of a row is used; padding keys are expected to be masked (probability 0), and
 * then contribute nothing.
 *
 * <ul>
 *   <li>Entropy of a row: {@code −Σ_j p_ij·ln p_ij} in nats, with {@code 0·ln 0 = 0}.</li>
 *   <li>Mean attention distance of a row: {@code Σ_j p_ij·|i − j|} (in tokens); the "mean attention
 *       distance" of Dosovitskiy et al. (ViT, 2021) with token positions in place of patch positions.</li>
 *   <li>Windowed attention distance (local-attention analyses, e.g. sliding-window models): for a window
 *       radius {@code w}, the same distance restricted to keys {@code |i − j| <= w} and renormalised by the
 *       mass inside the window, {@code Σ_{|i−j|<=w} p_ij·|i−j| / Σ_{|i−j|<=w} p_ij}; rows with no mass in
 *       their window are skipped (the result is 0 if every row is). It lies in [0, w], so heads are
 *       comparable across sequence lengths; {@link #windowMass} gives the fraction of attention inside the
 *       window.</li>
 * </ul>
 */
public final class AttentionStats {

    private AttentionStats() {}

    /** Entropy {@code −Σ p ln p} (nats, {@code 0·ln 0 = 0}) of one probability row. */
    public static double entropy(double[] p) {
        double h = 0;
        for (double x : p) {
            if (x > 0) {
                h -= x * Math.log(x);
            }
        }
        return h;
    }

    /** Mean row entropy over the first {@code length} query rows of an n × n map. */
    public static double meanEntropy(double[][] attention, int length) {
        int n = Validate.map("attention", attention);
        Validate.length("length", length, n);
        double sum = 0;
        for (int i = 0; i < length; i++) {
            sum += entropy(attention[i]);
        }
        return sum / length;
    }

    /** Mean row entropy over all rows. */
    public static double meanEntropy(double[][] attention) {
        return meanEntropy(attention, attention == null ? 0 : attention.length);
    }

    /** {@link #meanEntropy(double[][], int)} of every head: {@code [layers][heads]}. */
    public static double[][] meanEntropy(double[][][][] attention, int length) {
        Validate.layers("attention", attention);
        double[][] out = new double[attention.length][];
        for (int l = 0; l < attention.length; l++) {
            out[l] = new double[attention[l].length];
            for (int h = 0; h < attention[l].length; h++) {
                out[l][h] = meanEntropy(attention[l][h], length);
            }
        }
        return out;
    }

    /** Mean attention distance {@code Σ_j p_ij·|i−j|} averaged over the first {@code length} rows. */
    public static double meanDistance(double[][] attention, int length) {
        int n = Validate.map("attention", attention);
        Validate.length("length", length, n);
        double sum = 0;
        for (int i = 0; i < length; i++) {
            for (int j = 0; j < n; j++) {
                sum += attention[i][j] * Math.abs(i - j);
            }
        }
        return sum / length;
    }

    /** Mean attention distance over all rows. */
    public static double meanDistance(double[][] attention) {
        return meanDistance(attention, attention == null ? 0 : attention.length);
    }

    /** {@link #meanDistance(double[][], int)} of every head: {@code [layers][heads]}. */
    public static double[][] meanDistance(double[][][][] attention, int length) {
        Validate.layers("attention", attention);
        double[][] out = new double[attention.length][];
        for (int l = 0; l < attention.length; l++) {
            out[l] = new double[attention[l].length];
            for (int h = 0; h < attention[l].length; h++) {
                out[l][h] = meanDistance(attention[l][h], length);
            }
        }
        return out;
    }

    /**
     * Windowed attention distance (see the class documentation): the distance over keys within
     * {@code |i − j| <= window}, renormalised per row, averaged over the first {@code length} rows that
     * put any mass in their window.
     */
    public static double windowedMeanDistance(double[][] attention, int length, int window) {
        int n = Validate.map("attention", attention);
        Validate.length("length", length, n);
        checkWindow(window);
        double sum = 0;
        int rows = 0;
        for (int i = 0; i < length; i++) {
            double mass = 0;
            double dist = 0;
            for (int j = Math.max(0, i - window), end = Math.min(n - 1, i + window); j <= end; j++) {
                mass += attention[i][j];
                dist += attention[i][j] * Math.abs(i - j);
            }
            if (mass > 0) {
                sum += dist / mass;
                rows++;
            }
        }
        return rows == 0 ? 0 : sum / rows;
    }

    /** Fraction of attention inside the window {@code |i − j| <= window}, averaged over the first {@code length} rows. */
    public static double windowMass(double[][] attention, int length, int window) {
        int n = Validate.map("attention", attention);
        Validate.length("length", length, n);
        checkWindow(window);
        double sum = 0;
        for (int i = 0; i < length; i++) {
            for (int j = Math.max(0, i - window), end = Math.min(n - 1, i + window); j <= end; j++) {
                sum += attention[i][j];
            }
        }
        return sum / length;
    }

    private static void checkWindow(int window) {
        if (window < 0) {
            throw new IllegalArgumentException("window: " + window + " (expected window >= 0)");
        }
    }
}
