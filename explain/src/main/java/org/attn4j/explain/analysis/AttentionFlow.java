package org.attn4j.explain.analysis;

import java.util.stream.IntStream;

/**
 * Attention flow (Abnar and Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020).
 *
 * <p>The attention graph is a layered DAG with {@code (L+1)·n} nodes: node {@code (l, i)} is token
 * {@code i} after layer {@code l} (layer 0 the input). For each layer {@code l = 1..L} there is an edge
 * from {@code (l, i)} to {@code (l-1, j)} with capacity {@code Â_l[i][j]}, where {@code Â_l} is the
 * head-fused, residual-augmented map of {@link AttentionRollout#withResidual}. The raw flow
 * {@code F[u][v]} is the max-flow value from output node {@code (L, u)} to input node {@code (0, v)};
 * each row is then divided by its sum, so rows of the result sum to 1 and lie in [0, 1].
 *
 * <p>Each pair is one max-flow ({@link MaxFlow}, Dinic's algorithm); the n² problems of a full matrix run
 * in parallel over output rows on the common fork–join pool. The causal-model normalisation by receptive
 * field is not applied.
 */
public final class AttentionFlow {

    private AttentionFlow() {}

    /** Normalised flow (n × n) of {@code [layers][heads][n][n]} attention, heads fused by {@code fusion}. */
    public static double[][] flow(double[][][][] attention, AttentionRollout.HeadFusion fusion) {
        return normaliseRows(rawFlowOf(AttentionRollout.residuals(attention, fusion)));
    }

    /** {@link #flow(double[][][][], AttentionRollout.HeadFusion)} with mean head fusion. */
    public static double[][] flow(double[][][][] attention) {
        return flow(attention, AttentionRollout.HeadFusion.MEAN);
    }

    /** Normalised flow of one map per layer ({@code [layers][n][n]}, rows summing to 1). */
    public static double[][] flow(double[][][] layers) {
        return normaliseRows(rawFlowOf(AttentionRollout.residuals(layers)));
    }

    /** Raw (unnormalised) max-flow values {@code F[u][v]} of one map per layer. */
    public static double[][] rawFlow(double[][][] layers) {
        return rawFlowOf(AttentionRollout.residuals(layers));
    }

    /** One normalised row {@code flow[output]}: n max-flows instead of n². */
    public static double[] flowRow(double[][][][] attention, AttentionRollout.HeadFusion fusion, int output) {
        double[][][] res = AttentionRollout.residuals(attention, fusion);
        int n = res[0].length;
        if (output < 0 || output >= n) {
            throw new IllegalArgumentException("output: " + output + " (expected 0 <= output < " + n + ")");
        }
        double[] row = rawRow(graph(res), levels(res.length, n), res.length, n, output);
        normalise(row);
        return row;
    }

    /** The layered graph: node {@code l·n + i} is token i at layer l. */
    static MaxFlow graph(double[][][] residuals) {
        int layers = residuals.length;
        int n = residuals[0].length;
        MaxFlow.Builder b = new MaxFlow.Builder((layers + 1) * n);
        for (int l = 1; l <= layers; l++) {
            double[][] a = residuals[l - 1];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    if (a[i][j] > MaxFlow.EPSILON) {
                        b.addEdge(l * n + i, (l - 1) * n + j, a[i][j]);
                    }
                }
            }
        }
        return b.build();
    }

    private static double[][] rawFlowOf(double[][][] residuals) {
        int layers = residuals.length;
        int n = residuals[0].length;
        MaxFlow g = graph(residuals);
        int[] levels = levels(layers, n);
        double[][] out = new double[n][];
        IntStream.range(0, n).parallel().forEach(u -> out[u] = rawRow(g.copy(), levels, layers, n, u));
        return out;
    }

    private static double[] rawRow(MaxFlow g, int[] levels, int layers, int n, int u) {
        double[] row = new double[n];
        for (int v = 0; v < n; v++) {
            row[v] = g.maxFlow(layers * n + u, v, levels);
        }
        return row;
    }

    /** Distance from the top layer: the BFS levels of Dinic's first phase on the layered DAG. */
    private static int[] levels(int layers, int n) {
        int[] levels = new int[(layers + 1) * n];
        for (int l = 0; l <= layers; l++) {
            java.util.Arrays.fill(levels, l * n, (l + 1) * n, layers - l);
        }
        return levels;
    }

    private static double[][] normaliseRows(double[][] raw) {
        for (double[] row : raw) {
            normalise(row);
        }
        return raw;
    }

    private static void normalise(double[] row) {
        double sum = 0;
        for (double x : row) {
            sum += x;
        }
        // sum > 0 always: the residual keeps a path u -> u -> ... -> u of capacity >= 1/2 per edge.
        for (int j = 0; j < row.length; j++) {
            row[j] /= sum;
        }
    }
}
