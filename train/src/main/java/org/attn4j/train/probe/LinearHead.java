package org.attn4j.train.probe;

import java.util.SplittableRandom;
import org.attn4j.train.Parameters;

/**
 * Softmax regression {@code z = W·f + b} on a fixed feature vector per example: the baselines of
 * probing (mean- or CLS-pooled token states, dense) and the bag-of-words model (sparse).
 *
 * <p>Parameters: {@code probe.classifier.weight [C, dim]} (decay) and {@code probe.classifier.bias [C]}.
 */
public final class LinearHead implements Head {
    private final int[][] index;
    private final float[][] value;
    private final int dim, classes;
    private final Parameters params;
    private final int wOff, bOff;

    /**
     * @param index per example, the feature indices of its non-zero values (null: dense, {@code value[i]} has {@code dim} entries)
     * @param value per example, the feature values
     * @param dim   feature width
     * @param seed  initialisation: W ~ N(0, 0.01²), b = 0
     */
    public LinearHead(int[][] index, float[][] value, int dim, int classes, long seed) {
        if (dim < 1) throw new IllegalArgumentException("dim: expected >= 1, got " + dim);
        if (classes < 2) throw new IllegalArgumentException("classes: expected >= 2, got " + classes);
        for (int i = 0; i < value.length; i++) {
            int n = index == null ? dim : index[i].length;
            if (value[i].length != n) throw new IllegalArgumentException("value: example " + i + " has " + value[i].length + " values, expected " + n);
            if (index != null) for (int k : index[i]) {
                if (k < 0 || k >= dim) throw new IllegalArgumentException("index: example " + i + " has feature " + k + ", expected [0, " + dim + ")");
            }
        }
        this.index = index;
        this.value = value;
        this.dim = dim;
        this.classes = classes;
        Parameters.Builder b = Parameters.builder();
        b.add("probe.classifier.weight", true, classes, dim);
        b.add("probe.classifier.bias", false, classes);
        this.params = b.build();
        this.wOff = params.get("probe.classifier.weight").offset();
        this.bOff = params.get("probe.classifier.bias").offset();
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = params.values();
        for (int i = 0; i < classes * dim; i++) v[wOff + i] = (float) (0.01 * AttentiveHead.gaussian(r));
    }

    /** A dense head over one feature vector {@code [dim]} per example. */
    public static LinearHead dense(float[][] features, int dim, int classes, long seed) {
        return new LinearHead(null, features, dim, classes, seed);
    }

    @Override public Parameters params() { return params; }

    @Override public int examples() { return value.length; }

    @Override public int classes() { return classes; }

    private int feature(int i, int n) { return index == null ? n : index[i][n]; }

    @Override
    public double[] logits(int i, double[] theta) {
        double[] z = new double[classes];
        float[] v = value[i];
        for (int k = 0; k < classes; k++) {
            double s = theta[bOff + k];
            int row = wOff + k * dim;
            for (int n = 0; n < v.length; n++) s += theta[row + feature(i, n)] * v[n];
            z[k] = s;
        }
        return z;
    }

    @Override
    public double lossAndGrad(int i, int label, double[] theta, double[] grad, double scale) {
        double[] z = logits(i, theta);
        double[] dz = new double[classes];
        double loss = Head.crossEntropy(z, label, dz);
        float[] v = value[i];
        for (int k = 0; k < classes; k++) {
            double d = dz[k] * scale;
            grad[bOff + k] += d;
            int row = wOff + k * dim;
            for (int n = 0; n < v.length; n++) grad[row + feature(i, n)] += d * v[n];
        }
        return loss;
    }
}
