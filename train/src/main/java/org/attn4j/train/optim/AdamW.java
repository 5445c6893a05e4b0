package org.attn4j.train.optim;

import org.attn4j.train.Parameters;

/**
 * AdamW (Loshchilov &amp; Hutter, "Decoupled Weight Decay Regularization", 2019) over a flat
 * {@link Parameters} buffer, as PyTorch's {@code torch.optim.AdamW} defines it. At step t (from 1),
 * for every parameter θ with gradient g:
 * <pre>
 *   m = β₁·m + (1 − β₁)·g
 *   v = β₂·v + (1 − β₂)·g²
 *   θ = θ − lr·λ·θ                                  (decoupled decay; λ = 0 on tensors without decay)
 *   θ = θ − lr·(m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε)
 * </pre>
 * The decay applies only to tensors whose {@link Parameters.Param#decay()} is set (by default the
 * matrices of linear layers; not norms, biases or embeddings). The moments are float32, one pair
 * per parameter; the bias corrections are computed in float64 once per step.
 */
public final class AdamW {
    private final Parameters params;
    private final float beta1, beta2, eps, weightDecay;
    private final float[] m, v;
    private int t;

    /** PyTorch's defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8. */
    public AdamW(Parameters params, float weightDecay) {
        this(params, 0.9f, 0.999f, 1e-8f, weightDecay);
    }

    public AdamW(Parameters params, float beta1, float beta2, float eps, float weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("beta1: expected [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("beta2: expected [0, 1), got " + beta2);
        if (!(eps > 0)) throw new IllegalArgumentException("eps: expected > 0, got " + eps);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("weightDecay: expected >= 0, got " + weightDecay);
        this.params = params;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.m = new float[params.size()];
        this.v = new float[params.size()];
    }

    /** One update of every parameter from its current gradient, at learning rate {@code lr}. */
    public void step(float lr) {
        if (!(lr >= 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("lr: expected a finite value >= 0, got " + lr);
        t++;
        float correction1 = (float) (1.0 - Math.pow(beta1, t));
        float correction2 = (float) (1.0 - Math.pow(beta2, t));
        float[] w = params.values(), g = params.grads();
        for (Parameters.Param p : params.params()) {
            float decay = p.decay() ? lr * weightDecay : 0f;
            for (int i = p.offset(), end = p.offset() + p.size(); i < end; i++) {
                float gi = g[i];
                m[i] = beta1 * m[i] + (1f - beta1) * gi;
                v[i] = beta2 * v[i] + (1f - beta2) * gi * gi;
                float mHat = m[i] / correction1;
                float vHat = v[i] / correction2;
                w[i] -= decay * w[i];
                w[i] -= lr * mHat / ((float) Math.sqrt(vHat) + eps);
            }
        }
    }

    /** Steps taken so far. */
    public int steps() { return t; }

    /** Sets the step count (for resuming from a checkpoint, with the moments copied into {@link #firstMoments()} and {@link #secondMoments()}). */
    public void restoreSteps(int steps) {
        if (steps < 0) throw new IllegalArgumentException("steps: expected >= 0, got " + steps);
        this.t = steps;
    }

    public float beta1() { return beta1; }

    public float beta2() { return beta2; }

    public float eps() { return eps; }

    public float weightDecay() { return weightDecay; }

    /** First moments (live; same layout as the parameters). */
    public float[] firstMoments() { return m; }

    /** Second moments (live; same layout as the parameters). */
    public float[] secondMoments() { return v; }
}
