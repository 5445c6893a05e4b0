package org.attn4j.variants;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;

/** Test support shared by the variant tests: random inputs, the dense reference, tolerances. */
public final class VariantAssert {
    private VariantAssert() {}

    /** A [B, H, N, D] tensor of N(0, 1) values. */
    public static Tensor random(SplittableRandom r, int b, int h, int n, int d) {
        float[] x = new float[b * h * n * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) gaussian(r);
        return Tensor.of(x, b, h, n, d);
    }

    public static double gaussian(SplittableRandom r) {
        double u1 = 1 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /**
     * The float64 reference kernel with a dense boolean mask {@code [B or 1, H or 1, Nq, Nk]} (null for
     * none) and optional dense additive bias; the oracle for every exact-with-mask variant.
     */
    public static Tensor reference(Tensor q, Tensor k, Tensor v, BoolTensor mask, Tensor bias, Float scale) {
        AttentionSpec.Builder spec = AttentionSpec.builder().kernel(KernelChoice.REFERENCE).mask(mask).bias(bias);
        if (scale != null) spec.scale(scale);
        return Attention.sdpa(q, k, v, spec.build()).output();
    }

    /** Fails unless |a − e| ≤ atol + rtol·|e| everywhere and shapes agree; reports the worst element. */
    public static void assertClose(Tensor expected, Tensor actual, double atol, double rtol, String what) {
        if (!java.util.Arrays.equals(expected.shape(), actual.shape())) {
            fail(what + ": shape " + java.util.Arrays.toString(actual.shape()) + " != expected " + java.util.Arrays.toString(expected.shape()));
        }
        float[] e = expected.contiguous().toArray(), a = actual.contiguous().toArray();
        double worst = -1;
        int at = -1;
        for (int i = 0; i < e.length; i++) {
            double err = Math.abs((double) a[i] - e[i]);
            if (!(err <= atol + rtol * Math.abs(e[i]))) {
                double excess = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err - atol - rtol * Math.abs(e[i]);
                if (excess > worst) {
                    worst = excess;
                    at = i;
                }
            }
        }
        if (at >= 0) fail(what + ": element " + at + " is " + a[at] + ", expected " + e[at] + " (atol " + atol + ", rtol " + rtol + ")");
    }

    /**
     * Fails unless {@code call} throws IllegalArgumentException whose message names the argument:
     * contains {@code naming}, e.g. {@code "threshold:"} or {@code "no parameter blok"}; returns it.
     */
    public static IllegalArgumentException assertRejects(String naming, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, call);
        if (e.getMessage() == null || !e.getMessage().contains(naming)) fail("the message does not name the argument (" + naming + "): " + e.getMessage());
        return e;
    }

    /** max |a − e| / max |e| (the benchmark's relative error). */
    public static double relativeError(Tensor expected, Tensor actual) {
        float[] e = expected.contiguous().toArray(), a = actual.contiguous().toArray();
        double num = 0, den = 0;
        for (int i = 0; i < e.length; i++) {
            num = Math.max(num, Math.abs((double) a[i] - e[i]));
            den = Math.max(den, Math.abs((double) e[i]));
        }
        return num / Math.max(den, 1e-30);
    }
}
