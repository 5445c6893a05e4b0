package org.attn4j.train.probe;

import org.attn4j.train.Parameters;

/**
 * A classifier head trained by {@link ProbeTrainer}: its parameters live in a float32
 * {@link Parameters} buffer (so that train's {@link org.attn4j.train.optim.AdamW} updates them),
 * while its forward and backward run in float64 over a copy {@code theta} of that buffer, with the
 * same layout. A head is small next to the frozen encoder, so float64 costs little and lets the
 * gradient be checked against finite differences exactly as it runs.
 */
public interface Head {
    /** The parameter layout (and the float32 values the optimiser updates). */
    Parameters params();

    /** Number of examples the head was built over. */
    int examples();

    /** Number of classes. */
    int classes();

    /** The logits {@code [classes]} of example {@code i} under parameters {@code theta}. */
    double[] logits(int i, double[] theta);

    /**
     * Cross-entropy of example {@code i} with true class {@code label}; adds {@code scale·∂loss/∂θ}
     * to {@code grad} (same layout as {@code theta}) and returns the unscaled loss.
     */
    double lossAndGrad(int i, int label, double[] theta, double[] grad, double scale);

    /** Softmax cross-entropy {@code logsumexp(z) − z[label]}; overwrites {@code dz} with {@code softmax(z) − onehot(label)}. */
    static double crossEntropy(double[] z, int label, double[] dz) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : z) max = Math.max(max, v);
        double sum = 0;
        for (int c = 0; c < z.length; c++) {
            dz[c] = Math.exp(z[c] - max);
            sum += dz[c];
        }
        for (int c = 0; c < z.length; c++) dz[c] /= sum;
        dz[label] -= 1;
        return max + Math.log(sum) - z[label];
    }
}
