package org.attn4j.variants.heads;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link TalkingHeadsAttention}.
 *
 * @param causal  query i sees keys j ≤ i
 * @param scale   logit scale; 0 means 1/sqrt(D)
 * @param perturb seeded mixing matrices are {@code I + N(0, perturb²/n) (n inputs per output)} (0 gives exactly MHA)
 * @param pre     mix logits across heads before the softmax
 * @param post    mix weights across heads after the softmax
 */
public record TalkingHeadsParams(boolean causal, double scale, double perturb, boolean pre, boolean post) implements VariantParams {
    public TalkingHeadsParams {
        Checks.scale(scale);
        Checks.perturb(perturb);
    }

    public static TalkingHeadsParams defaults() { return new TalkingHeadsParams(false, 0, 0.1, true, true); }
}
