package org.attn4j.explain.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RankCollapseTest {

    private static final double[][] H = {{1, 2}, {3, 4}, {5, 9}};

    @Test
    void notesExample() {
        // Column means [3, 5]; res = [[-2,-3],[0,-1],[2,4]].
        double[][] res = RankCollapse.residual(H);
        assertArrayEquals(new double[] {-2, -3}, res[0], 1e-12);
        assertArrayEquals(new double[] {0, -1}, res[1], 1e-12);
        assertArrayEquals(new double[] {2, 4}, res[2], 1e-12);
        // ‖res‖: max column abs-sum max(4, 8) = 8, max row abs-sum max(5, 1, 6) = 6 -> √48.
        assertEquals(Math.sqrt(48), RankCollapse.norm(res), 1e-12);
        // ‖H‖: max(9, 15) = 15, max(3, 7, 14) = 14 -> √210.
        assertEquals(Math.sqrt(210), RankCollapse.norm(H), 1e-12);
        // √(48/210) = 0.478091...
        assertEquals(0.47809, RankCollapse.ratio(H), 1e-5);
    }

    @Test
    void identicalRowsCollapseToZero() {
        assertEquals(0, RankCollapse.ratio(new double[][] {{1, -2, 3}, {1, -2, 3}}), 0);
        assertEquals(0, RankCollapse.ratio(new double[][] {{0, 0}, {0, 0}}), 0); // H = 0 -> 0
        double[] perLayer = RankCollapse.ratios(new double[][][] {H, {{7, 7}, {7, 7}, {7, 7}}});
        assertEquals(0.47809, perLayer[0], 1e-5);
        assertEquals(0, perLayer[1], 0);
    }

    @Test
    void rejectsBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RankCollapse.ratios(new double[][][] {H, {{1, 2}, {3, 4}}}));
        assertTrue(e.getMessage().startsWith("hidden[1]: 2 x 2 (expected 3 x 2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> RankCollapse.ratio(new double[][] {{1, 2}, {3}}));
        assertTrue(e.getMessage().startsWith("h[1]: 1 columns (expected 2"), e.getMessage());
    }
}
