package org.attn4j.variants;

import java.util.Objects;

/**
 * A registry entry: how to build a {@link Variant} from textual settings ({@code --set key=value})
 * and a seed for its learned parameters.
 *
 * @param info    what the variant is
 * @param params  one line per accepted key: {@code "kernel=int (odd, default 7): window size"}
 * @param builder builds the variant; must call {@link Settings#finish()} (directly or through the
 *                registry) so unknown keys are reported
 */
public record VariantFactory(VariantInfo info, java.util.List<String> params, Builder builder) {
    /** Builds a variant from settings and a seed. */
    @FunctionalInterface
    public interface Builder {
        Variant build(Settings settings, long seed);
    }

    public VariantFactory {
        Objects.requireNonNull(info, "info");
        params = java.util.List.copyOf(params);
        Objects.requireNonNull(builder, "builder");
    }

    /** Builds the variant and rejects settings it did not read. */
    public Variant create(Settings settings, long seed) {
        Variant v = builder.build(settings, seed);
        settings.finish(info.name());
        return v;
    }
}
