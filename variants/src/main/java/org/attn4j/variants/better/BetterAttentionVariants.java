package org.attn4j.variants.better;

import java.util.List;
import org.attn4j.variants.VariantFactory;

/** Registry entries of P96: {@code optimised-attention}, {@code efficient-attention-p96}, {@code super-attention}. */
public final class BetterAttentionVariants {
    private BetterAttentionVariants() {}

    private static final List<String> PARAMS = List.of("causal=bool (default false): causal masking (super-attention also keeps only W^A's lower triangle)");

    public static List<VariantFactory> factories() {
        return List.of(
                new VariantFactory(OptimisedAttention.INFO, PARAMS, (s, seed) -> new OptimisedAttention(new BetterAttentionParams(s.bool("causal", false)), seed)),
                new VariantFactory(BetterEfficientAttention.INFO, PARAMS, (s, seed) -> new BetterEfficientAttention(new BetterAttentionParams(s.bool("causal", false)), seed)),
                new VariantFactory(SuperAttention.INFO, PARAMS, (s, seed) -> new SuperAttention(new BetterAttentionParams(s.bool("causal", false)), seed)));
    }
}
