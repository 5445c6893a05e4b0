package org.attn4j.variants.better;

import org.attn4j.variants.Family;
import org.attn4j.variants.VariantInfo;

/**
 * P96 — You Need to Pay Better Attention: <b>Optimised Attention</b>. The value projection is
 * dropped (it is a linear map followed by the linear W^O, so the two merge into W^O): head h
 * attends with {@code softmax((X_Q·W^Q_h)(X_K·W^K_h)ᵀ/√D)} over its own slice {@code v_h} of the
 * input, and the heads are mixed by {@code W^O}: 3/4 of standard attention's parameters and one
 * matrix multiplication fewer per head. See {@link BetterAttention} for the tensor mapping; with
 * selector W^Q_h, W^K_h (picking head h's slice) and W^O = I it is standard multi-head attention.
 */
public final class OptimisedAttention extends BetterAttention {
    public static final VariantInfo INFO = new VariantInfo("optimised-attention", "P96", "You Need to Pay Better Attention", Family.H, false,
            "W^V merged into W^O: softmax((X W^Q_h)(X W^K_h)ᵀ/√D)·v_h, heads mixed by W^O");

    /** Weights W^Q_h, W^K_h [H·D, D], W^O [H·Dv, H·Dv] drawn from {@code seed} (Glorot) per input shape. */
    public OptimisedAttention(BetterAttentionParams params, long seed) { super(Kind.OPTIMISED, params, seed, null); }

    /** Explicit weights: {@code wq[h], wk[h]} are [H·D, D], {@code wo} is [H·Dv, H·Dv], row-major. */
    public OptimisedAttention(BetterAttentionParams params, int heads, int d, int dv, float[][] wq, float[][] wk, float[] wo) {
        super(Kind.OPTIMISED, params, 0, new Weights(heads, d, dv, 0, wq, wk, null, wo));
    }

    @Override
    public VariantInfo info() { return INFO; }
}
