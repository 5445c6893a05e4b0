package org.attn4j.explain.analysis;

/**
 * Attention sinks (Xiao et al., "Efficient Streaming Language Models with Attention Sinks", 2023;
 * sink rate after Gu et al., "When Attention Sink Emerges in Language Models", 2024).
 *
 * <p>{@code α_k^(l,h)} is the mean over query rows {@code q} of {@code A^(l,h)[q][k]}: the attention
 * token k receives in head h of layer l. The sink rate of token k is the fraction of (layer, head) pairs
 * with {@code α_k > ε} (strictly), {@code ε} = {@link #DEFAULT_EPSILON} unless given.
 */
public final class AttentionSinks {

    /** The threshold ε of the sink rate, 0.3. */
    public static final double DEFAULT_EPSILON = 0.3;

    private AttentionSinks() {}

    /** {@code α[l][h][k]} = mean over queries of {@code attention[l][h][q][k]}. */
    public static double[][][] meanReceived(double[][][][] attention) {
        int n = Validate.layers("attention", attention);
        double[][][] alpha = new double[attention.length][][];
        for (int l = 0; l < attention.length; l++) {
            alpha[l] = new double[attention[l].length][n];
            for (int h = 0; h < attention[l].length; h++) {
                double[] col = alpha[l][h];
                for (double[] row : attention[l][h]) {
                    for (int k = 0; k < n; k++) {
                        col[k] += row[k];
                    }
                }
                for (int k = 0; k < n; k++) {
                    col[k] /= n;
                }
            }
        }
        return alpha;
    }

    /** Sink rate of every token with ε = {@link #DEFAULT_EPSILON}. */
    public static double[] sinkRates(double[][][][] attention) {
        return sinkRates(attention, DEFAULT_EPSILON);
    }

    /** Sink rate of every token: the fraction of (layer, head) pairs with {@code α_k > epsilon}, in [0, 1]. */
    public static double[] sinkRates(double[][][][] attention, double epsilon) {
        if (!(epsilon >= 0 && epsilon < 1)) {
            throw new IllegalArgumentException("epsilon: " + epsilon + " (expected 0 <= epsilon < 1)");
        }
        double[][][] alpha = meanReceived(attention);
        int n = alpha[0][0].length;
        double[] rate = new double[n];
        int pairs = 0;
        for (double[][] layer : alpha) {
            for (double[] head : layer) {
                pairs++;
                for (int k = 0; k < n; k++) {
                    if (head[k] > epsilon) {
                        rate[k]++;
                    }
                }
            }
        }
        for (int k = 0; k < n; k++) {
            rate[k] /= pairs;
        }
        return rate;
    }
}
