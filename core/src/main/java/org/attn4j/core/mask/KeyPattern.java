package org.attn4j.core.mask;

/**
 * A block-sparse visibility pattern for {@link org.attn4j.core.attention.SparseAttention}: which keys
 * each query sees, described block by block so that a tiled kernel computes only the score tiles that
 * hold a visible key and never builds an Nq × Nk mask.
 *
 * <p>The queries {@code 0 … queries()−1} are partitioned into {@link #blocks()} <em>query blocks</em>
 * (any subset of rows, e.g. a spatial patch of a token grid). Block {@code b} is described by
 * {@link #describe} into a {@link KeyBlock}:
 * <ul>
 *   <li>its query rows (each query row belongs to exactly one block);</li>
 *   <li>its <em>key spans</em>: arithmetic progressions of key rows
 *       {@code first, first + step, …, first + (length−1)·step}, all inside {@code [0, keys())};
 *       no key appears in two spans of the same block;</li>
 *   <li>for every (span, query) an interval {@code [lo, hi)} of span element indices
 *       ({@code 0 ≤ lo, hi ≤ length}; {@code lo ≥ hi} means none): the query sees key
 *       {@code first + u·step} exactly when {@code lo ≤ u < hi}.</li>
 * </ul>
 * So query i sees the union over its block's spans of those keys; a query that sees no key gets
 * output 0 (log-sum-exp −inf). Patterns that keep every query's keys in a few long intervals
 * (sliding windows, neighbourhoods, blocks) let the kernel skip all tiles outside them and mask
 * only the tiles that straddle an interval's end.
 *
 * <p>Implementations must be thread-safe: {@link #describe} is called concurrently from worker
 * threads, each with its own {@link KeyBlock}.
 */
public interface KeyPattern {
    /** Number of query rows Nq. */
    int queries();

    /** Number of key rows Nk. */
    int keys();

    /** Number of query blocks. */
    int blocks();

    /** An upper bound on the query rows of any block (sizes the kernel's tiles). */
    int maxBlockQueries();

    /** An upper bound on the spans of any block. */
    int maxBlockSpans();

    /**
     * Writes block {@code block} into {@code out}, which the caller has {@link KeyBlock#clear cleared}
     * and sized with {@link #maxBlockQueries()} and {@link #maxBlockSpans()}.
     */
    void describe(int block, KeyBlock out);
}
