package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.ToDoubleFunction;

/**
 * Central finite differences in float64 and the comparison of analytic float32 gradients with them.
 *
 * <p>The error model behind the tolerance: a float32 gradient is a chain of sums of products, each
 * result off by a few units of float32 rounding (6e-8) times the size of the terms summed. In these
 * tiny models the terms are of the order of the largest gradient entry in the same tensor, so the
 * error of any entry is bounded by {@code k·6e-8·max|g|} for a modest k (depth × log of the sum
 * lengths), not by its own, possibly cancelled, size. Hence the bound
 * {@code |analytic − numeric| ≤ ABS·max_tensor|numeric| + REL·|numeric|}. The float64 central
 * difference with step 1e-5 is exact to ~1e-9 relative (truncation h² ≈ 1e-10, rounding
 * 1e-16/h ≈ 1e-11), far below that bound, so the bound measures the float32 side only.
 */
final class GradCheck {
    /** Step of the central differences, in float64. */
    static final double STEP = 1e-5;

    private GradCheck() {}

    /** ∂f/∂θ_i for i in [from, to) by central differences; θ is restored afterwards. */
    static double[] central(ToDoubleFunction<double[]> f, double[] theta, int from, int to) {
        double[] g = new double[to - from];
        for (int i = from; i < to; i++) {
            double keep = theta[i];
            theta[i] = keep + STEP;
            double plus = f.applyAsDouble(theta);
            theta[i] = keep - STEP;
            double minus = f.applyAsDouble(theta);
            theta[i] = keep;
            g[i - from] = (plus - minus) / (2 * STEP);
        }
        return g;
    }

    static double[] central(ToDoubleFunction<double[]> f, double[] theta) {
        return central(f, theta, 0, theta.length);
    }

    /** The worst entry of one comparison: {@code ratio ≤ 1} passes. */
    record Worst(String what, double ratio, int index, double analytic, double numeric, double scale) {
        @Override
        public String toString() {
            return String.format("%s: worst at [%d] analytic %.9g vs numeric %.9g (tensor scale %.3g), %.3f of the tolerance",
                    what, index, analytic, numeric, scale, ratio);
        }
    }

    /**
     * Compares {@code analytic[aOff + i]} with {@code numeric[i]} for i &lt; numeric.length under
     * {@code |a − n| ≤ abs·max|n| + rel·|n|}.
     */
    static Worst compare(String what, float[] analytic, int aOff, double[] numeric, double abs, double rel) {
        double scale = 0;
        for (double n : numeric) scale = Math.max(scale, Math.abs(n));
        Worst worst = new Worst(what, 0, -1, 0, 0, scale);
        for (int i = 0; i < numeric.length; i++) {
            double a = analytic[aOff + i], n = numeric[i];
            double allowed = abs * scale + rel * Math.abs(n);
            double ratio = allowed == 0 ? (a == n ? 0 : Double.POSITIVE_INFINITY) : Math.abs(a - n) / allowed;
            if (worst.index < 0 || !(ratio <= worst.ratio)) worst = new Worst(what, ratio, i, a, n, scale); // NaN wins
        }
        return worst;
    }

    static void assertWithin(Worst w) {
        assertTrue(w.ratio() <= 1, w.toString());
    }

    static double[] toDouble(float[] a, int off, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = a[off + i];
        return d;
    }
}
