package org.attn4j.explain.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AttentionStatsTest {

    private static final double TOL = 1e-12;
    private static final double T = 1.0 / 3;
    // Row 0 one-hot, row 1 half/half on tokens 0 and 1, row 2 uniform.
    private static final double[][] A = {{1, 0, 0}, {.5, .5, 0}, {T, T, T}};

    @Test
    void entropy() {
        assertEquals(0, AttentionStats.entropy(new double[] {1, 0, 0}), 0); // 0·log 0 = 0
        assertEquals(Math.log(2), AttentionStats.entropy(new double[] {.5, .5}), TOL);
        assertEquals(Math.log(4), AttentionStats.entropy(new double[] {.25, .25, .25, .25}), TOL);
        // Rows: 0, ln 2, ln 3.
        assertEquals((Math.log(2) + Math.log(3)) / 3, AttentionStats.meanEntropy(A), TOL);
        // Only the first two rows are real tokens: (0 + ln 2) / 2.
        assertEquals(Math.log(2) / 2, AttentionStats.meanEntropy(A, 2), TOL);
        double[][] perHead = AttentionStats.meanEntropy(new double[][][][] {{A, A}}, 2);
        assertEquals(Math.log(2) / 2, perHead[0][1], TOL);
    }

    @Test
    void meanDistance() {
        // Row 0: 0. Row 1: .5·|1-0| = .5. Row 2: 1/3·2 + 1/3·1 + 1/3·0 = 1. Mean 1.5 / 3 = .5.
        assertEquals(0.5, AttentionStats.meanDistance(A), TOL);
        assertEquals(0.25, AttentionStats.meanDistance(A, 2), TOL);
        assertEquals(0.5, AttentionStats.meanDistance(new double[][][][] {{A}}, 3)[0][0], TOL);
    }

    @Test
    void windowedDistance() {
        // Window radius 1: row 0 keys {0,1}: mass 1, distance 0 -> 0; row 1 keys {0,1,2}: .5 / 1 = .5;
        // row 2 keys {1,2}: mass 2/3, distance 1/3 -> .5. Mean (0 + .5 + .5) / 3 = 1/3.
        assertEquals(1.0 / 3, AttentionStats.windowedMeanDistance(A, 3, 1), TOL);
        // Mass inside the window: (1 + 1 + 2/3) / 3 = 8/9.
        assertEquals(8.0 / 9, AttentionStats.windowMass(A, 3, 1), TOL);
        // Radius 0: only the diagonal, distance 0.
        assertEquals(0, AttentionStats.windowedMeanDistance(A, 3, 0), TOL);
        // A previous-token head with a self-attending first row, radius 0: rows 1 and 2 have no mass in
        // the window and are skipped; row 0 gives 0. Radius 1: rows 0, 1, 2 give 0, 1, 1 -> 2/3.
        double[][] prev = {{1, 0, 0}, {1, 0, 0}, {0, 1, 0}};
        assertEquals(0, AttentionStats.windowedMeanDistance(prev, 3, 0), TOL);
        assertEquals(2.0 / 3, AttentionStats.windowedMeanDistance(prev, 3, 1), TOL);
        // Radius >= n - 1 is the plain mean distance.
        assertEquals(AttentionStats.meanDistance(A), AttentionStats.windowedMeanDistance(A, 3, 2), TOL);
    }

    @Test
    void rejectsBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AttentionStats.meanEntropy(A, 4));
        assertTrue(e.getMessage().startsWith("length: 4 (expected 1 <= length <= 3)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> AttentionStats.windowMass(A, 3, -1));
        assertTrue(e.getMessage().startsWith("window: -1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> AttentionStats.meanDistance(new double[][] {{1, 0}}));
        assertTrue(e.getMessage().startsWith("attention[0]: 2 columns (expected 1"), e.getMessage());
    }
}
