package org.attn4j.core.attention;

import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;

/**
 * What to compute (masks, biases, scale) and how (kernel, threads, extra outputs) for one call of
 * {@link Attention#sdpa}. Immutable; build with {@link #builder()}.
 *
 * <p>Logit of query i and key j in batch b, query head h:
 * {@code s = scale·q·k}; then {@code s = cap·tanh(s/cap)} when soft-capping is on; then
 * {@code s += −slope[h]·|i + off − j|} for ALiBi and {@code s += bias[b,h,i,j]}; key j is visible
 * when every mask allows it (causal, window, key/query lengths, boolean mask). {@code off = Nk − Nq},
 * computed from the per-batch lengths when they are given. See {@link org.attn4j.core.mask.MaskSemantics}.
 */
public final class AttentionSpec {
    /** Marks an unbounded side of a sliding window. */
    public static final int UNBOUNDED = Integer.MAX_VALUE;

    private final Float scale;
    private final CausalAlignment causal;
    private final int windowLeft;
    private final int windowRight;
    private final int[] kvLengths;
    private final int[] qLengths;
    private final BoolTensor mask;
    private final Tensor bias;
    private final boolean biasRequiresGrad;
    private final boolean alibi;
    private final float[] alibiSlopes;
    private final float softcap;
    private final boolean returnLse;
    private final boolean returnProbs;
    private final KernelChoice kernel;
    private final int threads;
    private final boolean validate;

    private AttentionSpec(Builder b) {
        this.scale = b.scale;
        this.causal = b.causal;
        this.windowLeft = b.windowLeft;
        this.windowRight = b.windowRight;
        this.kvLengths = b.kvLengths == null ? null : b.kvLengths.clone();
        this.qLengths = b.qLengths == null ? null : b.qLengths.clone();
        this.mask = b.mask;
        this.bias = b.bias;
        this.biasRequiresGrad = b.biasRequiresGrad;
        this.alibi = b.alibi;
        this.alibiSlopes = b.alibiSlopes == null ? null : b.alibiSlopes.clone();
        this.softcap = b.softcap;
        this.returnLse = b.returnLse;
        this.returnProbs = b.returnProbs;
        this.kernel = b.kernel;
        this.threads = b.threads;
        this.validate = b.validate;
    }

    public static Builder builder() { return new Builder(); }

    /** Plain attention: no mask, scale 1/sqrt(D), automatic kernel, all cores. */
    public static AttentionSpec defaults() { return builder().build(); }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.scale = scale; b.causal = causal; b.windowLeft = windowLeft; b.windowRight = windowRight;
        b.kvLengths = kvLengths; b.qLengths = qLengths; b.mask = mask; b.bias = bias; b.biasRequiresGrad = biasRequiresGrad; b.alibi = alibi;
        b.alibiSlopes = alibiSlopes; b.softcap = softcap; b.returnLse = returnLse; b.returnProbs = returnProbs;
        b.kernel = kernel; b.threads = threads; b.validate = validate;
        return b;
    }

    /** The logit scale; null means 1/sqrt(D). */
    public Float scale() { return scale; }
    /** Causal alignment, or null when not causal. */
    public CausalAlignment causal() { return causal; }
    public boolean hasWindow() { return windowLeft != UNBOUNDED || windowRight != UNBOUNDED; }
    public int windowLeft() { return windowLeft; }
    public int windowRight() { return windowRight; }
    public int[] kvLengths() { return kvLengths == null ? null : kvLengths.clone(); }
    public int[] qLengths() { return qLengths == null ? null : qLengths.clone(); }
    public BoolTensor mask() { return mask; }
    public Tensor bias() { return bias; }
    /** Whether {@link Attention#backward} also returns the gradient of the additive bias. */
    public boolean biasRequiresGrad() { return biasRequiresGrad; }
    public boolean alibi() { return alibi; }
    /** Explicit ALiBi slopes per query head, or null for the default geometric slopes. */
    public float[] alibiSlopes() { return alibiSlopes == null ? null : alibiSlopes.clone(); }
    /** Soft-cap value, or 0 when soft-capping is off. */
    public float softcap() { return softcap; }
    public boolean returnLse() { return returnLse; }
    public boolean returnProbs() { return returnProbs; }
    public KernelChoice kernel() { return kernel; }
    /** Worker threads; 0 means one per available processor. */
    public int threads() { return threads; }
    /** Whether inputs are scanned for NaN/Inf before running. */
    public boolean validate() { return validate; }

    /** Builder; every setter validates its own argument. */
    public static final class Builder {
        private Float scale;
        private CausalAlignment causal;
        private int windowLeft = UNBOUNDED;
        private int windowRight = UNBOUNDED;
        private int[] kvLengths;
        private int[] qLengths;
        private BoolTensor mask;
        private Tensor bias;
        private boolean biasRequiresGrad;
        private boolean alibi;
        private float[] alibiSlopes;
        private float softcap;
        private boolean returnLse;
        private boolean returnProbs;
        private KernelChoice kernel = KernelChoice.AUTO;
        private int threads;
        private boolean validate = true;

        private Builder() {}

        /** Logit scale (finite, non-zero); null restores the default 1/sqrt(D). */
        public Builder scale(Float scale) {
            if (scale != null && (!Float.isFinite(scale) || scale == 0f)) {
                throw new IllegalArgumentException("scale: expected a finite non-zero number, got " + scale);
            }
            this.scale = scale;
            return this;
        }

        /** Causal masking with the given alignment; null turns it off. */
        public Builder causal(CausalAlignment alignment) { this.causal = alignment; return this; }

        /**
         * Sliding window around the bottom-right-aligned diagonal: key j is visible to query i when
         * {@code i + off − left ≤ j ≤ i + off + right}. Either side may be {@link #UNBOUNDED}.
         */
        public Builder window(int left, int right) {
            if (left < 0) throw new IllegalArgumentException("window left: expected >= 0 or UNBOUNDED, got " + left);
            if (right < 0) throw new IllegalArgumentException("window right: expected >= 0 or UNBOUNDED, got " + right);
            this.windowLeft = left;
            this.windowRight = right;
            return this;
        }

        /** Valid key length per batch entry (keys j ≥ length are padding); null for none. */
        public Builder kvLengths(int... lengths) { this.kvLengths = lengths == null ? null : lengths.clone(); return this; }

        /** Valid query length per batch entry (rows i ≥ length output zeros); null for none. */
        public Builder qLengths(int... lengths) { this.qLengths = lengths == null ? null : lengths.clone(); return this; }

        /** Boolean mask broadcastable to [B, Hq, Nq, Nk], true = attend; null for none. */
        public Builder mask(BoolTensor mask) { this.mask = mask; return this; }

        /** Additive float bias broadcastable to [B, Hq, Nq, Nk] (−inf allowed, NaN not); null for none. */
        public Builder bias(Tensor bias) { this.bias = bias; return this; }

        /**
         * Additive bias as in {@link #bias(Tensor)}, marked (or not) as needing a gradient: with
         * {@code requiresGrad}, {@link Attention#backward} returns dBias with the bias's own shape,
         * summed over the dimensions it was broadcast along (as PyTorch does).
         */
        public Builder bias(Tensor bias, boolean requiresGrad) { this.bias = bias; this.biasRequiresGrad = requiresGrad; return this; }

        /** Marks the bias as needing a gradient (see {@link #bias(Tensor, boolean)}); the bias itself is set by {@link #bias}. */
        public Builder biasRequiresGrad(boolean on) { this.biasRequiresGrad = on; return this; }

        /** ALiBi with the default slopes 2^(−8h/Hq), h = 1..Hq. */
        public Builder alibi(boolean on) { this.alibi = on; if (!on) this.alibiSlopes = null; return this; }

        /** ALiBi with explicit per-query-head slopes (length Hq, finite). */
        public Builder alibiSlopes(float... slopes) {
            if (slopes != null) {
                for (int i = 0; i < slopes.length; i++) {
                    if (!Float.isFinite(slopes[i])) {
                        throw new IllegalArgumentException("alibiSlopes[" + i + "]: expected a finite number, got " + slopes[i]);
                    }
                }
            }
            this.alibiSlopes = slopes == null ? null : slopes.clone();
            this.alibi = slopes != null;
            return this;
        }

        /** Soft-cap {@code cap·tanh(s/cap)} on the scaled logits, before bias and mask; 0 turns it off. */
        public Builder softcap(float cap) {
            if (!(cap >= 0f) || Float.isInfinite(cap)) {
                throw new IllegalArgumentException("softcap: expected a finite number >= 0 (0 = off), got " + cap);
            }
            this.softcap = cap;
            return this;
        }

        public Builder returnLse(boolean on) { this.returnLse = on; return this; }

        /** Also return the probabilities [B, Hq, Nq, Nk] (forces the reference kernel: O(N²) memory). */
        public Builder returnProbs(boolean on) { this.returnProbs = on; return this; }

        public Builder kernel(KernelChoice kernel) {
            if (kernel == null) throw new IllegalArgumentException("kernel: expected one of AUTO, REFERENCE, FLASH, DECODE, got null");
            this.kernel = kernel;
            return this;
        }

        /** Worker threads (>= 1), or 0 for one per available processor. */
        public Builder threads(int threads) {
            if (threads < 0) throw new IllegalArgumentException("threads: expected >= 1 (or 0 for all processors), got " + threads);
            this.threads = threads;
            return this;
        }

        /** Scan inputs for NaN/Inf first (default on). */
        public Builder validate(boolean on) { this.validate = on; return this; }

        public AttentionSpec build() { return new AttentionSpec(this); }
    }
}
