package org.attn4j.explain.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.attn4j.explain.analysis.AttentionRollout.HeadFusion;
import org.junit.jupiter.api.Test;

class AttentionRolloutTest {

    private static final double TOL = 1e-12;

    @Test
    void residualOfThePermutation() {
        // (A + I) / 2 for A = permutation 0->1, 1->2, 2->0.
        double[][] hat = AttentionRollout.withResidual(new double[][] {{0, 1, 0}, {0, 0, 1}, {1, 0, 0}});
        assertArrayEquals(new double[] {.5, .5, 0}, hat[0], TOL);
        assertArrayEquals(new double[] {0, .5, .5}, hat[1], TOL);
        assertArrayEquals(new double[] {.5, 0, .5}, hat[2], TOL);
    }

    @Test
    void notesExampleFullMatrix() {
        // J_2 = Â_2 · Â_1 with Â_2 = 2/3 diagonal, 1/6 elsewhere:
        // row 0 = 2/3[.5,.5,0] + 1/6[0,.5,.5] + 1/6[.5,0,.5] = [5/12, 5/12, 1/6]
        // row 1 = 1/6[.5,.5,0] + 2/3[0,.5,.5] + 1/6[.5,0,.5] = [1/6, 5/12, 5/12]
        // row 2 = 1/6[.5,.5,0] + 1/6[0,.5,.5] + 2/3[.5,0,.5] = [5/12, 1/6, 5/12]
        double[][] j = AttentionRollout.rollout(AttentionFlowTest.example());
        assertArrayEquals(new double[] {5.0 / 12, 5.0 / 12, 1.0 / 6}, j[0], TOL);
        assertArrayEquals(new double[] {1.0 / 6, 5.0 / 12, 5.0 / 12}, j[1], TOL);
        assertArrayEquals(new double[] {5.0 / 12, 1.0 / 6, 5.0 / 12}, j[2], TOL);
    }

    @Test
    void singleRowsInLinearTime() {
        double[][][][] attn = asHeads(AttentionFlowTest.example());
        assertArrayEquals(new double[] {5.0 / 12, 5.0 / 12, 1.0 / 6},
                AttentionRollout.rolloutRow(attn, HeadFusion.MEAN, 0), TOL);
        // Mean of the three rows above: every column sums to 5/12 + 1/6 + 5/12 = 1, so 1/3 each.
        assertArrayEquals(new double[] {1.0 / 3, 1.0 / 3, 1.0 / 3},
                AttentionRollout.rolloutMeanRow(attn, HeadFusion.MEAN), TOL);
    }

    @Test
    void headFusion() {
        double[][][] heads = {{{1, 0}, {0, 1}}, {{0, 1}, {1, 0}}};
        assertArrayEquals(new double[] {.5, .5}, AttentionRollout.fuseHeads(heads, HeadFusion.MEAN)[0], TOL);
        assertArrayEquals(new double[] {1, 1}, AttentionRollout.fuseHeads(heads, HeadFusion.MAX)[1], TOL);
        assertArrayEquals(new double[] {0, 0}, AttentionRollout.fuseHeads(heads, HeadFusion.MIN)[0], TOL);
        double[][][][] oneLayer = {heads};
        // MEAN: Â = ([[.5,.5],[.5,.5]] + I) / 2 = [[.75,.25],[.25,.75]]
        assertArrayEquals(new double[] {.75, .25}, AttentionRollout.rollout(oneLayer, HeadFusion.MEAN)[0], TOL);
        // MAX: Â = [[2,1],[1,2]] / 3
        assertArrayEquals(new double[] {2.0 / 3, 1.0 / 3}, AttentionRollout.rollout(oneLayer, HeadFusion.MAX)[0], TOL);
        // MIN: Â = (0 + I) / 1 = I
        assertArrayEquals(new double[] {0, 1}, AttentionRollout.rollout(oneLayer, HeadFusion.MIN)[1], TOL);
    }

    @Test
    void rowsSumToOneAndRowsMatchTheMatrix() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 20; trial++) {
            int n = 1 + rnd.nextInt(8);
            double[][][][] attn = RandomAttention.attention(rnd, 1 + rnd.nextInt(5), 1 + rnd.nextInt(4), n);
            for (HeadFusion f : HeadFusion.values()) {
                double[][] j = AttentionRollout.rollout(attn, f);
                double[] mean = new double[n];
                for (int i = 0; i < n; i++) {
                    assertEquals(1.0, Arrays.stream(j[i]).sum(), 1e-9);
                    assertArrayEquals(j[i], AttentionRollout.rolloutRow(attn, f, i), 1e-12);
                    for (int k = 0; k < n; k++) {
                        mean[k] += j[i][k] / n;
                    }
                }
                assertArrayEquals(mean, AttentionRollout.rolloutMeanRow(attn, f), 1e-12);
            }
        }
    }

    @Test
    void rejectsBadInput() {
        double[][][] nonSquare = {{{1, 0, 0}, {0, 1, 0}}};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttentionRollout.rollout(nonSquare));
        assertTrue(e.getMessage().startsWith("layers[0][0]: 3 columns (expected 2"), e.getMessage());

        double[][][][] badSum = {{{{0.5, 0.4}, {0, 1}}}};
        e = assertThrows(IllegalArgumentException.class, () -> AttentionRollout.rollout(badSum, HeadFusion.MEAN));
        assertTrue(e.getMessage().startsWith("attention[0][0][0]: row sums to 0.9"), e.getMessage());
        assertTrue(e.getMessage().contains("expected 1 within 1.0E-6"), e.getMessage());

        double[][][][] mismatched = {{{{1}}}, {{{1, 0}, {0, 1}}}};
        e = assertThrows(IllegalArgumentException.class, () -> AttentionRollout.rollout(mismatched));
        assertTrue(e.getMessage().startsWith("attention[1]: 2 tokens (expected 1"), e.getMessage());

        double[][][][] heads = {{{{1, 0}, {0, 1}}, {{1}}}};
        e = assertThrows(IllegalArgumentException.class, () -> AttentionRollout.rollout(heads));
        assertTrue(e.getMessage().startsWith("attention[0][1]: 1 tokens (expected 2"), e.getMessage());

        double[][][][] ok = {{{{1, 0}, {0, 1}}}};
        e = assertThrows(IllegalArgumentException.class, () -> AttentionRollout.rolloutRow(ok, HeadFusion.MEAN, 2));
        assertTrue(e.getMessage().startsWith("row: 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AttentionRollout.rollout(ok, null));
        assertTrue(e.getMessage().startsWith("fusion: null"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AttentionRollout.rollout(new double[0][][][]));
        assertTrue(e.getMessage().startsWith("attention: 0 layers"), e.getMessage());
    }

    private static double[][][][] asHeads(double[][][] layers) {
        double[][][][] out = new double[layers.length][][][];
        for (int l = 0; l < layers.length; l++) {
            out[l] = new double[][][] {layers[l]};
        }
        return out;
    }
}
