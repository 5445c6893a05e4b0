package org.attn4j.train.optim;

/**
 * Linear warm-up then cosine decay: for step s (from 0) of {@code total},
 * <pre>
 *   s &lt; warmup:  lr = max·(s + 1)/warmup
 *   otherwise:   lr = min + ½·(max − min)·(1 + cos(π·(s − warmup)/(total − warmup)))
 * </pre>
 * so the first step already moves (lr = max/warmup), the peak is reached at the last warm-up step,
 * and the rate ends at {@code min}. Steps past {@code total} stay at {@code min}.
 */
public record LearningRate(float max, float min, int warmup, int total) {
    public LearningRate {
        if (!(max > 0)) throw new IllegalArgumentException("max: expected > 0, got " + max);
        if (!(min >= 0 && min <= max)) throw new IllegalArgumentException("min: expected 0..max=" + max + ", got " + min);
        if (warmup < 0) throw new IllegalArgumentException("warmup: expected >= 0, got " + warmup);
        if (total <= 0) throw new IllegalArgumentException("total: expected > 0, got " + total);
    }

    /** The rate at step {@code s} (0-based). */
    public float at(int s) {
        if (s < warmup) return max * (s + 1) / warmup;
        if (total <= warmup) return max;
        double progress = Math.min(1.0, (double) (s - warmup) / (total - warmup));
        return (float) (min + 0.5 * (max - min) * (1 + Math.cos(Math.PI * progress)));
    }
}
