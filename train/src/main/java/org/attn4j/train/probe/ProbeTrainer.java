package org.attn4j.train.probe;

import java.util.SplittableRandom;
import org.attn4j.train.Parameters;
import org.attn4j.train.optim.AdamW;

/**
 * Trains a {@link Head} with mini-batch cross-entropy and train's {@link AdamW}: each step draws a
 * batch by walking a seeded shuffle of the examples, averages the loss over it, and updates the
 * float32 parameters. The learning rate decays linearly to zero over the run.
 */
public final class ProbeTrainer {
    private ProbeTrainer() {}

    /** Settings of one training run. */
    public record Settings(int steps, int batch, float lr, float weightDecay) {
        public Settings {
            if (steps < 1) throw new IllegalArgumentException("steps: expected >= 1, got " + steps);
            if (batch < 1) throw new IllegalArgumentException("batch: expected >= 1, got " + batch);
            if (!(lr > 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("lr: expected a finite value > 0, got " + lr);
            if (!(weightDecay >= 0)) throw new IllegalArgumentException("weightDecay: expected >= 0, got " + weightDecay);
        }
    }

    /** Trains {@code head} on {@code labels[i]} (class of example i, in [0, classes)); returns the final mean batch loss. */
    public static double fit(Head head, int[] labels, Settings s, long seed) {
        if (labels.length != head.examples()) throw new IllegalArgumentException("labels: expected " + head.examples() + " labels, got " + labels.length);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= head.classes()) throw new IllegalArgumentException("labels: example " + i + " has class " + labels[i] + ", expected [0, " + head.classes() + ")");
        }
        Parameters p = head.params();
        AdamW opt = new AdamW(p, s.weightDecay());
        int n = labels.length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        shuffle(order, r);
        int cursor = 0, batch = Math.min(s.batch(), n);
        double[] theta = new double[p.size()], grad = new double[p.size()];
        double loss = Double.NaN;
        for (int step = 0; step < s.steps(); step++) {
            float[] v = p.values(), g = p.grads();
            for (int k = 0; k < theta.length; k++) theta[k] = v[k];
            java.util.Arrays.fill(grad, 0);
            double sum = 0;
            for (int b = 0; b < batch; b++) {
                if (cursor == n) {
                    shuffle(order, r);
                    cursor = 0;
                }
                int i = order[cursor++];
                sum += head.lossAndGrad(i, labels[i], theta, grad, 1.0 / batch);
            }
            loss = sum / batch;
            for (int k = 0; k < grad.length; k++) g[k] = (float) grad[k];
            opt.step(s.lr() * (1f - (float) step / s.steps()));
        }
        return loss;
    }

    /** The current parameters of {@code head} in float64. */
    public static double[] theta(Head head) {
        float[] v = head.params().values();
        double[] t = new double[v.length];
        for (int k = 0; k < v.length; k++) t[k] = v[k];
        return t;
    }

    /** The predicted class (arg-max logit) of every example. */
    public static int[] predict(Head head) {
        double[] theta = theta(head);
        int[] out = new int[head.examples()];
        for (int i = 0; i < out.length; i++) {
            double[] z = head.logits(i, theta);
            int best = 0;
            for (int k = 1; k < z.length; k++) if (z[k] > z[best]) best = k;
            out[i] = best;
        }
        return out;
    }

    /** Fraction of {@code predicted} equal to {@code labels}. */
    public static double accuracy(int[] predicted, int[] labels) {
        if (predicted.length != labels.length) throw new IllegalArgumentException("predicted: expected " + labels.length + " entries, got " + predicted.length);
        if (labels.length == 0) throw new IllegalArgumentException("labels: expected at least one example, got none");
        int ok = 0;
        for (int i = 0; i < labels.length; i++) if (predicted[i] == labels[i]) ok++;
        return (double) ok / labels.length;
    }

    private static void shuffle(int[] a, SplittableRandom r) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
