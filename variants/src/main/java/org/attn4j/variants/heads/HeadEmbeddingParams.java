package org.attn4j.variants.heads;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link HeadEmbeddingAttention}.
 *
 * @param causal   query i sees keys j ≤ i
 * @param scale    logit scale; 0 means 1/sqrt(D)
 * @param multiply head embeddings multiply the shared projection (MHE-MUL) instead of being added (MHE-ADD)
 */
public record HeadEmbeddingParams(boolean causal, double scale, boolean multiply) implements VariantParams {
    public HeadEmbeddingParams {
        Checks.scale(scale);
    }

    public static HeadEmbeddingParams defaults() { return new HeadEmbeddingParams(false, 0, false); }
}
