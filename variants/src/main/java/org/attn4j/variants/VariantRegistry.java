package org.attn4j.variants;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every registered mechanism by kebab-case name. Each package contributes its entries through a
 * static {@code factories()} list; the order here is the order {@code attn4j variants list} shows.
 */
public final class VariantRegistry {
    private static final Map<String, VariantFactory> BY_NAME = build();

    private VariantRegistry() {}

    private static Map<String, VariantFactory> build() {
        List<VariantFactory> all = new ArrayList<>();
        // One line per package: the baseline, then families S (sparse/local), E (bias and score forms), L, H.
        all.addAll(org.attn4j.variants.exact.ExactVariants.factories());
        all.addAll(org.attn4j.variants.neighborhood.NeighborhoodVariants.factories());
        all.addAll(org.attn4j.variants.local.LocalVariants.factories());
        all.addAll(org.attn4j.variants.contentsparse.ContentSparseVariants.factories());
        all.addAll(org.attn4j.variants.bias.BiasVariants.factories());
        all.addAll(org.attn4j.variants.linear.LinearVariants.factories());
        all.addAll(org.attn4j.variants.recurrent.RecurrentVariants.factories());
        all.addAll(org.attn4j.variants.latent.LatentVariants.factories());
        all.addAll(org.attn4j.variants.heads.HeadVariants.factories());
        all.addAll(org.attn4j.variants.better.BetterAttentionVariants.factories());
        all.addAll(org.attn4j.variants.conv.ConvVariants.factories());
        Map<String, VariantFactory> m = new LinkedHashMap<>();
        for (VariantFactory f : all) {
            if (m.put(f.info().name(), f) != null) throw new IllegalStateException("variant name registered twice: " + f.info().name());
        }
        return Collections.unmodifiableMap(m);
    }

    /** All entries, in listing order. */
    public static List<VariantFactory> all() { return List.copyOf(BY_NAME.values()); }

    /** The entry named {@code name}; the error lists the known names. */
    public static VariantFactory get(String name) {
        VariantFactory f = BY_NAME.get(name);
        if (f == null) throw new IllegalArgumentException("variant: no variant named '" + name + "'; known: " + String.join(", ", BY_NAME.keySet()));
        return f;
    }

    /** Builds {@code name} from settings and a seed, rejecting unknown settings. */
    public static Variant create(String name, Settings settings, long seed) {
        return get(name).create(settings, seed);
    }
}
