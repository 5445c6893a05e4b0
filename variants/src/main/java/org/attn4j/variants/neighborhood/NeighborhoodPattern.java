package org.attn4j.variants.neighborhood;

import org.attn4j.core.mask.KeyBlock;
import org.attn4j.core.mask.KeyPattern;

/**
 * The GNA / NATTEN neighbourhood of every token of a 1-D, 2-D or 3-D grid as a {@link KeyPattern}
 * for the engine's block-sparse kernel.
 *
 * <p>Per dimension of extent L, with kernel k, dilation d, stride s: token x lies in dilation group
 * {@code x mod d} at sub-sequence position {@code t = x div d}; the group's sub-sequence has
 * {@code Lg = ⌊L/d⌋ + (x mod d < L mod d ? 1 : 0)} positions. Keys are the tokens of the same group
 * at positions:
 * <ul>
 *   <li>non-causal: {@code [w, w + k)} with {@code w = clamp(ℓ − ⌊k/2⌋, 0, Lg − k)}, the leader
 *       {@code ℓ = min(⌊t/s⌋·s + ⌊s/2⌋, Lg − 1)} being the centre of t's stride group;</li>
 *   <li>causal: {@code [max(ℓ − k + 1, 0), t]}, the leader {@code ℓ = min(⌊t/s⌋·s + s − 1, Lg − 1)}
 *       being the last query of t's stride group.</li>
 * </ul>
 * A token sees the product over dimensions of these sets.
 *
 * <p>Query blocks are patches of {@code patch} positions per dimension inside one dilation group, so
 * the union of a block's neighbourhoods is a small box: one key span per key row of the box (stride
 * d of the last dimension), each query seeing one interval of each row it reaches.
 */
public final class NeighborhoodPattern implements KeyPattern {
    private final int dims, n;
    private final int[] extent, kernel, dilation, stride, patch, rowStride;
    private final boolean[] causal;
    /** Dilation groups in row-major order and the first block of each (prefix sums, groups + 1 entries). */
    private final int[] groupFirstBlock;
    private final int maxQueries, maxSpans;

    /**
     * @param grid  extents per dimension
     * @param patch query patch per dimension (sub-sequence positions)
     * @throws IllegalArgumentException naming the field, for the values {@link NeighborhoodParams} rejects
     *         (and a null grid or patch); null dilation, stride or causal mean 1, 1, false per dimension
     */
    public NeighborhoodPattern(int[] grid, int[] kernel, int[] dilation, int[] stride, boolean[] causal, int[] patch) {
        if (grid == null) throw new IllegalArgumentException("grid: expected one extent per dimension, got null");
        if (patch == null) throw new IllegalArgumentException("patch: expected one patch extent per dimension, got null");
        NeighborhoodParams valid = new NeighborhoodParams(kernel, dilation, stride, causal, grid, patch); // checks every field against the grid
        kernel = valid.kernel();
        dilation = valid.dilation(); // null: 1 per dimension, as in NeighborhoodParams
        stride = valid.stride();
        causal = valid.causal();
        dims = grid.length;
        extent = grid.clone();
        this.kernel = kernel.clone();
        this.dilation = dilation.clone();
        this.stride = stride.clone();
        this.causal = causal.clone();
        this.patch = patch.clone();
        rowStride = new int[dims];
        int prod = 1;
        for (int a = dims - 1; a >= 0; a--) {
            rowStride[a] = prod;
            prod *= extent[a];
        }
        n = prod;
        int groups = 1;
        for (int a = 0; a < dims; a++) groups *= dilation[a];
        groupFirstBlock = new int[groups + 1];
        int[] r = new int[dims];
        for (int g = 0; g < groups; g++) {
            residues(g, r);
            int blocks = 1;
            for (int a = 0; a < dims; a++) blocks *= ceilDiv(groupLength(a, r[a]), Math.min(patch[a], groupLength(a, r[a])));
            groupFirstBlock[g + 1] = groupFirstBlock[g] + blocks;
        }
        int mq = 1, ms = 1;
        for (int a = 0; a < dims; a++) {
            int p = Math.min(patch[a], ceilDiv(extent[a], dilation[a]));
            mq *= p;
            if (a < dims - 1) ms *= Math.min(ceilDiv(extent[a], dilation[a]), kernel[a] + p + stride[a] - 2);
        }
        maxQueries = mq;
        maxSpans = ms;
    }

    /** Positions in the sub-sequence of residue r along dimension a. */
    int groupLength(int a, int r) {
        return extent[a] / dilation[a] + (r < extent[a] % dilation[a] ? 1 : 0);
    }

    private void residues(int g, int[] r) {
        for (int a = dims - 1; a >= 0; a--) {
            r[a] = g % dilation[a];
            g /= dilation[a];
        }
    }

    private static int ceilDiv(int a, int b) { return (a + b - 1) / b; }

    /** Window start of sub-sequence position t along dimension a (sub-sequence of length lg). */
    int windowStart(int a, int t, int lg) {
        int k = kernel[a], s = stride[a];
        if (causal[a]) {
            int leader = Math.min((t / s) * s + s - 1, lg - 1);
            return Math.max(leader - k + 1, 0);
        }
        int leader = Math.min((t / s) * s + s / 2, lg - 1);
        return Math.max(0, Math.min(leader - k / 2, lg - k));
    }

    /** Window end (exclusive) of position t along dimension a. */
    int windowEnd(int a, int t, int lg) {
        return causal[a] ? t + 1 : windowStart(a, t, lg) + kernel[a];
    }

    /** The query patch per dimension (sub-sequence positions). */
    public int[] patchShape() { return patch.clone(); }

    @Override public int queries() { return n; }
    @Override public int keys() { return n; }
    @Override public int blocks() { return groupFirstBlock[groupFirstBlock.length - 1]; }
    @Override public int maxBlockQueries() { return maxQueries; }
    @Override public int maxBlockSpans() { return maxSpans; }

    @Override
    public void describe(int block, KeyBlock out) {
        int g = 0;
        while (groupFirstBlock[g + 1] <= block) g++;
        int[] r = new int[dims], lg = new int[dims], t0 = new int[dims], cnt = new int[dims];
        residues(g, r);
        int local = block - groupFirstBlock[g];
        for (int a = dims - 1; a >= 0; a--) {
            lg[a] = groupLength(a, r[a]);
            int p = Math.min(patch[a], lg[a]);
            int along = ceilDiv(lg[a], p);
            t0[a] = (local % along) * p;
            local /= along;
            cnt[a] = Math.min(p, lg[a] - t0[a]);
        }
        // Per dimension, each patch position's window and their union.
        int[][] lo = new int[dims][], hi = new int[dims][];
        int[] uLo = new int[dims], uHi = new int[dims];
        for (int a = 0; a < dims; a++) {
            lo[a] = new int[cnt[a]];
            hi[a] = new int[cnt[a]];
            uLo[a] = Integer.MAX_VALUE;
            uHi[a] = Integer.MIN_VALUE;
            for (int i = 0; i < cnt[a]; i++) {
                lo[a][i] = windowStart(a, t0[a] + i, lg[a]);
                hi[a][i] = windowEnd(a, t0[a] + i, lg[a]);
                uLo[a] = Math.min(uLo[a], lo[a][i]);
                uHi[a] = Math.max(uHi[a], hi[a][i]);
            }
        }
        // Queries, row-major over the patch.
        int queries = 1;
        for (int a = 0; a < dims; a++) queries *= cnt[a];
        int[] qPos = new int[dims];
        int[][] qIdx = new int[queries][dims];
        for (int c = 0; c < queries; c++) {
            int rem = c, token = 0;
            for (int a = dims - 1; a >= 0; a--) {
                qPos[a] = rem % cnt[a];
                rem /= cnt[a];
                qIdx[c][a] = qPos[a];
                token += (r[a] + dilation[a] * (t0[a] + qPos[a])) * rowStride[a];
            }
            out.addQuery(token);
        }
        // Spans: one per key row of the union box (all dimensions but the last), stride d along the last.
        int last = dims - 1;
        int rows = 1;
        for (int a = 0; a < last; a++) rows *= uHi[a] - uLo[a];
        int[] u = new int[dims];
        for (int row = 0; row < rows; row++) {
            int rem = row, base = 0;
            for (int a = last - 1; a >= 0; a--) {
                u[a] = uLo[a] + rem % (uHi[a] - uLo[a]);
                rem /= uHi[a] - uLo[a];
                base += (r[a] + dilation[a] * u[a]) * rowStride[a];
            }
            int first = base + r[last] + dilation[last] * uLo[last];
            int s = out.addSpan(first, uHi[last] - uLo[last], dilation[last]);
            for (int c = 0; c < queries; c++) {
                boolean sees = true;
                for (int a = 0; a < last && sees; a++) {
                    int i = qIdx[c][a];
                    sees = lo[a][i] <= u[a] && u[a] < hi[a][i];
                }
                if (sees) {
                    int i = qIdx[c][last];
                    out.visible(s, c, lo[last][i] - uLo[last], hi[last][i] - uLo[last]);
                }
            }
        }
    }
}
