package org.attn4j.explain.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HeadDetectorsTest {

    private static final double TOL = 1e-12;

    /** A perfect previous-token head on n tokens whose first row attends to itself. */
    private static double[][] previousTokenHead(int n) {
        double[][] a = new double[n][n];
        a[0][0] = 1;
        for (int i = 1; i < n; i++) {
            a[i][i - 1] = 1;
        }
        return a;
    }

    @Test
    void perfectPreviousTokenHeadScoresSixSevenths() {
        // Σ A = 7 (one per row); Σ A ⊙ D = 6 (rows 1..6 hit D[i][i-1]); row 0's self-attention misses.
        double[][] a = previousTokenHead(7);
        assertEquals(6.0 / 7, HeadDetectors.score(a, HeadDetectors.previousToken(7)), TOL);
        // Excluding column 0 drops A[0][0] and A[1][0]: 5 / 5.
        assertEquals(1.0, HeadDetectors.score(a, HeadDetectors.previousToken(7), true, false), TOL);
        // Excluding the diagonal drops A[0][0]: 6 / 6.
        assertEquals(1.0, HeadDetectors.score(a, HeadDetectors.previousToken(7), false, true), TOL);
        // The same head scores 0 as a next-token head.
        assertEquals(0.0, HeadDetectors.score(a, HeadDetectors.nextToken(7)), TOL);
    }

    @Test
    void patterns() {
        boolean[][] prev = HeadDetectors.previousToken(3);
        assertArrayEquals(new boolean[] {false, false, false}, prev[0]);
        assertArrayEquals(new boolean[] {true, false, false}, prev[1]);
        assertArrayEquals(new boolean[] {false, true, false}, prev[2]);
        boolean[][] next = HeadDetectors.nextToken(3);
        assertArrayEquals(new boolean[] {false, true, false}, next[0]);
        assertArrayEquals(new boolean[] {false, false, false}, next[2]);
        boolean[][] off2 = HeadDetectors.offset(4, 2); // D[0][2], D[1][3]
        assertTrue(off2[0][2] && off2[1][3]);
        assertEquals(2, count(off2));

        int[] tokens = {5, 7, 5, 7};
        boolean[][] dup = HeadDetectors.duplicateToken(tokens); // D[2][0], D[3][1]
        assertTrue(dup[2][0] && dup[3][1]);
        assertEquals(2, count(dup));
        boolean[][] ind = HeadDetectors.induction(tokens); // shifted right: D[2][1], D[3][2]
        assertTrue(ind[2][1] && ind[3][2]);
        assertEquals(2, count(ind));

        boolean[][] sink = HeadDetectors.sink(4, 0, 3); // columns 0 and 3 in every row
        assertEquals(8, count(sink));
        assertTrue(sink[2][0] && sink[2][3] && !sink[2][1]);
    }

    @Test
    void inductionHeadScores() {
        // Tokens A B A B; an ideal induction head: row 2 -> column 1, row 3 -> column 2; rows 0 and 1
        // (nothing to copy yet) rest on column 0. Σ A = 4, hits 2 -> 0.5; excluding column 0 -> 2 / 2.
        int[] tokens = {5, 7, 5, 7};
        double[][] a = {{1, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}};
        assertEquals(0.5, HeadDetectors.score(a, HeadDetectors.induction(tokens)), TOL);
        assertEquals(1.0, HeadDetectors.score(a, HeadDetectors.induction(tokens), true, false), TOL);
        // As a duplicate-token head: hits need D[2][0] or D[3][1]: none -> 0.
        assertEquals(0.0, HeadDetectors.score(a, HeadDetectors.duplicateToken(tokens)), TOL);
    }

    @Test
    void uniformAttention() {
        double q = 0.25;
        double[][] a = {{q, q, q, q}, {q, q, q, q}, {q, q, q, q}, {q, q, q, q}};
        // Sink columns {0, 3}: half of every row.
        assertEquals(0.5, HeadDetectors.score(a, HeadDetectors.sink(4, 0, 3)), TOL);
        // Next token: 3 hits of 1/4 out of a total of 4 -> 3/16.
        assertEquals(3.0 / 16, HeadDetectors.score(a, HeadDetectors.nextToken(4)), TOL);
        // Excluding column 0 and the diagonal leaves 4·4 - 4 - 3 = 9 cells of 1/4 (total 9/4);
        // next-token hits are (0,1), (1,2), (2,3), none excluded: 3/4 / (9/4) = 1/3.
        assertEquals(1.0 / 3, HeadDetectors.score(a, HeadDetectors.nextToken(4), true, true), TOL);
        // Nothing left: 1 token, everything excluded -> 0.
        assertEquals(0.0, HeadDetectors.score(new double[][] {{1}}, HeadDetectors.nextToken(1), true, true), 0);
    }

    @Test
    void scoresLieInUnitIntervalAndPerHeadScoresMatch() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 50; trial++) {
            int n = 1 + rnd.nextInt(8);
            double[][][][] attn = RandomAttention.attention(rnd, 2, 3, n);
            int[] tokens = new int[n];
            for (int i = 0; i < n; i++) {
                tokens[i] = rnd.nextInt(3);
            }
            boolean ex0 = rnd.nextBoolean();
            boolean exDiag = rnd.nextBoolean();
            for (boolean[][] d : new boolean[][][] {HeadDetectors.induction(tokens),
                    HeadDetectors.duplicateToken(tokens), HeadDetectors.offset(n, rnd.nextInt(5) - 2)}) {
                double[][] s = HeadDetectors.scores(attn, d, ex0, exDiag);
                for (int l = 0; l < 2; l++) {
                    for (int h = 0; h < 3; h++) {
                        assertTrue(s[l][h] >= 0 && s[l][h] <= 1, "score " + s[l][h]);
                        assertEquals(HeadDetectors.score(attn[l][h], d, ex0, exDiag), s[l][h], 0);
                    }
                }
            }
        }
    }

    @Test
    void rejectsBadInput() {
        double[][] a = previousTokenHead(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HeadDetectors.score(a, HeadDetectors.previousToken(4)));
        assertTrue(e.getMessage().startsWith("pattern: 4 rows (expected 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HeadDetectors.sink(3, 3));
        assertTrue(e.getMessage().startsWith("positions: 3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> HeadDetectors.duplicateToken(new int[0]));
        assertTrue(e.getMessage().startsWith("tokens: empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> HeadDetectors.score(new double[][] {{1, 0}, {0.5, 0.6}}, HeadDetectors.nextToken(2)));
        assertTrue(e.getMessage().startsWith("attention[1]: row sums to 1.1"), e.getMessage());
    }

    private static int count(boolean[][] d) {
        int c = 0;
        for (boolean[] row : d) {
            for (boolean b : row) {
                c += b ? 1 : 0;
            }
        }
        return c;
    }
}
