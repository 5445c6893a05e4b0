package org.attn4j.core.attention;

import java.util.Random;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;

/** Random test inputs. */
final class Inputs {
    private Inputs() {}

    static Tensor gaussian(Random rnd, float sigma, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        float[] data = new float[n];
        for (int i = 0; i < n; i++) data[i] = (float) (rnd.nextGaussian() * sigma);
        return Tensor.of(data, shape);
    }

    /** A [B, H, N, D] tensor stored as [B, N, H, D] and viewed through a permutation (not contiguous). */
    static Tensor gaussianStrided(Random rnd, float sigma, int b, int h, int n, int d) {
        return gaussian(rnd, sigma, b, n, h, d).permute(0, 2, 1, 3);
    }

    static BoolTensor mask(Random rnd, double pTrue, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        boolean[] data = new boolean[n];
        for (int i = 0; i < n; i++) data[i] = rnd.nextDouble() < pTrue;
        return BoolTensor.of(data, shape);
    }

    /**
     * Every {@code actual[i]} within {@code atol + rtol·|expected[i]|} of {@code expected[i]}; infinities must
     * match exactly, and a NaN on either side fails.
     */
    static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": length " + actual.length + " != expected " + expected.length);
        }
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            // A NaN on either side fails: NaN compares false with everything, so the tolerance test below would pass it.
            if (Double.isNaN(a)) throw new AssertionError(what + ": NaN at " + i + " (expected " + e + ")");
            if (Double.isNaN(e)) throw new AssertionError(what + ": expected NaN at " + i + " (got " + a + "); the reference is broken");
            if (e == a) continue;
            if (Double.isInfinite(e) || Double.isInfinite(a)) {
                throw new AssertionError(what + ": at " + i + " expected " + e + " got " + a);
            }
            double excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
            if (excess > worst) {
                worst = excess;
                worstAt = i;
            }
        }
        if (worstAt >= 0) {
            throw new AssertionError(what + ": at " + worstAt + " expected " + expected[worstAt] + " got " + actual[worstAt]
                    + " (|diff| = " + Math.abs(actual[worstAt] - expected[worstAt]) + ", tolerance " + atol + " + " + rtol + "·|ref|)");
        }
    }
}
