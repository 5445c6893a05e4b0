package org.attn4j.variants.contentsparse;

/**
 * Hyper-parameters of {@link RoutingAttention}.
 *
 * @param clusters k-means centroids per head (&ge; 1), or 0 for ⌈√N⌉ (the paper's choice)
 * @param causal   whether query i sees only keys j &le; i
 * @param balanced equal-size clusters: each centroid takes its {@code window} best-scoring queries and
 *                 keys (a token may then sit in several clusters, or in none)
 * @param window   members per centroid in balanced mode (&ge; 1), or 0 for ⌈N / clusters⌉; must be 0 when
 *                 not balanced
 * @param decay    exponential-moving-average factor of the centroid update (0 &le; decay &lt; 1)
 */
public record RoutingParams(int clusters, boolean causal, boolean balanced, int window, double decay) {
    public RoutingParams {
        if (clusters < 0) throw new IllegalArgumentException("clusters: expected >= 1, or 0 for ceil(sqrt(N)), got " + clusters);
        if (window < 0) throw new IllegalArgumentException("window: expected >= 1, or 0 for ceil(N / clusters), got " + window);
        if (window > 0 && !balanced) throw new IllegalArgumentException("window: only balanced clusters have a window; expected 0, got " + window);
        if (!(decay >= 0 && decay < 1)) throw new IllegalArgumentException("decay: expected 0 <= decay < 1, got " + decay);
    }

    /** Centroids for a sequence of n tokens. */
    public int clustersFor(int n) {
        return clusters > 0 ? clusters : Math.max(1, (int) Math.ceil(Math.sqrt(n)));
    }
}
