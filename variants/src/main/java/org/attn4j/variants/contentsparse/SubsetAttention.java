package org.attn4j.variants.contentsparse;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionPartial;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.kernel.SoftmaxState;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;

/**
 * Shared plumbing of the content-selected variants: head-sized views and row gathers, one-thread
 * engine calls over a subset of queries and keys ({@link Attention#partial}), and per-row softmax
 * states {@code (m, l, acc)} that several partials merge into.
 */
final class SubsetAttention {
    private SubsetAttention() {}

    /** A [1, 1, rows, X] view of rows {@code [row0, row0 + rows)} of head (b, h) of a [B, H, N, X] tensor. */
    static Tensor view(Tensor t, int b, int h, int row0, int rows) {
        int off = t.offset() + b * t.stride(0) + h * t.stride(1) + row0 * t.stride(2);
        return Tensor.view(t.data(), off, new int[] {1, 1, rows, t.dim(3)}, new int[] {0, 0, t.stride(2), t.stride(3)});
    }

    /** Rows {@code idx[from .. from + count)} of a row-major {@code N × x} head, gathered into a [1, 1, count, x] tensor. */
    static Tensor gather(float[] head, int x, int[] idx, int from, int count) {
        float[] g = new float[count * x];
        for (int r = 0; r < count; r++) System.arraycopy(head, idx[from + r] * x, g, r * x, x);
        return Tensor.of(g, 1, 1, count, x);
    }

    /** Unnormalised attention of q over k/v (one thread, no input scan); optional causal (top-left), mask, bias. */
    static AttentionPartial partial(Tensor q, Tensor k, Tensor v, float scale, boolean causal, BoolTensor mask, Tensor bias) {
        AttentionSpec.Builder spec = AttentionSpec.builder().scale(scale).threads(1).validate(false).mask(mask).bias(bias);
        if (causal) spec.causal(CausalAlignment.TOP_LEFT);
        return Attention.partial(q, k, v, spec.build(), 0, k.dim(2));
    }

    /**
     * Exact attention of R query rows over a key subset, without a score matrix for keys no row sees.
     * Query row r (of {@code q [1, 1, R, D]}) sits at sequence position {@code qpos[r]} (ascending);
     * key j of {@code keys[0..kCount)} (rows of the row-major head copies {@code kh}, {@code vh}) is
     * visible to position p when {@code enter[j] ≤ p < exit[j]} (every key is visible when
     * {@code enter} is null), with logit {@code scale·q·k_j + bias[j]} (no bias when null). Keys visible
     * to every row run unmasked; the few visible to only some rows run with an R × (those keys) mask;
     * the two partials merge by log-sum-exp.
     *
     * @param pairs {@code pairs[0]} grows by the number of visible (query, key) pairs
     * @return the normalised output, R × Dv row-major (zeros for a row that sees no key)
     */
    static float[] attend(Tensor q, int[] qpos, float[] kh, float[] vh, int d, int dv, int[] keys, int kCount,
                          int[] enter, int[] exit, float[] bias, float scale, long[] pairs) {
        int rows = q.dim(2);
        int first = qpos[0], last = qpos[rows - 1];
        int[] full = new int[kCount], part = new int[kCount];
        int nf = 0, np = 0;
        for (int t = 0; t < kCount; t++) {
            int j = keys[t];
            if (enter == null || (enter[j] <= first && exit[j] > last)) full[nf++] = j;
            else if (enter[j] <= last && exit[j] > first) part[np++] = j;
        }
        States st = new States(rows, dv);
        if (nf > 0) {
            AttentionPartial p;
            if (bias == null) {
                p = partial(q, gather(kh, d, full, 0, nf), gather(vh, dv, full, 0, nf), scale, false, null, null);
            } else {
                // A per-key bias folded into one extra head dimension (q' = [scale·q, 1], k' = [k, bias],
                // scale 1), so these keys take the kernel's unmasked path (FlashBias, P45, rank 1).
                int d1 = d + 1;
                float[] qx = new float[rows * d1], kx = new float[nf * d1];
                float[] qd = q.data();
                for (int r = 0; r < rows; r++) {
                    int p0 = q.offset() + r * q.stride(2);
                    for (int x = 0; x < d; x++) qx[r * d1 + x] = qd[p0 + x * q.stride(3)] * scale;
                    qx[r * d1 + d] = 1f;
                }
                for (int t = 0; t < nf; t++) {
                    System.arraycopy(kh, full[t] * d, kx, t * d1, d);
                    kx[t * d1 + d] = bias[full[t]];
                }
                p = partial(Tensor.of(qx, 1, 1, rows, d1), Tensor.of(kx, 1, 1, nf, d1), gather(vh, dv, full, 0, nf), 1f, false, null, null);
            }
            st.mergeRange(p, 0, rows);
            pairs[0] += (long) rows * nf;
        }
        if (np > 0) {
            boolean[] mask = new boolean[rows * np];
            long seen = 0;
            for (int r = 0; r < rows; r++) {
                for (int t = 0; t < np; t++) {
                    int j = part[t];
                    boolean vis = enter[j] <= qpos[r] && qpos[r] < exit[j];
                    mask[r * np + t] = vis;
                    if (vis) seen++;
                }
            }
            if (seen > 0) {
                AttentionPartial p = partial(q, gather(kh, d, part, 0, np), gather(vh, dv, part, 0, np), scale, false,
                        BoolTensor.of(mask, 1, 1, rows, np), biasRow(bias, part, np));
                st.mergeRange(p, 0, rows);
                pairs[0] += seen;
            }
        }
        float[] out = new float[rows * dv];
        st.finish(0, rows, out, 0);
        return out;
    }

    private static Tensor biasRow(float[] bias, int[] keys, int count) {
        if (bias == null) return null;
        float[] b = new float[count];
        for (int t = 0; t < count; t++) b[t] = bias[keys[t]];
        return Tensor.of(b, 1, 1, 1, count);
    }

    /** Ascending order of these longs = e descending, then j ascending. */
    static long key(float e, int j) {
        int bits = Float.floatToIntBits(e == 0f ? 0f : e);
        bits ^= (bits >> 31) & 0x7fffffff;
        return ((long) ~bits << 32) | (j & 0xffffffffL);
    }

    static int index(long key) { return (int) key; }

    /** Rearranges a[0..n) so that its k smallest values come first, in no particular order (quickselect). */
    static void smallest(long[] a, int n, int k) {
        int lo = 0, hi = n - 1;
        int target = lo + k - 1;
        while (lo < hi) {
            long pivot = median(a[lo], a[(lo + hi) >>> 1], a[hi]);
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    long t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return;
        }
    }

    private static long median(long a, long b, long c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    }

    /** Per-row online-softmax states, merged from partials and finished into an output. */
    static final class States {
        final int dv;
        final float[] m, l, acc;

        States(int rows, int dv) {
            this.dv = dv;
            m = new float[rows];
            l = new float[rows];
            acc = new float[rows * dv];
            java.util.Arrays.fill(m, Float.NEGATIVE_INFINITY);
        }

        /** Merges row r of {@code p} into row {@code row0 + r}. */
        void mergeRange(AttentionPartial p, int row0, int count) {
            float[] pm = p.max(), pl = p.sum(), pa = p.acc();
            for (int r = 0; r < count; r++) SoftmaxState.merge(m, l, acc, row0 + r, pm, pl, pa, r, dv);
        }

        /** Normalises row r into {@code out[outOff + r·dv ..]} for r in [r0, r1): zeros for a row with no key. */
        void finish(int r0, int r1, float[] out, int outOff) {
            for (int r = r0; r < r1; r++) SoftmaxState.finish(m[r], l[r], acc, r * dv, out, outOff + r * dv, dv);
        }
    }
}
