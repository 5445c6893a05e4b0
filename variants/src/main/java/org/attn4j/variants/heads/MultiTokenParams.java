package org.attn4j.variants.heads;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link MultiTokenAttention}.
 *
 * @param causal    query i sees keys j ≤ i (the query convolution then only looks back)
 * @param scale     logit scale; 0 means 1/sqrt(D)
 * @param queryKernel c_q ≥ 1: queries i, i−1, …, i−c_q+1 enter each score
 * @param keyKernel   c_k ≥ 1: keys j−⌈c_k/2⌉+1 … j+⌊c_k/2⌋ enter each score
 * @param keyQuery  where the key-query convolution sits: {@code pre} (on logits), {@code post} (on
 *                  weights) or {@code none}
 * @param headGroup c_h ≥ 1: heads are mixed in groups of c_h consecutive heads (1 = no head mixing)
 * @param headMix   where the head convolution sits: {@code pre}, {@code post} or {@code none}
 * @param groupNorm per-head normalisation of each output row (GroupNorm with H groups, unit gain)
 * @param perturb   seeded kernels are identity + N(0, perturb²/fan-in) (0 gives exactly MHA)
 */
public record MultiTokenParams(boolean causal, double scale, int queryKernel, int keyKernel, Where keyQuery,
                               int headGroup, Where headMix, boolean groupNorm, double perturb) implements VariantParams {
    /** Placement of a convolution relative to the softmax. */
    public enum Where { PRE, POST, NONE }

    public MultiTokenParams {
        Checks.scale(scale);
        Checks.perturb(perturb);
        if (queryKernel < 1 || queryKernel > 64) throw new IllegalArgumentException("query-kernel: expected 1..64, got " + queryKernel);
        if (keyKernel < 1 || keyKernel > 129) throw new IllegalArgumentException("key-kernel: expected 1..129, got " + keyKernel);
        if (headGroup < 1) throw new IllegalArgumentException("head-group: expected >= 1, got " + headGroup);
        if (keyQuery == null) throw new IllegalArgumentException("key-query: expected pre, post or none, got null");
        if (headMix == null) throw new IllegalArgumentException("head-mix: expected pre, post or none, got null");
    }

    /** The paper's configuration: c_q = 6, c_k = 11 before the softmax, head groups of 2 after it. */
    public static MultiTokenParams defaults() {
        return new MultiTokenParams(false, 0, 6, 11, Where.PRE, 2, Where.POST, false, 0.1);
    }
}
