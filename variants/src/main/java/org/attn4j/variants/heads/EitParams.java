package org.attn4j.variants.heads;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link EnhancedInteractiveAttention}.
 *
 * @param causal  query i sees keys j ≤ i
 * @param scale   logit scale; 0 means 1/sqrt(D)
 * @param perturb seeded interaction matrices are {@code I + N(0, perturb²/n) (n inputs per output)} (0 gives exactly MHA)
 */
public record EitParams(boolean causal, double scale, double perturb) implements VariantParams {
    public EitParams {
        Checks.scale(scale);
        Checks.perturb(perturb);
    }

    public static EitParams defaults() { return new EitParams(false, 0, 0.1); }
}
