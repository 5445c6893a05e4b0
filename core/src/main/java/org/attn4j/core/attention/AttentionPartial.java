package org.attn4j.core.attention;

import java.util.Arrays;
import org.attn4j.core.kernel.SoftmaxState;
import org.attn4j.core.tensor.Tensor;

/**
 * Attention of every query row over a subset of the keys, kept unnormalised so that subsets can be
 * combined later: per row the max logit {@code m}, {@code l = Σ e^(s − m)} and
 * {@code acc = Σ e^(s − m)·v}. {@link #merge} is associative and commutative (up to fp32
 * rounding), so partials from key shards, threads or machines can be reduced in any order or tree;
 * {@link #finish} then gives exactly what one call over all keys gives.
 *
 * <p>Rows are ordered {@code [B, Hq, Nq]}; {@code acc} is {@code [B, Hq, Nq, Dv]}.
 */
public final class AttentionPartial {
    private final int batch, heads, queries, dv;
    private final float[] max, sum, acc;

    AttentionPartial(int batch, int heads, int queries, int dv, float[] max, float[] sum, float[] acc) {
        this.batch = batch;
        this.heads = heads;
        this.queries = queries;
        this.dv = dv;
        this.max = max;
        this.sum = sum;
        this.acc = acc;
    }

    /** The partial of an empty key set (the identity of {@link #merge}). */
    public static AttentionPartial empty(int batch, int heads, int queries, int dv) {
        int rows = batch * heads * queries;
        float[] m = new float[rows];
        Arrays.fill(m, Float.NEGATIVE_INFINITY);
        return new AttentionPartial(batch, heads, queries, dv, m, new float[rows], new float[rows * dv]);
    }

    /**
     * A partial from its parts, as {@link #max}, {@link #sum} and {@link #acc} return them (for
     * partials that travelled between processes). The arrays are copied; rows are [B, Hq, Nq].
     */
    public static AttentionPartial of(int batch, int heads, int queries, int dv, float[] max, float[] sum, float[] acc) {
        if (batch < 1 || heads < 1 || queries < 1 || dv < 1) {
            throw new IllegalArgumentException("shape: expected B, Hq, Nq, Dv >= 1, got [" + batch + ", " + heads + ", " + queries + ", " + dv + "]");
        }
        long rows = (long) batch * heads * queries;
        if (max == null || max.length != rows) throw new IllegalArgumentException("max: expected " + rows + " values, got " + (max == null ? "null" : max.length));
        if (sum == null || sum.length != rows) throw new IllegalArgumentException("sum: expected " + rows + " values, got " + (sum == null ? "null" : sum.length));
        if (acc == null || acc.length != rows * dv) throw new IllegalArgumentException("acc: expected " + rows * dv + " values, got " + (acc == null ? "null" : acc.length));
        return new AttentionPartial(batch, heads, queries, dv, max.clone(), sum.clone(), acc.clone());
    }

    public int batch() { return batch; }
    public int heads() { return heads; }
    public int queries() { return queries; }
    public int valueDim() { return dv; }
    /** Per-row max logit, −inf for a row that saw no visible key (a copy). */
    public float[] max() { return max.clone(); }
    /** Per-row Σ e^(s − max) (a copy). */
    public float[] sum() { return sum.clone(); }
    /** Per-row Σ e^(s − max)·v, [rows × Dv] (a copy). */
    public float[] acc() { return acc.clone(); }

    /** A new partial covering the union of both key sets (which must be disjoint). */
    public AttentionPartial merge(AttentionPartial other) {
        if (other.batch != batch || other.heads != heads || other.queries != queries || other.dv != dv) {
            throw new IllegalArgumentException("other: expected a partial of shape [B=" + batch + ", Hq=" + heads + ", Nq=" + queries
                    + ", Dv=" + dv + "], got [" + other.batch + ", " + other.heads + ", " + other.queries + ", " + other.dv + "]");
        }
        float[] m = max.clone(), l = sum.clone(), a = acc.clone();
        for (int r = 0; r < m.length; r++) SoftmaxState.merge(m, l, a, r, other.max, other.sum, other.acc, r, dv);
        return new AttentionPartial(batch, heads, queries, dv, m, l, a);
    }

    /** Normalised output [B, Hq, Nq, Dv] and log-sum-exp [B, Hq, Nq] (no probabilities). */
    public AttentionResult finish() {
        int rows = max.length;
        float[] out = new float[rows * dv];
        float[] lse = new float[rows];
        for (int r = 0; r < rows; r++) lse[r] = SoftmaxState.finish(max[r], sum[r], acc, r * dv, out, r * dv, dv);
        return new AttentionResult(Tensor.of(out, batch, heads, queries, dv), Tensor.of(lse, batch, heads, queries), null,
                new Dispatcher.Decision(KernelChoice.FLASH, 1, "merged partial", java.util.List.of()));
    }

    /** Writes one block's state (grouped-row layout) into this partial; blocks touch disjoint rows. */
    void put(AttentionProblem p, int b, int hk, int t0, int cols, float[] m, float[] l, float[] a) {
        for (int c = 0; c < cols; c++) {
            int t = t0 + c;
            int row = (b * p.qHeads + hk * p.group + t % p.group) * p.nq + t / p.group;
            max[row] = m[c];
            sum[row] = l[c];
            System.arraycopy(a, c * dv, acc, row * dv, dv);
        }
    }
}
