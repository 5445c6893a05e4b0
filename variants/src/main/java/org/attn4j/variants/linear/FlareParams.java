package org.attn4j.variants.linear;

/**
 * Hyper-parameters of {@link FlareAttention}.
 *
 * @param latents M, learned latent query tokens per head; 1..4096
 * @param scale   logit scale of both softmaxes; NaN = 1/sqrt(D), else finite and &gt; 0
 * @param scatter what reads the latents back: {@code keys} (the paper: the token keys are the
 *                queries of the scatter step) or {@code queries} (the token queries)
 */
public record FlareParams(int latents, double scale, String scatter) {
    public FlareParams {
        if (latents < 1 || latents > 4096) throw new IllegalArgumentException("latents: expected 1..4096, got " + latents);
        if (!Double.isNaN(scale) && !(scale > 0 && Double.isFinite(scale))) {
            throw new IllegalArgumentException("scale: expected a finite number > 0 (or unset), got " + scale);
        }
        if (!"keys".equals(scatter) && !"queries".equals(scatter)) {
            throw new IllegalArgumentException("scatter: expected keys or queries, got '" + scatter + "'");
        }
    }

    public static FlareParams defaults() { return new FlareParams(32, Double.NaN, "keys"); }
}
