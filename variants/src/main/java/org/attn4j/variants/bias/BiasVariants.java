package org.attn4j.variants.bias;

import java.util.List;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantFactory;

/** Registry entries of the bias / relative-position family: {@code flashbias}, {@code relative-position}. */
public final class BiasVariants {
    private BiasVariants() {}

    public static List<VariantFactory> factories() {
        return List.of(
                new VariantFactory(FlashBias.INFO, List.of(
                        "bias=alibi|dense-svd (default alibi): exact ALiBi factors, or a smooth random relative bias [H, N, N] from the seed decomposed by truncated SVD (N <= "
                                + FlashBias.MAX_GENERATED_N + ")",
                        "rank=int (>= 1, <= N, default 8; dense-svd only): extra head dimensions R",
                        "causal=bool (default true): causal masking",
                        "block=int (>= 1, default " + FlashBiasParams.DEFAULT_BLOCK + "; alibi only): query rows per re-centred block"),
                        BiasVariants::flashBias),
                new VariantFactory(RelativePositionAttention.INFO, List.of(
                        "causal=bool (default true): the paper's decoder form (distances −M..0); false for the bidirectional extension",
                        "max-distance=int (>= 1, default N - 1 i.e. no clipping): Shaw-style clipping distance M",
                        "block=int (>= 1, default 256): query rows per skewed tile"),
                        (s, seed) -> new RelativePositionAttention(new RelativePositionParams(s.bool("causal", true),
                                positive(s, "max-distance"), s.integer("block", 256)), seed)));
    }

    private static int positive(Settings s, String key) {
        if (!s.has(key)) {
            s.string(key, null);
            return 0;
        }
        int m = s.integer(key, 0);
        if (m < 1) throw new IllegalArgumentException(key + ": expected >= 1, got " + m);
        return m;
    }

    private static FlashBias flashBias(Settings s, long seed) {
        String mode = s.choice("bias", "alibi", "alibi", "dense-svd");
        boolean causal = s.bool("causal", true);
        if (mode.equals("alibi")) {
            if (s.has("rank")) throw new IllegalArgumentException("rank: only used with bias=dense-svd (ALiBi is folded exactly into 2 extra dimensions)");
            s.string("rank", null);
            return FlashBias.alibi(new FlashBiasParams(FlashBiasParams.Mode.ALIBI, 1, causal, s.integer("block", FlashBiasParams.DEFAULT_BLOCK)));
        }
        if (s.has("block")) throw new IllegalArgumentException("block: only used with bias=alibi");
        s.string("block", null);
        return FlashBias.denseSvd(new FlashBiasParams(FlashBiasParams.Mode.DENSE_SVD, s.integer("rank", 8), causal, FlashBiasParams.DEFAULT_BLOCK), seed);
    }
}
