package org.attn4j.variants.linear;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link FastAttention}.
 *
 * @param order     p, the degree of the Taylor kernel f(x) = Σ_{ℓ≤p} x^ℓ/ℓ!: 1 or 2 (the paper's two)
 * @param normalize {@code rows}: q and k rows to zero mean and unit L2 norm (the paper's
 *                  normalisation; every score in [−1, 1]); {@code none}: raw rows (the authors'
 *                  code default, with the 1/sqrt(D) temperature)
 * @param scale     multiplies q·k inside f; NaN = 1 (rows) or 1/sqrt(D) (none); else finite and &gt; 0
 * @param causal    keys j ≤ i only (self-attention)
 * @param chunk     tokens per chunk of the causal form; ≥ 1
 */
public record FastParams(int order, String normalize, double scale, boolean causal, int chunk) implements VariantParams {
    public FastParams {
        if (order != 1 && order != 2) throw new IllegalArgumentException("order: expected 1 or 2, got " + order);
        if (!"rows".equals(normalize) && !"none".equals(normalize)) {
            throw new IllegalArgumentException("normalize: expected rows or none, got '" + normalize + "'");
        }
        if (!Double.isNaN(scale) && !(scale > 0 && Double.isFinite(scale))) {
            throw new IllegalArgumentException("scale: expected a finite number > 0 (or unset), got " + scale);
        }
        if (chunk < 1) throw new IllegalArgumentException("chunk: expected ≥ 1, got " + chunk);
    }

    /** Order, causality and chunk with the paper's row normalisation and scale 1. */
    public FastParams(int order, boolean causal, int chunk) { this(order, "rows", Double.NaN, causal, chunk); }

    public static FastParams defaults() { return new FastParams(2, false, 64); }
}
