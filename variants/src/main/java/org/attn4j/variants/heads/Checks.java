package org.attn4j.variants.heads;

/** Shared field validation for the head-variant parameter records; messages name the field. */
final class Checks {
    private Checks() {}

    static void scale(double scale) {
        if (!Double.isFinite(scale) || scale < 0) {
            throw new IllegalArgumentException("scale: expected 0 (for 1/sqrt(D)) or a finite positive number, got " + scale);
        }
    }

    static void perturb(double perturb) {
        if (!Double.isFinite(perturb) || perturb < 0) {
            throw new IllegalArgumentException("perturb: expected a finite number >= 0, got " + perturb);
        }
    }

    static void square(String name, float[] m, int n) {
        if (m == null) throw new IllegalArgumentException(name + ": missing");
        if (m.length != n * n) throw new IllegalArgumentException(name + ": expected " + n + "x" + n + " = " + (n * n) + " values for H = " + n + ", got " + m.length);
        finite(name, m);
    }

    static void finite(String name, float[] m) {
        for (int i = 0; i < m.length; i++) {
            if (!Float.isFinite(m[i])) throw new IllegalArgumentException(name + ": expected finite values, got " + m[i] + " at " + i);
        }
    }

    static void length(String name, float[] m, int expected, String what) {
        if (m == null) throw new IllegalArgumentException(name + ": missing");
        if (m.length != expected) throw new IllegalArgumentException(name + ": expected " + expected + " values (" + what + "), got " + m.length);
        finite(name, m);
    }
}
