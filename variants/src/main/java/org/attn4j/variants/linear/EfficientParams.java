package org.attn4j.variants.linear;

/**
 * Hyper-parameters of {@link EfficientAttention}.
 *
 * @param scale multiplies q and k before their softmaxes (the paper: 1); finite and &gt; 0
 */
public record EfficientParams(double scale) {
    public EfficientParams {
        if (!(scale > 0) || !Double.isFinite(scale)) throw new IllegalArgumentException("scale: expected a finite number > 0, got " + scale);
    }

    public static EfficientParams defaults() { return new EfficientParams(1.0); }
}
