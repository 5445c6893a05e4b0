package org.attn4j.explain.analysis;

/**
 * Attention rollout (Abnar and Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020).
 *
 * <p>Per layer the heads are fused ({@link HeadFusion}) and the residual connection is modelled as
 * {@code Â = normalise_rows(A_fused + I)} (equal to {@code 0.5·A + 0.5·I} when the rows of
 * {@code A_fused} sum to 1). The rollout is {@code J_1 = Â_1}, {@code J_l = Â_l · J_(l-1)};
 * {@code J_L[i][j]} is how much output token {@code i} draws from input token {@code j}. Rows of
 * {@code J_L} sum to 1.
 *
 * <p>Input attention is {@code double[layers][heads][n][n]} (layer 0 nearest the input), or
 * {@code double[layers][n][n]} with one already-fused map per layer; see the package documentation.
 * The full matrix costs O(L·n³); a single row (or the mean of the rows) costs O(L·n²).
 */
public final class AttentionRollout {

    private AttentionRollout() {}

    /** How the heads of one layer are combined into one map before the residual is added. */
    public enum HeadFusion {
        /** Element-wise mean over heads (the paper's choice). */
        MEAN,
        /** Element-wise maximum over heads. */
        MAX,
        /** Element-wise minimum over heads. */
        MIN
    }

    /**
     * Fuses one layer's heads element-wise.
     *
     * @param heads {@code [heads][n][n]} attention maps with a common n
     * @return a new {@code n × n} map; its rows sum to 1 for {@link HeadFusion#MEAN} only
     */
    public static double[][] fuseHeads(double[][][] heads, HeadFusion fusion) {
        int n = Validate.heads("heads", heads);
        requireFusion(fusion);
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            double[] row = heads[0][i].clone();
            for (int h = 1; h < heads.length; h++) {
                double[] other = heads[h][i];
                for (int j = 0; j < n; j++) {
                    row[j] = switch (fusion) {
                        case MEAN -> row[j] + other[j];
                        case MAX -> Math.max(row[j], other[j]);
                        case MIN -> Math.min(row[j], other[j]);
                    };
                }
            }
            if (fusion == HeadFusion.MEAN) {
                for (int j = 0; j < n; j++) {
                    row[j] /= heads.length;
                }
            }
            out[i] = row;
        }
        return out;
    }

    /**
     * The residual-augmented map {@code Â = normalise_rows(A + I)}.
     *
     * @param a an {@code n × n} non-negative map (rows need not sum to 1, e.g. a MAX-fused map)
     * @return a new map whose rows sum to 1
     */
    public static double[][] withResidual(double[][] a) {
        if (a == null || a.length == 0) {
            throw new IllegalArgumentException("a: " + (a == null ? "null" : "0 rows") + " (expected an n x n map)");
        }
        int n = a.length;
        double[][] out = new double[n][n];
        for (int i = 0; i < n; i++) {
            if (a[i] == null || a[i].length != n) {
                throw new IllegalArgumentException("a[" + i + "]: " + (a[i] == null ? "null row" : a[i].length
                        + " columns") + " (expected " + n + ": the map must be square)");
            }
            double sum = 1;
            for (int j = 0; j < n; j++) {
                double p = a[i][j];
                if (!Double.isFinite(p) || p < 0) {
                    throw new IllegalArgumentException("a[" + i + "][" + j + "]: " + p + " (expected a finite value >= 0)");
                }
                sum += p;
            }
            for (int j = 0; j < n; j++) {
                out[i][j] = (a[i][j] + (i == j ? 1 : 0)) / sum;
            }
        }
        return out;
    }

    /** The rollout {@code J_L} (n × n, rows sum to 1) of {@code [layers][heads][n][n]} attention. */
    public static double[][] rollout(double[][][][] attention, HeadFusion fusion) {
        return product(residuals(attention, fusion));
    }

    /** {@link #rollout(double[][][][], HeadFusion)} with {@link HeadFusion#MEAN}. */
    public static double[][] rollout(double[][][][] attention) {
        return rollout(attention, HeadFusion.MEAN);
    }

    /** The rollout of one map per layer ({@code [layers][n][n]}, rows summing to 1, e.g. already fused). */
    public static double[][] rollout(double[][][] layers) {
        return product(residuals(layers));
    }

    /**
     * One row of the rollout, {@code J_L[row]}, in O(L·n²) (a vector times each {@code Â_l}, top layer first).
     *
     * @param row the output token, e.g. 0 for a [CLS] token
     */
    public static double[] rolloutRow(double[][][][] attention, HeadFusion fusion, int row) {
        double[][][] res = residuals(attention, fusion);
        int n = res[0].length;
        if (row < 0 || row >= n) {
            throw new IllegalArgumentException("row: " + row + " (expected 0 <= row < " + n + ")");
        }
        double[] v = new double[n];
        v[row] = 1;
        return leftMultiply(v, res);
    }

    /** The mean of the rows of {@code J_L} (relevance of each input token averaged over outputs), in O(L·n²). */
    public static double[] rolloutMeanRow(double[][][][] attention, HeadFusion fusion) {
        double[][][] res = residuals(attention, fusion);
        int n = res[0].length;
        double[] v = new double[n];
        java.util.Arrays.fill(v, 1.0 / n);
        return leftMultiply(v, res);
    }

    /** Per layer, {@code Â_l = withResidual(fuseHeads(attention[l]))}. */
    static double[][][] residuals(double[][][][] attention, HeadFusion fusion) {
        Validate.layers("attention", attention);
        requireFusion(fusion);
        double[][][] out = new double[attention.length][][];
        for (int l = 0; l < attention.length; l++) {
            out[l] = withResidual(fuseHeads(attention[l], fusion));
        }
        return out;
    }

    static double[][][] residuals(double[][][] layers) {
        Validate.singleHeadLayers("layers", layers);
        double[][][] out = new double[layers.length][][];
        for (int l = 0; l < layers.length; l++) {
            out[l] = withResidual(layers[l]);
        }
        return out;
    }

    private static double[][] product(double[][][] res) {
        double[][] j = copy(res[0]);
        for (int l = 1; l < res.length; l++) {
            j = multiply(res[l], j);
        }
        return j;
    }

    /** {@code v · Â_L · Â_(L-1) · … · Â_1}. */
    private static double[] leftMultiply(double[] v, double[][][] res) {
        int n = v.length;
        for (int l = res.length - 1; l >= 0; l--) {
            double[] next = new double[n];
            for (int i = 0; i < n; i++) {
                double vi = v[i];
                if (vi == 0) {
                    continue;
                }
                double[] row = res[l][i];
                for (int j = 0; j < n; j++) {
                    next[j] += vi * row[j];
                }
            }
            v = next;
        }
        return v;
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        double[][] c = new double[n][n];
        for (int i = 0; i < n; i++) {
            double[] ci = c[i];
            for (int k = 0; k < n; k++) {
                double aik = a[i][k];
                if (aik == 0) {
                    continue;
                }
                double[] bk = b[k];
                for (int j = 0; j < n; j++) {
                    ci[j] += aik * bk[j];
                }
            }
        }
        return c;
    }

    private static double[][] copy(double[][] a) {
        double[][] c = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    private static void requireFusion(HeadFusion fusion) {
        if (fusion == null) {
            throw new IllegalArgumentException("fusion: null (expected MEAN, MAX or MIN)");
        }
    }
}
