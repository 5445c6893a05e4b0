package org.attn4j.variants;

import java.util.SplittableRandom;

/**
 * Deterministic initialisation of learned parameters: the same (seed, name, size) always gives the
 * same numbers, on every machine and thread count, and different names give independent streams.
 */
public final class Init {
    private Init() {}

    private static SplittableRandom stream(long seed, String name) {
        long h = 1125899906842597L;
        for (int i = 0; i < name.length(); i++) h = 31 * h + name.charAt(i);
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ h);
    }

    /** {@code n} values from N(0, std²). */
    public static float[] normal(long seed, String name, int n, double std) {
        SplittableRandom r = stream(seed, name);
        float[] out = new float[n];
        for (int i = 0; i < n; i += 2) {
            // Box–Muller, both outputs used.
            double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
            double rad = Math.sqrt(-2.0 * Math.log(u1)), th = 2 * Math.PI * u2;
            out[i] = (float) (std * rad * Math.cos(th));
            if (i + 1 < n) out[i + 1] = (float) (std * rad * Math.sin(th));
        }
        return out;
    }

    /** {@code n} values uniform in [lo, hi). */
    public static float[] uniform(long seed, String name, int n, double lo, double hi) {
        SplittableRandom r = stream(seed, name);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) out[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return out;
    }

    /** A {@code rows × cols} weight with Glorot/Xavier-uniform scale, row-major. */
    public static float[] glorot(long seed, String name, int rows, int cols) {
        double a = Math.sqrt(6.0 / (rows + cols));
        return uniform(seed, name, rows * cols, -a, a);
    }
}
