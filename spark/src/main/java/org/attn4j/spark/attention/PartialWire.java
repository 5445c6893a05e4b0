package org.attn4j.spark.attention;

import java.io.Serializable;
import java.util.Arrays;
import org.attn4j.core.attention.AttentionPartial;

/**
 * An {@link AttentionPartial} in transit, with the key ranges it covers ({@code [from, to)} pairs,
 * sorted) so the driver can prove the shards tiled the sequence exactly once. {@code null} arrays
 * mark the empty partial (the aggregation's zero).
 */
record PartialWire(int batch, int heads, int queries, int dv, float[] max, float[] sum, float[] acc, int[] ranges, int totalKeys) implements Serializable {

    static PartialWire empty() { return new PartialWire(0, 0, 0, 0, null, null, null, new int[0], 0); }

    static PartialWire of(AttentionPartial p, int from, int to, int totalKeys) {
        return new PartialWire(p.batch(), p.heads(), p.queries(), p.valueDim(), p.max(), p.sum(), p.acc(), new int[] {from, to}, totalKeys);
    }

    boolean isEmpty() { return max == null; }

    AttentionPartial partial() { return AttentionPartial.of(batch, heads, queries, dv, max, sum, acc); }

    /** The union of two disjoint partials, merged with {@link AttentionPartial#merge}. */
    PartialWire merge(PartialWire o) {
        if (!isEmpty() && !o.isEmpty() && totalKeys != o.totalKeys) {
            throw new IllegalArgumentException("kvShards: expected every shard to belong to one sequence, got total key counts " + totalKeys + " and " + o.totalKeys);
        }
        if (o.isEmpty()) return isEmpty() ? this : withRanges(ranges(ranges, o.ranges));
        if (isEmpty()) return o.withRanges(ranges(ranges, o.ranges));
        AttentionPartial m = partial().merge(o.partial());
        return new PartialWire(batch, heads, queries, dv, m.max(), m.sum(), m.acc(), ranges(ranges, o.ranges), totalKeys);
    }

    private PartialWire withRanges(int[] r) { return new PartialWire(batch, heads, queries, dv, max, sum, acc, r, totalKeys); }

    /** Both range lists as one sorted list of pairs, adjacent ranges joined. */
    private static int[] ranges(int[] a, int[] b) {
        int n = (a.length + b.length) / 2;
        long[] packed = new long[n];
        for (int i = 0; i < a.length / 2; i++) packed[i] = ((long) a[2 * i] << 32) | a[2 * i + 1];
        for (int i = 0; i < b.length / 2; i++) packed[a.length / 2 + i] = ((long) b[2 * i] << 32) | b[2 * i + 1];
        Arrays.sort(packed);
        int[] out = new int[2 * n];
        int m = 0;
        for (long p : packed) {
            int from = (int) (p >>> 32), to = (int) p;
            if (m > 0 && out[2 * m - 1] == from) out[2 * m - 1] = to;
            else { out[2 * m] = from; out[2 * m + 1] = to; m++; }
        }
        return Arrays.copyOf(out, 2 * m);
    }
}
