package org.attn4j.train.report;

/**
 * What one finished training run measured, as a comparison reads it.
 *
 * @param mechanism       the attention as named on the command line (e.g. {@code full}, {@code full:window=8})
 * @param width           d_model
 * @param seed            the run's seed
 * @param finalAccuracy   held-out accuracy at the last evaluation, in [0, 1]
 * @param finalLoss       held-out loss (mean cross-entropy in nats over the marked positions) at the last
 *                        evaluation; it separates runs whose accuracies all sit on the same plateau
 * @param stepsTo99       optimiser steps after which held-out accuracy first reached 0.99 (checked at
 *                        evaluations only), or -1 if it never did
 * @param wallSeconds     wall time of the training loop, evaluations included
 * @param tokensPerSecond training tokens (batch × sequence × steps, accumulation included) per wall second
 * @param parameters      trainable parameter count
 */
public record RunOutcome(String mechanism, int width, long seed, double finalAccuracy, double finalLoss, int stepsTo99, double wallSeconds,
                         double tokensPerSecond, long parameters) {
    public RunOutcome {
        if (mechanism == null || mechanism.isEmpty()) throw new IllegalArgumentException("mechanism: expected a name, got '" + mechanism + "'");
        if (width <= 0) throw new IllegalArgumentException("width: expected > 0, got " + width);
        if (!(finalAccuracy >= 0 && finalAccuracy <= 1)) throw new IllegalArgumentException("finalAccuracy: expected in [0, 1], got " + finalAccuracy);
        if (!(finalLoss >= 0 && finalLoss < Double.POSITIVE_INFINITY)) throw new IllegalArgumentException("finalLoss: expected a finite value >= 0, got " + finalLoss);
        if (stepsTo99 < -1 || stepsTo99 == 0) throw new IllegalArgumentException("stepsTo99: expected -1 (never) or ≥ 1, got " + stepsTo99);
    }
}
