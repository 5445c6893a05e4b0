package org.attn4j.variants.linear;

import java.util.List;
import org.attn4j.variants.VariantFactory;

/** Registry entries of the linear-attention family (Family L, not exact). */
public final class LinearVariants {
    private LinearVariants() {}

    private static final String CAUSAL = "causal=bool (default false): keys j <= i only (self-attention)";
    private static final String CHUNK = "chunk=int (>= 1, default 64): tokens per chunk of the causal form (1 = token-by-token recurrence)";

    public static List<VariantFactory> factories() {
        return List.of(
                new VariantFactory(LinearAttention.INFO, List.of(
                        "feature=elu1|relu (default elu1): the feature map phi", CAUSAL, CHUNK),
                        (s, seed) -> new LinearAttention(new LinearParams(s.choice("feature", "elu1", "elu1", "relu"),
                                s.bool("causal", false), s.integer("chunk", 64)))),
                new VariantFactory(EfficientAttention.INFO, List.of(
                        "scale=real (> 0, default 1): multiplies q and k before their softmaxes"),
                        (s, seed) -> new EfficientAttention(new EfficientParams(s.real("scale", 1.0)))),
                new VariantFactory(LlnAttention.INFO, List.of(CAUSAL, CHUNK,
                        "sigmaq=real (> 0, default: the head's std of q; 1 when causal): sigma_q of the moment matching",
                        "sigmak=real (> 0, default: the head's std of k; 1 when causal): sigma_k of the moment matching"),
                        (s, seed) -> new LlnAttention(new LlnParams(s.bool("causal", false), s.integer("chunk", 64),
                                s.real("sigmaq", Double.NaN), s.real("sigmak", Double.NaN)))),
                new VariantFactory(FlowAttention.INFO, List.of(CAUSAL, CHUNK),
                        (s, seed) -> new FlowAttention(new FlowParams(s.bool("causal", false), s.integer("chunk", 64)))),
                new VariantFactory(FastAttention.INFO, List.of(
                        "order=1|2 (default 2): degree of the Taylor kernel 1 + x (+ x^2/2)",
                        "normalize=rows|none (default rows): rows to zero mean and unit norm (the paper), or raw (the authors' code)",
                        "scale=real (> 0, default 1 with rows, 1/sqrt(D) with none): factor on q.k inside the kernel",
                        CAUSAL, CHUNK),
                        (s, seed) -> new FastAttention(new FastParams(s.integer("order", 2), s.choice("normalize", "rows", "rows", "none"),
                                s.real("scale", Double.NaN), s.bool("causal", false), s.integer("chunk", 64)))),
                new VariantFactory(ChelaAttention.INFO, List.of(
                        "short=int (1..64, default 3): taps of the short depthwise convolution",
                        "rank=int (1..16, default 2): decaying exponentials per channel in the long convolution kernel",
                        CAUSAL, CHUNK),
                        (s, seed) -> new ChelaAttention(new ChelaParams(s.integer("short", 3), s.integer("rank", 2),
                                s.bool("causal", false), s.integer("chunk", 64)), seed)),
                new VariantFactory(FlareAttention.INFO, List.of(
                        "latents=int (1..4096, default 32): learned latent tokens M per head",
                        "scale=real (> 0, default 1/sqrt(D)): logit scale of both softmaxes",
                        "scatter=keys|queries (default keys): what reads the latents back (keys: the paper)"),
                        (s, seed) -> new FlareAttention(new FlareParams(s.integer("latents", 32), s.real("scale", Double.NaN),
                                s.choice("scatter", "keys", "keys", "queries")), seed)));
    }
}
