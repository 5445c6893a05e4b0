package org.attn4j.variants.contentsparse;

/**
 * Hyper-parameters of {@link DynamicMaskAttention}.
 *
 * @param topk      keys kept per query and head (the paper's {@code keep_window_size}, &ge; 1)
 * @param threshold keys whose dynamic weight δ is below it are dropped (finite, &ge; 0; 0 = off, since δ &gt; 0)
 * @param causal    whether query i sees only keys j &le; i (the paper's language-model setting)
 */
public record DynamicMaskParams(int topk, double threshold, boolean causal) {
    public DynamicMaskParams {
        if (topk < 1) throw new IllegalArgumentException("topk: expected >= 1 (keys kept per query), got " + topk);
        if (!(threshold >= 0) || Double.isInfinite(threshold)) {
            throw new IllegalArgumentException("threshold: expected a finite number >= 0 (0 = off), got " + threshold);
        }
    }
}
