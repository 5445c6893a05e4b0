package org.attn4j.explain.analysis;

/** Argument checks shared by the analyses; every failure is an {@link IllegalArgumentException}. */
final class Validate {

    /** How far a row of an attention map may sum from 1. */
    static final double ROW_SUM_TOLERANCE = 1e-6;

    private Validate() {}

    /** Checks one attention map (square, finite, non-negative, rows summing to 1); returns n. */
    static int map(String name, double[][] a) {
        if (a == null) {
            throw new IllegalArgumentException(name + ": null (expected an n x n attention map)");
        }
        int n = a.length;
        if (n == 0) {
            throw new IllegalArgumentException(name + ": 0 rows (expected n >= 1)");
        }
        for (int i = 0; i < n; i++) {
            double[] row = a[i];
            if (row == null) {
                throw new IllegalArgumentException(name + "[" + i + "]: null row (expected " + n + " columns)");
            }
            if (row.length != n) {
                throw new IllegalArgumentException(name + "[" + i + "]: " + row.length
                        + " columns (expected " + n + ": an attention map must be square)");
            }
            double sum = 0;
            for (int j = 0; j < n; j++) {
                double p = row[j];
                if (!Double.isFinite(p) || p < 0) {
                    throw new IllegalArgumentException(name + "[" + i + "][" + j + "]: " + p
                            + " (expected a finite probability >= 0)");
                }
                sum += p;
            }
            if (Math.abs(sum - 1) > ROW_SUM_TOLERANCE) {
                throw new IllegalArgumentException(name + "[" + i + "]: row sums to " + sum
                        + " (expected 1 within " + ROW_SUM_TOLERANCE + ")");
            }
        }
        return n;
    }

    /** Checks a [heads][n][n] stack of maps with a common n; returns n. */
    static int heads(String name, double[][][] heads) {
        if (heads == null || heads.length == 0) {
            throw new IllegalArgumentException(name + ": " + (heads == null ? "null" : "0 heads")
                    + " (expected at least one head)");
        }
        int n = map(name + "[0]", heads[0]);
        for (int h = 1; h < heads.length; h++) {
            int m = map(name + "[" + h + "]", heads[h]);
            if (m != n) {
                throw new IllegalArgumentException(name + "[" + h + "]: " + m + " tokens (expected " + n
                        + ", as in " + name + "[0])");
            }
        }
        return n;
    }

    /** Checks [layers][heads][n][n] attention with a common n; returns n. */
    static int layers(String name, double[][][][] attention) {
        if (attention == null || attention.length == 0) {
            throw new IllegalArgumentException(name + ": " + (attention == null ? "null" : "0 layers")
                    + " (expected at least one layer)");
        }
        int n = heads(name + "[0]", attention[0]);
        for (int l = 1; l < attention.length; l++) {
            int m = heads(name + "[" + l + "]", attention[l]);
            if (m != n) {
                throw new IllegalArgumentException(name + "[" + l + "]: " + m + " tokens (expected " + n
                        + ", as in " + name + "[0])");
            }
        }
        return n;
    }

    /** Checks a [layers][n][n] stack of single maps (one per layer) with a common n; returns n. */
    static int singleHeadLayers(String name, double[][][] layers) {
        if (layers == null || layers.length == 0) {
            throw new IllegalArgumentException(name + ": " + (layers == null ? "null" : "0 layers")
                    + " (expected at least one layer)");
        }
        int n = map(name + "[0]", layers[0]);
        for (int l = 1; l < layers.length; l++) {
            int m = map(name + "[" + l + "]", layers[l]);
            if (m != n) {
                throw new IllegalArgumentException(name + "[" + l + "]: " + m + " tokens (expected " + n
                        + ", as in " + name + "[0])");
            }
        }
        return n;
    }

    /** Checks a rectangular, finite matrix with at least one row and column; returns its row count. */
    static int matrix(String name, double[][] m) {
        if (m == null || m.length == 0) {
            throw new IllegalArgumentException(name + ": " + (m == null ? "null" : "0 rows")
                    + " (expected at least one row)");
        }
        if (m[0] == null || m[0].length == 0) {
            throw new IllegalArgumentException(name + "[0]: no columns (expected at least one)");
        }
        int d = m[0].length;
        for (int i = 0; i < m.length; i++) {
            if (m[i] == null || m[i].length != d) {
                throw new IllegalArgumentException(name + "[" + i + "]: "
                        + (m[i] == null ? "null row" : m[i].length + " columns") + " (expected " + d
                        + ", as in " + name + "[0])");
            }
            for (int j = 0; j < d; j++) {
                if (!Double.isFinite(m[i][j])) {
                    throw new IllegalArgumentException(name + "[" + i + "][" + j + "]: " + m[i][j]
                            + " (expected a finite value)");
                }
            }
        }
        return m.length;
    }

    /** Checks 0 < length <= n for a real-token count. */
    static void length(String name, int length, int n) {
        if (length < 1 || length > n) {
            throw new IllegalArgumentException(name + ": " + length + " (expected 1 <= " + name + " <= " + n + ")");
        }
    }
}
