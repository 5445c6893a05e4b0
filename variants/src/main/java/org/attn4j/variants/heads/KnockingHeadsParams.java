package org.attn4j.variants.heads;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link KnockingHeadsAttention}.
 *
 * @param causal  query i sees keys j ≤ i
 * @param scale   logit scale; 0 means 1/sqrt(D)
 * @param perturb seeded shared matrices are {@code I + N(0, perturb²/n) (n inputs per output)} (0: the paper's initial state, = MHA)
 * @param queries apply the shared T^Q to the queries
 * @param keys    apply the shared T^K to the keys
 * @param values  apply the shared T^V to the values
 */
public record KnockingHeadsParams(boolean causal, double scale, double perturb, boolean queries, boolean keys, boolean values) implements VariantParams {
    public KnockingHeadsParams {
        Checks.scale(scale);
        Checks.perturb(perturb);
        if (!queries && !keys && !values) throw new IllegalArgumentException("apply: expected at least one of q, k, v, got none");
    }

    public static KnockingHeadsParams defaults() { return new KnockingHeadsParams(false, 0, 0.1, true, true, true); }
}
