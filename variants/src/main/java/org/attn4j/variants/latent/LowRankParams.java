package org.attn4j.variants.latent;

/**
 * Hyper-parameters of {@link LowRankHeads}.
 *
 * @param rank   r, the rank of each head's bilinear score form {@code W_Q^h W_K^hᵀ} (≥ 1)
 * @param scale  logit scale; null means {@code 1/sqrt(D)} with D the input head dimension
 * @param causal query i sees keys j ≤ i + Nk − Nq (bottom-right aligned)
 */
public record LowRankParams(int rank, Float scale, boolean causal) {
    public LowRankParams {
        if (rank < 1) throw new IllegalArgumentException("rank: expected >= 1, got " + rank);
        if (scale != null && (!Float.isFinite(scale) || scale == 0f)) {
            throw new IllegalArgumentException("scale: expected a finite non-zero number, got " + scale);
        }
    }
}
