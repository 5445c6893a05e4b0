package org.attn4j.variants.linear;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link LinearAttention}.
 *
 * @param feature the feature map φ: {@code elu1} (elu(x) + 1, the paper's) or {@code relu}
 * @param causal  keys j ≤ i only (self-attention)
 * @param chunk   tokens per chunk of the causal form (1 = the token-by-token recurrence); ≥ 1
 */
public record LinearParams(String feature, boolean causal, int chunk) implements VariantParams {
    public LinearParams {
        if (!"elu1".equals(feature) && !"relu".equals(feature)) {
            throw new IllegalArgumentException("feature: expected elu1 or relu, got '" + feature + "'");
        }
        if (chunk < 1) throw new IllegalArgumentException("chunk: expected ≥ 1, got " + chunk);
    }

    public static LinearParams defaults() { return new LinearParams("elu1", false, 64); }
}
