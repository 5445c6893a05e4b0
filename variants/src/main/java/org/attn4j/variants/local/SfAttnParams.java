package org.attn4j.variants.local;

/**
 * Hyper-parameters of {@link SinkFixedAttention}.
 *
 * @param group  group size g >= 1, or 0 for N/4 (LongLoRA's and SinkLoRA's group_size_ratio = 1/4)
 * @param sinks  number of sink tokens s >= 0: the first s tokens, visible to every query
 * @param shift  whether the second half of the heads uses groups shifted by ⌊g/2⌋ (S²-Attn); false
 *               gives every head the unshifted groups
 * @param causal whether a query sees only keys at or before it (the paper's decoder LMs: true)
 * @param scale  logit scale, or null for 1/sqrt(D)
 */
public record SfAttnParams(int group, int sinks, boolean shift, boolean causal, Float scale) {
    /** StreamingLLM's and SinkLoRA's four sink tokens. */
    public static final int DEFAULT_SINKS = 4;

    public SfAttnParams {
        if (group < 0) throw new IllegalArgumentException("group: expected a group size >= 1 (or 0 for N/4), got " + group);
        if (sinks < 0) throw new IllegalArgumentException("sinks: expected a number of sink tokens >= 0, got " + sinks);
        scale = LocalSupport.checkScale(scale);
    }

    /** The group size used for a sequence of n tokens. */
    public int groupFor(int n) {
        return group > 0 ? group : Math.max(1, n / 4);
    }
}
