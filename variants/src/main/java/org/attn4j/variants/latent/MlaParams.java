package org.attn4j.variants.latent;

/**
 * Hyper-parameters of {@link MultiHeadLatentAttention}. A zero width means "the DeepSeek-V2 ratio
 * for the input's head dimension D": {@code d_c = 4·D}, {@code d_c' = 12·D}, {@code d_R = D/2}
 * (rounded up to an even number).
 *
 * @param kvRank  d_c, width of the compressed key/value latent c_KV (0 = 4·D)
 * @param qRank   d_c', width of the compressed query latent c_Q (0 = 12·D)
 * @param ropeDim d_R, width of the decoupled rotary query/key part (even; 0 = D/2 rounded up to even)
 * @param absorb  attend directly over c_KV with W_UK folded into the queries and W_UV into W_O
 * @param causal  query i sees keys j ≤ i + Nk − Nq (bottom-right aligned, as decoding needs)
 */
public record MlaParams(int kvRank, int qRank, int ropeDim, boolean absorb, boolean causal) {
    public MlaParams {
        if (kvRank < 0) throw new IllegalArgumentException("kv-rank: expected >= 0 (0 = 4·D), got " + kvRank);
        if (qRank < 0) throw new IllegalArgumentException("q-rank: expected >= 0 (0 = 12·D), got " + qRank);
        if (ropeDim < 0 || ropeDim % 2 != 0) throw new IllegalArgumentException("rope-dim: expected an even number >= 0 (0 = D/2), got " + ropeDim);
    }

    int dc(int d) { return kvRank > 0 ? kvRank : 4 * d; }

    int dcq(int d) { return qRank > 0 ? qRank : 12 * d; }

    int dr(int d) { return ropeDim > 0 ? ropeDim : Math.max(2, (d / 2 + 1) & ~1); }
}
