package org.attn4j.variants.bias;

/**
 * Hyper-parameters of {@link RelativePositionAttention}.
 *
 * @param causal      causal decoder attention with relative distances −M..0 (the paper's setting);
 *                    false is the bidirectional extension with distances −M..M
 * @param maxDistance clipping distance M (Shaw et al.): distances beyond ±M share the embedding
 *                    of ±M; 0 means no clipping (M = N − 1 for the input's N)
 * @param block       query rows per tile: the skewed relative logits are built for one tile at a
 *                    time, so the extra memory is O(block·N) floats per worker, not O(N²)
 */
public record RelativePositionParams(boolean causal, int maxDistance, int block) {
    /** Largest clipping distance whose row count 2M + 1 is an int. */
    public static final int MAX_DISTANCE = (Integer.MAX_VALUE - 1) / 2;

    public RelativePositionParams {
        if (maxDistance < 0 || maxDistance > MAX_DISTANCE) {
            throw new IllegalArgumentException("maxDistance: expected 0.." + MAX_DISTANCE + " (0 = no clipping; the table has 2M + 1 rows), got " + maxDistance);
        }
        if (block < 1) throw new IllegalArgumentException("block: expected >= 1, got " + block);
    }

    /** The clipping distance for sequence length n. */
    public int distance(int n) { return maxDistance == 0 ? Math.max(n - 1, 0) : maxDistance; }

    /** Embedding rows for clipping distance M: M + 1 (causal) or 2M + 1 (bidirectional). */
    public int tableRows(int m) { return causal ? m + 1 : 2 * m + 1; }
}
