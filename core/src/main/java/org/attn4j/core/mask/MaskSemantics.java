package org.attn4j.core.mask;

import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Layout;
import org.attn4j.core.tensor.Tensor;

/**
 * The one place that decides which key each query sees and what is added to its logit. Every
 * kernel (reference, flash, decode) and every variant asks this class; none re-implements masks.
 *
 * <p>For batch b, query head h, query i, key j (indices into the full [Nq] and [Nk] ranges):
 * <ol>
 *   <li>{@code s = scale·(q·k)} (the kernel computes this);</li>
 *   <li>soft-capping: {@code s = cap·tanh(s/cap)} when {@code cap > 0};</li>
 *   <li>ALiBi: {@code s += −slope[h]·|i + off(b) − j|};</li>
 *   <li>bias: {@code s += bias[b, h, i, j]} (broadcast);</li>
 *   <li>visibility: key j is visible when it lies in the band {@code [keyStart(b,i), keyEnd(b,i))}
 *       and {@code mask[b, h, i, j]} is true. Invisible keys get weight 0.</li>
 * </ol>
 * The band combines causal masking, the sliding window and the per-batch key and query lengths;
 * for a fixed b it is contiguous and both its ends are non-decreasing in i, which lets the tiled
 * kernels skip whole tiles. {@code off(b) = kvLen(b) − qLen(b)} with the full lengths Nk and Nq
 * when no per-batch lengths are given. A row whose band is empty, or whose visible keys are all
 * masked, produces output 0 and log-sum-exp −inf.
 */
public final class MaskSemantics {
    /** Window side that does not limit. */
    public static final int UNBOUNDED = Integer.MAX_VALUE;

    private final int batch, heads, nq, nk;
    private final CausalAlignment causal;
    private final int windowLeft, windowRight;
    private final int[] kvLen, qLen;
    private final boolean[] maskData;
    private final Layout mask;
    private final float[] biasData;
    private final Layout bias;
    private final float[] slopes;
    private final float softcap;

    /**
     * @param mask   boolean mask already broadcast to [B, H, Nq, Nk], or null
     * @param bias   additive bias already broadcast to [B, H, Nq, Nk], or null
     * @param slopes ALiBi slope per query head, or null
     * @param softcap soft-cap value, 0 for none
     */
    public MaskSemantics(int batch, int heads, int nq, int nk, CausalAlignment causal,
                         int windowLeft, int windowRight, int[] kvLen, int[] qLen,
                         BoolTensor mask, Tensor bias, float[] slopes, float softcap) {
        this.batch = batch;
        this.heads = heads;
        this.nq = nq;
        this.nk = nk;
        this.causal = causal;
        this.windowLeft = windowLeft;
        this.windowRight = windowRight;
        this.kvLen = kvLen;
        this.qLen = qLen;
        this.maskData = mask == null ? null : mask.data();
        this.mask = mask == null ? null : mask.layout();
        this.biasData = bias == null ? null : bias.data();
        this.bias = bias == null ? null : bias.layout();
        this.slopes = slopes;
        this.softcap = softcap;
    }

    /** The standard ALiBi slopes 2^(−8h/H) for h = 1..H. */
    public static float[] defaultAlibiSlopes(int heads) {
        float[] s = new float[heads];
        for (int h = 0; h < heads; h++) s[h] = (float) Math.pow(2.0, -8.0 * (h + 1) / heads);
        return s;
    }

    public int batch() { return batch; }
    public int heads() { return heads; }
    public int queries() { return nq; }
    public int keys() { return nk; }

    /** Valid key count of batch entry b. */
    public int kvLength(int b) { return kvLen == null ? nk : kvLen[b]; }

    /** Valid query count of batch entry b. */
    public int qLength(int b) { return qLen == null ? nq : qLen[b]; }

    /** Diagonal offset of batch entry b: query i's own position among the keys is i + offset. */
    public int offset(int b) { return kvLength(b) - qLength(b); }

    /** First key of query i's band (inclusive). */
    public int keyStart(int b, int i) {
        if (i >= qLength(b)) return 0;
        long lo = 0;
        if (windowLeft != UNBOUNDED) lo = Math.max(lo, (long) i + offset(b) - windowLeft);
        return (int) Math.min(lo, Integer.MAX_VALUE);
    }

    /** One past the last key of query i's band; {@code keyEnd <= keyStart} means the band is empty. */
    public int keyEnd(int b, int i) {
        if (i >= qLength(b)) return 0;
        long hi = kvLength(b);
        if (causal == CausalAlignment.TOP_LEFT) hi = Math.min(hi, (long) i + 1);
        else if (causal == CausalAlignment.BOTTOM_RIGHT) hi = Math.min(hi, (long) i + offset(b) + 1);
        if (windowRight != UNBOUNDED) hi = Math.min(hi, (long) i + offset(b) + windowRight + 1);
        return (int) Math.max(hi, 0);
    }

    /** Whether any per-element step (soft-cap, ALiBi, bias, boolean mask) applies beyond the band. */
    public boolean hasElementwise() {
        return maskData != null || biasData != null || slopes != null || softcap > 0f;
    }

    public boolean hasSoftcap() { return softcap > 0f; }

    /**
     * The derivative of step 2 at the scaled logit {@code s}: {@code d(cap·tanh(s/cap))/ds =
     * 1 − tanh²(s/cap)}, or 1 without soft-capping. The backward pass multiplies ∂loss/∂logit by it.
     */
    public double softcapDerivative(double s) {
        if (!(softcap > 0f)) return 1.0;
        double t = Math.tanh(s / softcap);
        return 1.0 - t * t;
    }

    /**
     * {@link #softcapDerivative} in place on a transposed fp32 tile of scaled logits
     * ({@code rows × cols}, row stride {@code ld}), as read before {@link #applyTransposed}.
     */
    public void softcapDerivativeTransposed(float[] s, int off, int rows, int cols, int ld) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0, p = off + r * ld; c < cols; c++, p++) s[p] = (float) softcapDerivative(s[p]);
        }
    }

    /**
     * Steps 2–5 on one scaled logit, in float64 (the reference path). Returns −inf when key j is
     * not visible. The caller guarantees nothing about j: the band is checked here too.
     */
    public double logit(int b, int h, int i, int j, double s) {
        if (j < keyStart(b, i) || j >= keyEnd(b, i)) return Double.NEGATIVE_INFINITY;
        if (maskData != null && !maskData[mask.offset() + b * mask.stride(0) + h * mask.stride(1)
                + i * mask.stride(2) + j * mask.stride(3)]) {
            return Double.NEGATIVE_INFINITY;
        }
        if (softcap > 0f) s = softcap * Math.tanh(s / softcap);
        if (slopes != null) s += -(double) slopes[h] * Math.abs((long) i + offset(b) - j);
        if (biasData != null) {
            s += biasData[bias.offset() + b * bias.stride(0) + h * bias.stride(1) + i * bias.stride(2) + j * bias.stride(3)];
        }
        return s;
    }

    /**
     * Distance from query i's diagonal position {@code i + off(b)} to the nearest key of its band
     * (0 when the diagonal lies inside the band or the band is empty).
     */
    private long nearestBandDistance(int b, int i) {
        int lo = keyStart(b, i), hi = keyEnd(b, i);
        if (lo >= hi) return 0;
        long diag = (long) i + offset(b);
        if (diag < lo) return lo - diag;
        if (diag >= hi) return diag - (hi - 1);
        return 0;
    }

    /**
     * The per-row constant that {@link #applyTransposed} leaves out of the fp32 logits: ALiBi's
     * {@code −slope·dmin}, dmin being the distance from the diagonal to the row's band. A constant
     * per row changes no probability, and leaving it out keeps the logits near the row maximum
     * small, where fp32 rounding would otherwise cost accuracy (rows far from their diagonal).
     * Kernels add it back to the row maximum before reporting log-sum-exp.
     */
    public float rowShift(int b, int h, int i) {
        if (slopes == null) return 0f;
        return (float) (-(double) slopes[h] * nearestBandDistance(b, i));
    }

    /**
     * Steps 2–5 on a transposed fp32 score tile, less {@link #rowShift}: {@code s[off + r·ld + c]} holds the scaled logit of
     * key {@code j0 + r} and the flattened query row {@code t0 + c}, where row t is query
     * {@code i = t / group} of head {@code h = hk·group + t % group} (grouped-query layout).
     *
     * @param checkBand false when the caller knows every (r, c) lies inside the band
     */
    public void applyTransposed(float[] s, int off, int ld, int b, int hk, int group, int t0, int cols,
                                int j0, int rows, boolean checkBand, MicroKernels mk) {
        if (softcap > 0f) {
            for (int r = 0; r < rows; r++) mk.softcap(s, off + r * ld, cols, softcap);
        }
        boolean elementwise = maskData != null || biasData != null || slopes != null;
        if (!checkBand && !elementwise) return;
        int offB = offset(b);
        if (checkBand) {
            int[] lo = new int[cols], hi = new int[cols];
            for (int c = 0; c < cols; c++) {
                int i = (t0 + c) / group;
                lo[c] = keyStart(b, i);
                hi[c] = keyEnd(b, i);
            }
            mk.maskBand(s, off, rows, cols, ld, j0, lo, hi);
        }
        if (!elementwise) return;
        for (int c = 0; c < cols; c++) {
            int t = t0 + c;
            int i = t / group;
            int h = hk * group + t % group;
            int p = off + c;
            // Entries outside the band are −inf already (or the caller vouched there are none).
            int lo = Math.max(0, Math.min(keyStart(b, i) - j0, rows));
            int hi = Math.max(lo, Math.min(keyEnd(b, i) - j0, rows));
            if (!checkBand) {
                lo = 0;
                hi = rows;
            }
            float slope = slopes == null ? 0f : slopes[h];
            int mBase = maskData == null ? 0 : mask.offset() + b * mask.stride(0) + h * mask.stride(1) + i * mask.stride(2);
            int mStep = maskData == null ? 0 : mask.stride(3);
            int bBase = biasData == null ? 0 : bias.offset() + b * bias.stride(0) + h * bias.stride(1) + i * bias.stride(2);
            int bStep = biasData == null ? 0 : bias.stride(3);
            long diag = (long) i + offB;
            long dmin = slopes == null ? 0 : nearestBandDistance(b, i);
            for (int r = lo; r < hi; r++) {
                int j = j0 + r;
                int q = p + r * ld;
                if (maskData != null && !maskData[mBase + j * mStep]) {
                    s[q] = Float.NEGATIVE_INFINITY;
                    continue;
                }
                float v = s[q];
                if (slopes != null) v -= slope * (float) (Math.abs(diag - j) - dmin);
                if (biasData != null) v += biasData[bBase + j * bStep];
                s[q] = v;
            }
        }
    }
}
