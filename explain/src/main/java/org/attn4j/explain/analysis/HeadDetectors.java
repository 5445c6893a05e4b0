package org.attn4j.explain.analysis;

/**
 * Pattern-matching head detectors in the style of TransformerLens's head detector (Nanda and Bloom,
 * "TransformerLens", 2022; induction heads after Olsson et al., "In-context Learning and Induction
 * Heads", 2022).
 *
 * <p>A detection pattern {@code D} is an {@code n × n} 0/1 mask ({@code boolean[n][n]}, row = query,
 * column = key). A head's score is {@code Σ(A ⊙ D) / Σ A}, in [0, 1]. Optionally column 0 (the first
 * token, often [CLS]/BOS) and/or the diagonal (the current token) are first zeroed in {@code A}, so they
 * count in neither the numerator nor the denominator; if nothing is left the score is 0.
 */
public final class HeadDetectors {

    private HeadDetectors() {}

    /** Previous-token pattern: {@code D[i][i-1] = 1}. */
    public static boolean[][] previousToken(int n) {
        return offset(n, -1);
    }

    /** Next-token pattern (bidirectional models): {@code D[i][i+1] = 1}. */
    public static boolean[][] nextToken(int n) {
        return offset(n, 1);
    }

    /** Positional pattern at relative offset {@code k}: {@code D[i][i+k] = 1} where {@code 0 <= i+k < n}. */
    public static boolean[][] offset(int n, int k) {
        checkN(n);
        boolean[][] d = new boolean[n][n];
        for (int i = 0; i < n; i++) {
            int j = i + k;
            if (j >= 0 && j < n) {
                d[i][j] = true;
            }
        }
        return d;
    }

    /** Duplicate-token pattern: {@code D[i][j] = 1} when {@code tokens[i] == tokens[j]} and {@code j < i}. */
    public static boolean[][] duplicateToken(int[] tokens) {
        int n = checkTokens(tokens);
        boolean[][] d = new boolean[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++) {
                d[i][j] = tokens[i] == tokens[j];
            }
        }
        return d;
    }

    /**
     * Induction pattern: the duplicate-token pattern shifted one column right, i.e. {@code D[i][j] = 1}
     * when {@code tokens[i] == tokens[j-1]} and {@code 1 <= j <= i} (attend to the token that followed an
     * earlier occurrence of the current token).
     */
    public static boolean[][] induction(int[] tokens) {
        boolean[][] dup = duplicateToken(tokens);
        int n = dup.length;
        boolean[][] d = new boolean[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 1; j < n; j++) {
                d[i][j] = dup[i][j - 1];
            }
        }
        return d;
    }

    /** Sink pattern: {@code D[i][j] = 1} for every query i and every j in {@code positions} (e.g. [CLS], [SEP], punctuation). */
    public static boolean[][] sink(int n, int... positions) {
        checkN(n);
        if (positions == null) {
            throw new IllegalArgumentException("positions: null (expected token positions)");
        }
        boolean[][] d = new boolean[n][n];
        for (int p : positions) {
            if (p < 0 || p >= n) {
                throw new IllegalArgumentException("positions: " + p + " (expected 0 <= position < " + n + ")");
            }
            for (int i = 0; i < n; i++) {
                d[i][p] = true;
            }
        }
        return d;
    }

    /** {@code Σ(A ⊙ D) / Σ A} with nothing excluded. */
    public static double score(double[][] attention, boolean[][] pattern) {
        return score(attention, pattern, false, false);
    }

    /**
     * {@code Σ(A ⊙ D) / Σ A} after zeroing column 0 of A if {@code excludeFirstToken} and its diagonal if
     * {@code excludeCurrentToken}; 0 when nothing remains.
     *
     * @param attention an {@code n × n} attention map
     * @param pattern   an {@code n × n} detection pattern
     */
    public static double score(double[][] attention, boolean[][] pattern,
                               boolean excludeFirstToken, boolean excludeCurrentToken) {
        int n = Validate.map("attention", attention);
        checkPattern(pattern, n);
        double hit = 0;
        double all = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                if ((excludeFirstToken && j == 0) || (excludeCurrentToken && i == j)) {
                    continue;
                }
                double p = attention[i][j];
                all += p;
                if (pattern[i][j]) {
                    hit += p;
                }
            }
        }
        return all > 0 ? Math.min(1, hit / all) : 0;
    }

    /** The score of every head: {@code [layers][heads]} from {@code [layers][heads][n][n]} attention. */
    public static double[][] scores(double[][][][] attention, boolean[][] pattern,
                                    boolean excludeFirstToken, boolean excludeCurrentToken) {
        Validate.layers("attention", attention);
        double[][] out = new double[attention.length][];
        for (int l = 0; l < attention.length; l++) {
            out[l] = new double[attention[l].length];
            for (int h = 0; h < attention[l].length; h++) {
                out[l][h] = score(attention[l][h], pattern, excludeFirstToken, excludeCurrentToken);
            }
        }
        return out;
    }

    private static void checkN(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("n: " + n + " (expected n >= 1)");
        }
    }

    private static int checkTokens(int[] tokens) {
        if (tokens == null || tokens.length == 0) {
            throw new IllegalArgumentException("tokens: " + (tokens == null ? "null" : "empty")
                    + " (expected at least one token id)");
        }
        return tokens.length;
    }

    private static void checkPattern(boolean[][] pattern, int n) {
        if (pattern == null || pattern.length != n) {
            throw new IllegalArgumentException("pattern: " + (pattern == null ? "null" : pattern.length + " rows")
                    + " (expected " + n + ", the attention map's size)");
        }
        for (int i = 0; i < n; i++) {
            if (pattern[i] == null || pattern[i].length != n) {
                throw new IllegalArgumentException("pattern[" + i + "]: "
                        + (pattern[i] == null ? "null row" : pattern[i].length + " columns") + " (expected " + n + ")");
            }
        }
    }
}
