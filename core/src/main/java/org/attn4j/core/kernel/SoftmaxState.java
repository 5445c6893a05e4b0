package org.attn4j.core.kernel;

/**
 * The unnormalised online-softmax state of one query row over some set of keys:
 * {@code m} = max logit, {@code l} = Σ e^(s − m), {@code acc} = Σ e^(s − m)·v. An empty set is
 * {@code (−inf, 0, 0)}. {@link #merge} is the associative, commutative combination used by split-KV
 * decoding, {@link org.attn4j.core.attention.AttentionPartial} and tree reductions.
 */
public final class SoftmaxState {
    private SoftmaxState() {}

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
