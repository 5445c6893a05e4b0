package org.attn4j.variants.conv;

import java.util.List;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantFactory;

/** Registry entries of the convolution baselines: {@code lightweight-conv}, {@code dynamic-conv}. */
public final class ConvVariants {
    private ConvVariants() {}

    private static final List<String> PARAMS = List.of(
            "kernel=int (>= 1, default 7): kernel width over time",
            "heads=int (>= 1, must divide H·Dv; default H): weight-sharing channel groups",
            "causal=bool (default false): left-padded (decoder) instead of centred (encoder) kernel");

    public static List<VariantFactory> factories() {
        return List.of(
                new VariantFactory(LightweightConv.INFO, PARAMS, (s, seed) -> new LightweightConv(params(s), seed)),
                new VariantFactory(DynamicConv.INFO, PARAMS, (s, seed) -> new DynamicConv(params(s), seed)));
    }

    private static ConvParams params(Settings s) {
        int heads = s.integer("heads", 0);
        if (s.has("heads") && heads < 1) throw new IllegalArgumentException("heads: expected >= 1, got " + heads);
        return new ConvParams(s.integer("kernel", 7), heads, s.bool("causal", false));
    }
}
