package org.attn4j.core.kernel;

import org.attn4j.core.simd.MicroKernels;

/**
 * The unnormalised online-softmax state of one query row over some set of keys:
 * {@code m} = max logit, {@code l} = Σ e^(s − m), {@code acc} = Σ e^(s − m)·v. An empty set is
 * {@code (−inf, 0, 0)}. {@link #merge} is the associative, commutative combination used by split-KV
 * decoding, {@link org.attn4j.core.attention.AttentionPartial} and tree reductions.
 */
public final class SoftmaxState {
    private SoftmaxState() {}

    /**
     * One online-softmax step for a score tile {@code Sᵀ} ({@code rows} keys × {@code cols} query
     * columns, row stride {@code ld}, masked entries −inf) whose column maxima are in {@code tileMax}:
     * per column, {@code m' = max(m, tileMax)}, {@code alpha = e^(m − m')} (0 for a column that had
     * seen nothing), {@code l = alpha·l + Σ e^(s − m')}; the tile is replaced by {@code e^(s − m')}.
     * The caller rescales its accumulator by {@code alpha} and adds {@code P·V}.
     * {@code shift} and {@code sums} are scratch of at least {@code cols}.
     *
     * @return whether some column that had already seen a key needs its accumulator rescaled
     */
    static boolean step(MicroKernels mk, float[] sT, int rows, int cols, int ld, float[] tileMax,
                        float[] m, float[] l, float[] alpha, float[] shift, float[] sums) {
        boolean rescale = false;
        for (int c = 0; c < cols; c++) {
            float mNew = Math.max(m[c], tileMax[c]);
            // A column with nothing visible yet keeps shift 0 so that e^(−inf − shift) = 0, not NaN.
            float s = mNew == Float.NEGATIVE_INFINITY ? 0f : mNew;
            shift[c] = s;
            float a = m[c] == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(m[c] - s);
            alpha[c] = a;
            // The accumulator of a column with nothing visible yet is still 0: no rescale needed.
            rescale |= a != 1f && m[c] != Float.NEGATIVE_INFINITY;
            m[c] = mNew;
        }
        mk.expColumns(sT, 0, rows, cols, ld, shift, sums);
        for (int c = 0; c < cols; c++) l[c] = alpha[c] * l[c] + sums[c];
        return rescale;
    }

    /**
     * Merges row B into row A in place: {@code m = max(mA, mB)}, {@code l = lA·e^(mA−m) + lB·e^(mB−m)},
     * {@code acc} likewise. Empty rows (m = −inf) contribute nothing and never produce NaN.
     */
    public static void merge(float[] mA, float[] lA, float[] accA, int rowA,
                             float[] mB, float[] lB, float[] accB, int rowB, int dv) {
        float ma = mA[rowA], mb = mB[rowB];
        if (mb == Float.NEGATIVE_INFINITY) return;
        if (ma == Float.NEGATIVE_INFINITY) {
            mA[rowA] = mb;
            lA[rowA] = lB[rowB];
            System.arraycopy(accB, rowB * dv, accA, rowA * dv, dv);
            return;
        }
        float m = Math.max(ma, mb);
        float fa = (float) Math.exp(ma - m);
        float fb = (float) Math.exp(mb - m);
        mA[rowA] = m;
        lA[rowA] = lA[rowA] * fa + lB[rowB] * fb;
        int pa = rowA * dv, pb = rowB * dv;
        for (int x = 0; x < dv; x++) accA[pa + x] = accA[pa + x] * fa + accB[pb + x] * fb;
    }

    /**
     * Normalises one row: {@code out = acc / l} and {@code lse = m + ln l}; an empty row gives zeros
     * and {@code lse = −inf}.
     */
    public static float finish(float m, float l, float[] acc, int accOff, float[] out, int outOff, int dv) {
        if (m == Float.NEGATIVE_INFINITY || !(l > 0f)) {
            java.util.Arrays.fill(out, outOff, outOff + dv, 0f);
            return Float.NEGATIVE_INFINITY;
        }
        float inv = 1f / l;
        for (int x = 0; x < dv; x++) out[outOff + x] = acc[accOff + x] * inv;
        return (float) (m + Math.log(l));
    }
}
