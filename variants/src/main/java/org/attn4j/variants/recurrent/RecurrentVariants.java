package org.attn4j.variants.recurrent;

import java.util.List;
import java.util.Locale;
import org.attn4j.variants.VariantFactory;

/** Registry entries of the recurrent package: {@code mega}, {@code mamba-implicit}. */
public final class RecurrentVariants {
    private RecurrentVariants() {}

    public static List<VariantFactory> factories() {
        return List.of(
                new VariantFactory(MegaAttention.INFO, List.of(
                        "zdim=int (>= 0, default 0 = H·D/2): width of the shared query/key representation Z",
                        "vdim=int (>= 0, default 0 = 2·H·D): width of the attention values",
                        "ndim=int (>= 1, default 16): EMA expansion dimension per channel",
                        "attention=softmax|laplace|relu2 (default softmax): attention function",
                        "causal=bool (default false): causal attention mask (the EMA is always causal)",
                        "chunk=int (>= 0, default 0 = whole sequence): Mega-chunk attention length"),
                        (s, seed) -> new MegaAttention(new MegaParams(s.integer("zdim", 0), s.integer("vdim", 0), s.integer("ndim", 16),
                                MegaParams.Activation.valueOf(s.choice("attention", "softmax", "softmax", "laplace", "relu2").toUpperCase(Locale.ROOT)),
                                s.bool("causal", false), s.integer("chunk", 0)), seed)),
                new VariantFactory(MambaImplicitAttention.INFO, List.of(
                        "state=int (>= 1, default 16): S6 state size per channel"),
                        (s, seed) -> new MambaImplicitAttention(new SelectiveSsmParams(s.integer("state", 16)), seed)));
    }
}
