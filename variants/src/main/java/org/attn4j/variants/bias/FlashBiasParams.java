package org.attn4j.variants.bias;

/**
 * Hyper-parameters of {@link FlashBias}.
 *
 * @param mode   where the bias comes from: exact ALiBi factors, a dense bias decomposed by truncated
 *               SVD, or factors supplied by the caller
 * @param rank   extra head dimensions R for {@link Mode#DENSE_SVD} (1..N); ignored otherwise (give 1)
 * @param causal causal masking (query i sees keys j ≤ i)
 * @param block  query rows per engine call in {@link Mode#ALIBI}: the ALiBi factors are re-centred
 *               on each block so that the folded logits stay O(slope·block) for the keys that
 *               matter (fp32 precision does not degrade with N)
 */
public record FlashBiasParams(Mode mode, int rank, boolean causal, int block) {
    /** The bias source. */
    public enum Mode {
        /** ALiBi {@code −m_h·|i − j|}, factored exactly (see {@link FlashBias}). */
        ALIBI,
        /** A dense bias [H, N, N], factored by truncated SVD at rank R. */
        DENSE_SVD,
        /** Factors {@code q_bias, k_bias} given by the caller. */
        FACTORS
    }

    /**
     * Default query block of ALiBi mode: the folded logits of the keys that carry weight stay within
     * ±slope·32, so fp32 rounding of the folded dot product costs ~1e-7 relative, like the engine.
     */
    public static final int DEFAULT_BLOCK = 64;

    public FlashBiasParams {
        if (mode == null) throw new IllegalArgumentException("mode: expected one of ALIBI, DENSE_SVD, FACTORS, got null");
        if (rank < 1) throw new IllegalArgumentException("rank: expected >= 1, got " + rank);
        if (block < 1) throw new IllegalArgumentException("block: expected >= 1, got " + block);
    }

    /** ALiBi with query blocks of 64 (the registry default). */
    public static FlashBiasParams alibi(boolean causal) { return new FlashBiasParams(Mode.ALIBI, 1, causal, DEFAULT_BLOCK); }

    /** Dense bias by truncated SVD at {@code rank}. */
    public static FlashBiasParams denseSvd(int rank, boolean causal) { return new FlashBiasParams(Mode.DENSE_SVD, rank, causal, DEFAULT_BLOCK); }
}
