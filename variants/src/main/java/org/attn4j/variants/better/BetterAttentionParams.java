package org.attn4j.variants.better;

/**
 * Hyper-parameters of the P96 mechanisms ({@link OptimisedAttention}, {@link BetterEfficientAttention},
 * {@link SuperAttention}).
 *
 * @param causal causal masking of the scores (j ≤ i). The paper evaluates encoders (false); for
 *               {@link SuperAttention} causal also keeps only the lower triangle of the alignment
 *               kernel W^A so that no future value is mixed in (an extension, documented there)
 */
public record BetterAttentionParams(boolean causal) {
    public static BetterAttentionParams defaults() { return new BetterAttentionParams(false); }
}
