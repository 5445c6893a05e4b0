package org.attn4j.variants.better;

import org.attn4j.variants.Family;
import org.attn4j.variants.VariantInfo;

/**
 * P96 — You Need to Pay Better Attention: <b>Efficient Attention</b>. Like
 * {@link OptimisedAttention}, and the key projection is merged into the query projection as well
 * ({@code X W^Q (X W^K)ᵀ = X (W^Q W^Kᵀ) Xᵀ}): head h scores {@code softmax((X_Q·W^Q_h)·k_hᵀ/√D)}
 * against its own input slice {@code k_h} and averages {@code v_h}; {@code W^O} mixes the heads.
 * Half of standard attention's parameters, two matrix multiplications fewer per head. See
 * {@link BetterAttention}; with selector W^Q_h and W^O = I it is standard multi-head attention.
 * Not P82's Efficient Attention (linear complexity), which is
 * {@link org.attn4j.variants.linear.EfficientAttention}.
 */
public final class BetterEfficientAttention extends BetterAttention {
    public static final VariantInfo INFO = new VariantInfo("efficient-attention-p96", "P96", "You Need to Pay Better Attention", Family.H, false,
            "W^K merged into W^Q and W^V into W^O: softmax((X W^Q_h)·k_hᵀ/√D)·v_h, heads mixed by W^O");

    /** Weights W^Q_h [H·D, D], W^O [H·Dv, H·Dv] drawn from {@code seed} (Glorot) per input shape. */
    public BetterEfficientAttention(BetterAttentionParams params, long seed) { super(Kind.EFFICIENT, params, seed, null); }

    /** Explicit weights: {@code wq[h]} is [H·D, D], {@code wo} is [H·Dv, H·Dv], row-major. */
    public BetterEfficientAttention(BetterAttentionParams params, int heads, int d, int dv, float[][] wq, float[] wo) {
        super(Kind.EFFICIENT, params, 0, new Weights(heads, d, dv, 0, wq, null, null, wo));
    }

    @Override
    public VariantInfo info() { return INFO; }
}
