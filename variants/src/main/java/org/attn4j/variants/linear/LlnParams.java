package org.attn4j.variants.linear;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link LlnAttention}.
 *
 * @param causal keys j ≤ i only (self-attention)
 * @param chunk  tokens per chunk of the causal form; ≥ 1
 * @param sigmaQ the standard deviation of q used by the moment matching; NaN = estimate it from the
 *               head's q (non-causal) or 1 (causal: an estimate over the sequence would read future
 *               tokens). Otherwise finite and &gt; 0
 * @param sigmaK the same for k
 */
public record LlnParams(boolean causal, int chunk, double sigmaQ, double sigmaK) implements VariantParams {
    public LlnParams {
        if (chunk < 1) throw new IllegalArgumentException("chunk: expected ≥ 1, got " + chunk);
        if (!Double.isNaN(sigmaQ) && !(sigmaQ > 0 && Double.isFinite(sigmaQ))) {
            throw new IllegalArgumentException("sigmaq: expected a finite number > 0 (or unset), got " + sigmaQ);
        }
        if (!Double.isNaN(sigmaK) && !(sigmaK > 0 && Double.isFinite(sigmaK))) {
            throw new IllegalArgumentException("sigmak: expected a finite number > 0 (or unset), got " + sigmaK);
        }
    }

    public static LlnParams defaults() { return new LlnParams(false, 64, Double.NaN, Double.NaN); }
}
