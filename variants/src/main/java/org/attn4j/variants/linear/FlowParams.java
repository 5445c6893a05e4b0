package org.attn4j.variants.linear;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link FlowAttention}.
 *
 * @param causal keys j ≤ i only (self-attention), the paper's causal Flow-Attention
 * @param chunk  tokens per chunk of the causal aggregation; ≥ 1
 */
public record FlowParams(boolean causal, int chunk) implements VariantParams {
    public FlowParams {
        if (chunk < 1) throw new IllegalArgumentException("chunk: expected ≥ 1, got " + chunk);
    }

    public static FlowParams defaults() { return new FlowParams(false, 64); }
}
