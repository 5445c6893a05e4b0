package org.attn4j.variants.heads;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link CogAttention}.
 *
 * @param causal query i sees keys j ≤ i
 * @param scale  logit scale; 0 means 1/sqrt(D)
 */
public record CogParams(boolean causal, double scale) implements VariantParams {
    public CogParams {
        Checks.scale(scale);
    }

    public static CogParams defaults() { return new CogParams(false, 0); }
}
