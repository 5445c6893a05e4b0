package org.attn4j.variants.exact;

import java.util.List;
import org.attn4j.variants.VariantFactory;

/** Registry entries of this package. */
public final class ExactVariants {
    private ExactVariants() {}

    public static List<VariantFactory> factories() {
        return List.of(new VariantFactory(FullAttention.INFO, List.of("causal=bool (default false): top-left causal mask"),
                (s, seed) -> new FullAttention(new FullAttention.Params(s.bool("causal", false)))));
    }
}
