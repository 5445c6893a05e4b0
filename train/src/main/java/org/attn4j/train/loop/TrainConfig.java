package org.attn4j.train.loop;

/**
 * Settings of a training run.
 *
 * @param steps          optimiser steps at most
 * @param batch          sequences per forward/backward (a micro-batch when {@code accumulate > 1})
 * @param accumulate     micro-batches whose gradients are averaged into one optimiser step
 * @param learningRate   peak learning rate (after warm-up)
 * @param minLearningRate the rate the cosine decay ends at
 * @param warmupSteps    steps of linear warm-up
 * @param weightDecay    AdamW's decoupled decay λ (on tensors marked for decay only)
 * @param gradClip       maximum global gradient norm (0 = no clipping)
 * @param evalEvery      evaluate on the held-out set every this many steps (and after the last one)
 * @param targetAccuracy stop early once held-out accuracy reaches this (above 1: never)
 */
public record TrainConfig(int steps, int batch, int accumulate, float learningRate, float minLearningRate, int warmupSteps,
                          float weightDecay, float gradClip, int evalEvery, double targetAccuracy) {
    public TrainConfig {
        if (steps <= 0) throw new IllegalArgumentException("steps: expected > 0, got " + steps);
        if (batch <= 0) throw new IllegalArgumentException("batch: expected > 0, got " + batch);
        if (accumulate <= 0) throw new IllegalArgumentException("accumulate: expected > 0, got " + accumulate);
        if (evalEvery <= 0) throw new IllegalArgumentException("evalEvery: expected > 0, got " + evalEvery);
        if (!(gradClip >= 0)) throw new IllegalArgumentException("gradClip: expected >= 0, got " + gradClip);
    }

    /** Common defaults around {@code steps} and {@code batch}: lr 1e-3 → 1e-4 by cosine after 10 % warm-up, decay 0.1, clip 1.0, eval every 50 steps, no early stop. */
    public static TrainConfig of(int steps, int batch) {
        return new TrainConfig(steps, batch, 1, 1e-3f, 1e-4f, Math.max(1, steps / 10), 0.1f, 1f, 50, 2.0);
    }

    /** {@code n} micro-batches of {@code batch} sequences per optimiser step. */
    public TrainConfig withAccumulation(int n) {
        return new TrainConfig(steps, batch, n, learningRate, minLearningRate, warmupSteps, weightDecay, gradClip, evalEvery, targetAccuracy);
    }

    /** Maximum global gradient norm (0 = no clipping). */
    public TrainConfig withGradClip(float clip) {
        return new TrainConfig(steps, batch, accumulate, learningRate, minLearningRate, warmupSteps, weightDecay, clip, evalEvery, targetAccuracy);
    }

    public TrainConfig withLearningRate(float max, float min) {
        return new TrainConfig(steps, batch, accumulate, max, min, warmupSteps, weightDecay, gradClip, evalEvery, targetAccuracy);
    }

    public TrainConfig withWarmup(int w) {
        return new TrainConfig(steps, batch, accumulate, learningRate, minLearningRate, w, weightDecay, gradClip, evalEvery, targetAccuracy);
    }

    public TrainConfig withWeightDecay(float wd) {
        return new TrainConfig(steps, batch, accumulate, learningRate, minLearningRate, warmupSteps, wd, gradClip, evalEvery, targetAccuracy);
    }

    public TrainConfig withEval(int every, double target) {
        return new TrainConfig(steps, batch, accumulate, learningRate, minLearningRate, warmupSteps, weightDecay, gradClip, every, target);
    }
}
