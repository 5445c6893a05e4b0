package org.attn4j.core.mask;

import java.util.Arrays;

/**
 * One query block of a {@link KeyPattern}: its query rows, its key spans and the visible interval
 * of every span for every query (see {@link KeyPattern} for the meaning). A reusable, mutable
 * scratch object owned by one thread: the pattern fills it with {@link #addQuery}, {@link #addSpan}
 * and {@link #visible}; the kernel reads it back.
 */
public final class KeyBlock {
    private final int maxQueries, maxSpans;
    private final int[] queries;
    private final int[] first, length, step;
    private final int[][] lo, hi;
    private int queryCount, spanCount;

    /** A block with room for {@code maxQueries} query rows and {@code maxSpans} spans. */
    public KeyBlock(int maxQueries, int maxSpans) {
        if (maxQueries < 1) throw new IllegalArgumentException("maxQueries: expected >= 1, got " + maxQueries);
        if (maxSpans < 1) throw new IllegalArgumentException("maxSpans: expected >= 1, got " + maxSpans);
        this.maxQueries = maxQueries;
        this.maxSpans = maxSpans;
        queries = new int[maxQueries];
        first = new int[maxSpans];
        length = new int[maxSpans];
        step = new int[maxSpans];
        lo = new int[maxSpans][maxQueries];
        hi = new int[maxSpans][maxQueries];
    }

    /** Empties the block. */
    public void clear() {
        queryCount = 0;
        spanCount = 0;
    }

    /** Appends query row {@code row}; returns its column index in the block (0, 1, …). */
    public int addQuery(int row) {
        if (queryCount == maxQueries) {
            throw new IllegalStateException("KeyBlock: more than maxBlockQueries=" + maxQueries + " queries in one block");
        }
        queries[queryCount] = row;
        return queryCount++;
    }

    /**
     * Appends the span {@code first, first + step, …} of {@code length} keys, visible to no query
     * until {@link #visible} says otherwise; returns its index.
     */
    public int addSpan(int first, int length, int step) {
        if (spanCount == maxSpans) {
            throw new IllegalStateException("KeyBlock: more than maxBlockSpans=" + maxSpans + " spans in one block");
        }
        int s = spanCount++;
        this.first[s] = first;
        this.length[s] = length;
        this.step[s] = step;
        Arrays.fill(lo[s], 0);
        Arrays.fill(hi[s], 0);
        return s;
    }

    /**
     * Query column {@code column} sees elements {@code [lo, hi)} of span {@code span}; both must
     * already have been added (else IllegalStateException: the entry would be lost or ignored).
     */
    public void visible(int span, int column, int lo, int hi) {
        if (span < 0 || span >= spanCount) {
            throw new IllegalStateException("KeyBlock: visible(span=" + span + ", ...) but the block has " + spanCount + " spans so far");
        }
        if (column < 0 || column >= queryCount) {
            throw new IllegalStateException("KeyBlock: visible(..., column=" + column + ", ...) but the block has " + queryCount + " queries so far");
        }
        this.lo[span][column] = lo;
        this.hi[span][column] = hi;
    }

    public int queryCount() { return queryCount; }
    public int spanCount() { return spanCount; }
    /** Query row of column c. */
    public int query(int c) { return queries[c]; }
    public int first(int s) { return first[s]; }
    public int length(int s) { return length[s]; }
    public int step(int s) { return step[s]; }
    public int lo(int s, int c) { return lo[s][c]; }
    public int hi(int s, int c) { return hi[s][c]; }

    /** The lower bounds of span s by query column (the live array: read only). */
    public int[] loArray(int s) { return lo[s]; }

    /** The upper bounds of span s by query column (the live array: read only). */
    public int[] hiArray(int s) { return hi[s]; }

    public int maxQueries() { return maxQueries; }
    public int maxSpans() { return maxSpans; }
}
