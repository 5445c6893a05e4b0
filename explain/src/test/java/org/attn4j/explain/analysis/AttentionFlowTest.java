package org.attn4j.explain.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class AttentionFlowTest {

    private static final double TOL = 1e-9;

    // The notes' example: A_1 = the permutation 0->1->2->0, A_2 = uniform 1/3.
    static double[][][] example() {
        double t = 1.0 / 3;
        return new double[][][] {
            {{0, 1, 0}, {0, 0, 1}, {1, 0, 0}},
            {{t, t, t}, {t, t, t}, {t, t, t}},
        };
    }

    @Test
    void rawFlowOfTheNotesExample() {
        // Â_1 = [[.5,.5,0],[0,.5,.5],[.5,0,.5]], Â_2 = 2/3 on the diagonal, 1/6 elsewhere.
        // From output 0 (through layer-1 token k, capacity Â_2[0][k], then Â_1[k][v]):
        //   v=0: k=0 min(2/3,.5)=.5, k=1 Â_1[1][0]=0, k=2 min(1/6,.5)=1/6 -> 2/3
        //   v=1: k=0 min(2/3,.5)=.5, k=1 min(1/6,.5)=1/6, k=2 0 -> 2/3
        //   v=2: k=0 0, k=1 1/6, k=2 1/6 -> 1/3
        // (the paths share no edge, so these sums are the max flows)
        double[][] raw = AttentionFlow.rawFlow(example());
        assertArrayEquals(new double[] {2.0 / 3, 2.0 / 3, 1.0 / 3}, raw[0], TOL);
        // normalised by 5/3: [0.4, 0.4, 0.2]
        double[][] flow = AttentionFlow.flow(example());
        assertArrayEquals(new double[] {0.4, 0.4, 0.2}, flow[0], TOL);
    }

    @Test
    void flowDiffersFromRollout() {
        double[] rollout = AttentionRollout.rollout(example())[0]; // [5/12, 5/12, 1/6], by hand
        double[] flow = AttentionFlow.flow(example())[0]; // [0.4, 0.4, 0.2], by hand
        assertArrayEquals(new double[] {5.0 / 12, 5.0 / 12, 1.0 / 6}, rollout, TOL);
        assertFalse(Math.abs(rollout[0] - flow[0]) < 1e-3, "rollout and flow should differ");
        assertFalse(Math.abs(rollout[2] - flow[2]) < 1e-3, "rollout and flow should differ");
    }

    @Test
    void flowRowMatchesFullMatrixAndMultiHeadInput() {
        Random rnd = new Random(5);
        double[][][][] attn = RandomAttention.attention(rnd, 3, 2, 5);
        double[][] full = AttentionFlow.flow(attn, AttentionRollout.HeadFusion.MEAN);
        for (int u = 0; u < 5; u++) {
            assertArrayEquals(full[u], AttentionFlow.flowRow(attn, AttentionRollout.HeadFusion.MEAN, u), TOL);
        }
    }

    @Test
    void singleLayerFlowIsTheResidualMap() {
        // One layer: the only paths are single edges, so raw flow = Â itself (rows already sum to 1).
        double[][][] one = {{{0.2, 0.8}, {0.6, 0.4}}};
        // Â = [[(0.2+1)/2, 0.8/2], [0.6/2, (0.4+1)/2]] = [[0.6, 0.4], [0.3, 0.7]]
        double[][] flow = AttentionFlow.flow(one);
        assertArrayEquals(new double[] {0.6, 0.4}, flow[0], TOL);
        assertArrayEquals(new double[] {0.3, 0.7}, flow[1], TOL);
    }

    @Test
    void rowsSumToOneAndLieInUnitInterval() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 5; trial++) {
            int n = 2 + rnd.nextInt(6);
            double[][][][] attn = RandomAttention.attention(rnd, 1 + rnd.nextInt(4), 1 + rnd.nextInt(3), n);
            for (AttentionRollout.HeadFusion f : AttentionRollout.HeadFusion.values()) {
                for (double[] row : AttentionFlow.flow(attn, f)) {
                    assertEquals(1.0, Arrays.stream(row).sum(), 1e-9);
                    for (double x : row) {
                        assertTrue(x >= 0 && x <= 1 + 1e-12, "flow entry " + x);
                    }
                }
            }
        }
    }

    /** The documented size completes (the speed itself is measured by the benchmarks, not here). */
    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES) // a hang guard only, far above any loaded host
    void flow128TokensSixLayersCompletes() {
        Random rnd = new Random(128);
        // 6 layers, 1 head, 128 tokens of softmax-like random attention.
        double[][][][] attn = RandomAttention.attention(rnd, 6, 1, 128);
        double[][] flow = AttentionFlow.flow(attn);
        assertEquals(128, flow.length);
        for (double[] row : flow) {
            assertEquals(1.0, Arrays.stream(row).sum(), 1e-9);
        }
    }

    /**
     * On random layers, every value equals the brute-force minimum cut (max-flow = min-cut) of the
     * layered graph built here from the definition: an edge from token i after layer l to token j
     * after layer l−1 with capacity (A_l[i][j] + [i = j]) / 2.
     */
    @Test
    void valuesOnRandomLayersEqualTheBruteForceMinimumCut() {
        Random rnd = new Random(17);
        for (int[] shape : new int[][] {{1, 4}, {2, 4}, {3, 3}, {2, 3}, {3, 3}}) {
            int layers = shape[0], n = shape[1];
            double[][][] a = new double[layers][][];
            for (int l = 0; l < layers; l++) a[l] = RandomAttention.map(rnd, n);
            a[layers - 1][0] = new double[n];
            a[layers - 1][0][n - 1] = 1; // a one-hot row: capacities of exactly 0 and 1 too
            double[][] cap = new double[(layers + 1) * n][(layers + 1) * n];
            for (int l = 1; l <= layers; l++) {
                for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) cap[l * n + i][(l - 1) * n + j] = (a[l - 1][i][j] + (i == j ? 1 : 0)) / 2;
            }
            double[][] raw = AttentionFlow.rawFlow(a), flow = AttentionFlow.flow(a);
            for (int u = 0; u < n; u++) {
                double rowSum = 0;
                for (int v = 0; v < n; v++) {
                    double cut = MaxFlowTest.minCut(cap, layers * n + u, v);
                    assertEquals(cut, raw[u][v], 1e-9, layers + " layers, n=" + n + ": raw flow " + u + " -> " + v);
                    rowSum += cut;
                }
                for (int v = 0; v < n; v++) assertEquals(MaxFlowTest.minCut(cap, layers * n + u, v) / rowSum, flow[u][v], 1e-9, "normalised " + u + " -> " + v);
            }
        }
    }

    @Test
    void rejectsBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttentionFlow.flow(new double[][][] {{{1, 0}, {0, 1}}, {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}}));
        assertTrue(e.getMessage().startsWith("layers[1]"), e.getMessage());
        assertTrue(e.getMessage().contains("3") && e.getMessage().contains("expected 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> AttentionFlow.flowRow(RandomAttention.attention(new Random(1), 1, 1, 3),
                        AttentionRollout.HeadFusion.MEAN, 3));
        assertTrue(e.getMessage().startsWith("output: 3"), e.getMessage());
    }
}
