package org.attn4j.variants.heads;

import org.attn4j.variants.VariantParams;

/**
 * Hyper-parameters of {@link MixtureOfHeadsAttention}.
 *
 * @param shared number of always-active heads (the first {@code shared} heads); −1 means H/2
 * @param topK   routed heads each token activates among the other H − shared; −1 means
 *               ⌈(H − shared)/2⌉
 * @param causal query i sees keys j ≤ i
 * @param scale  logit scale; 0 means 1/sqrt(D)
 */
public record MixtureOfHeadsParams(int shared, int topK, boolean causal, double scale) implements VariantParams {
    public MixtureOfHeadsParams {
        Checks.scale(scale);
        if (shared < -1) throw new IllegalArgumentException("shared: expected -1 (H/2) or >= 0, got " + shared);
        if (topK < -1) throw new IllegalArgumentException("top-k: expected -1 (half the routed heads) or >= 0, got " + topK);
    }

    public static MixtureOfHeadsParams defaults() { return new MixtureOfHeadsParams(-1, -1, false, 0); }

    /** The shared-head count for H heads, validated. */
    int sharedFor(int heads) {
        int s = shared < 0 ? heads / 2 : shared;
        if (s > heads) throw new IllegalArgumentException("shared: expected <= H = " + heads + ", got " + s);
        return s;
    }

    /** The routed top-k for H heads, validated. */
    int topKFor(int heads) {
        int s = sharedFor(heads), routed = heads - s;
        int k = topK < 0 ? (routed + 1) / 2 : topK;
        if (k > routed) throw new IllegalArgumentException("top-k: expected <= H - shared = " + routed + ", got " + k);
        if (routed > 0 && k == 0) throw new IllegalArgumentException("top-k: expected >= 1 when there are routed heads (H - shared = " + routed + "), got 0");
        return k;
    }
}
