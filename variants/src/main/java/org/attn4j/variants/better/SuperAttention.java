package org.attn4j.variants.better;

import org.attn4j.variants.Family;
import org.attn4j.variants.VariantInfo;

/**
 * P96 — You Need to Pay Better Attention: <b>Super Attention</b>. Efficient Attention plus a
 * learned alignment kernel {@code W^A [N, N]} applied to the values from the left (mixing
 * positions), shared by the heads: head h computes {@code softmax((X_Q·W^Q_h)·k_hᵀ/√D)·(W^A·v_h)};
 * {@code W^O} mixes the heads. W^A ties the layer to one sequence length N (it is created per N
 * from the seed) and costs N² parameters and 2·N²·Dv FLOPs per head, so N is limited to
 * {@code sqrt(MAX_KERNEL)}. With {@code causal=true} (an extension; the paper is bidirectional)
 * only the lower triangle of W^A is used, so position i mixes values at positions ≤ i only.
 * See {@link BetterAttention}; with selector W^Q_h, W^A = I and W^O = I it is standard attention.
 */
public final class SuperAttention extends BetterAttention {
    public static final VariantInfo INFO = new VariantInfo("super-attention", "P96", "You Need to Pay Better Attention", Family.H, false,
            "efficient attention plus a learned N×N alignment kernel on the values: softmax((X W^Q_h)·k_hᵀ/√D)·(W^A·v_h)");

    /** Largest W^A (N² entries): N <= 8192. */
    public static final long MAX_KERNEL = 8192L * 8192L;

    /** Weights W^Q_h [H·D, D], W^A [N, N], W^O [H·Dv, H·Dv] drawn from {@code seed} (Glorot) per input shape. */
    public SuperAttention(BetterAttentionParams params, long seed) { super(Kind.SUPER, params, seed, null); }

    /** Explicit weights: {@code wq[h]} [H·D, D], {@code wa} [n, n], {@code wo} [H·Dv, H·Dv], row-major. */
    public SuperAttention(BetterAttentionParams params, int heads, int d, int dv, int n, float[][] wq, float[] wa, float[] wo) {
        super(Kind.SUPER, params, 0, new Weights(heads, d, dv, n, wq, null, wa, wo));
    }

    @Override
    public VariantInfo info() { return INFO; }
}
