package org.attn4j.variants.linear;

/**
 * Hyper-parameters of {@link FastAttention}.
 *
 * @param order  p, the degree of the Taylor kernel f(x) = Σ_{ℓ≤p} x^ℓ/ℓ!: 1 or 2 (the paper's two)
 * @param causal keys j ≤ i only (self-attention)
 * @param chunk  tokens per chunk of the causal form; ≥ 1
 */
public record FastParams(int order, boolean causal, int chunk) {
    public FastParams {
        if (order != 1 && order != 2) throw new IllegalArgumentException("order: expected 1 or 2, got " + order);
        if (chunk < 1) throw new IllegalArgumentException("chunk: expected ≥ 1, got " + chunk);
    }

    public static FastParams defaults() { return new FastParams(2, false, 64); }
}
