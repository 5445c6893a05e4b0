package org.attn4j.explain.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class MaxFlowTest {

    @Test
    void handComputedGraph() {
        // s=0, t=3; 0->1 (3), 0->2 (2), 1->2 (1), 1->3 (2), 2->3 (3).
        // Cut {0} = 3+2 = 5, and 5 units route: 0->1->3 (2), 0->1->2->3 (1), 0->2->3 (2). Max flow 5.
        MaxFlow g = new MaxFlow.Builder(4).addEdge(0, 1, 3).addEdge(0, 2, 2).addEdge(1, 2, 1)
                .addEdge(1, 3, 2).addEdge(2, 3, 3).build();
        assertEquals(5, g.maxFlow(0, 3), 1e-12);
        // Reverse direction: no edge leaves 3, so 0; same node gives 0.
        assertEquals(0, g.maxFlow(3, 0), 0);
        assertEquals(0, g.maxFlow(2, 2), 0);
        // Queries are independent: asking again gives the same answer.
        assertEquals(5, g.maxFlow(0, 3), 1e-12);
        // From 1 to 3: direct 2 + via 2 min(1, 3) = 3 (cut {1}: 1 + 2 = 3).
        assertEquals(3, g.maxFlow(1, 3), 1e-12);
    }

    @Test
    void needsAReverseArc() {
        // The classic case where the first path 0->1->2->3 must be undone partly through the arc 2->1:
        // 0->1 (1), 0->2 (1), 1->2 (1), 1->3 (1), 2->3 (1). Max flow 2 (cut {0}).
        MaxFlow g = new MaxFlow.Builder(4).addEdge(0, 1, 1).addEdge(1, 2, 1).addEdge(0, 2, 1)
                .addEdge(1, 3, 1).addEdge(2, 3, 1).build();
        assertEquals(2, g.maxFlow(0, 3), 1e-12);
        // Levels that mislead the first phase (everything on one path) still end at the max flow.
        assertEquals(2, g.maxFlow(0, 3, new int[] {0, 1, 2, 3}), 1e-12);
    }

    @Test
    void equalsBruteForceMinCutOnRandomGraphs() {
        Random rnd = new Random(42);
        for (int trial = 0; trial < 300; trial++) {
            int n = 2 + rnd.nextInt(6);
            double[][] cap = new double[n][n];
            MaxFlow.Builder b = new MaxFlow.Builder(n);
            for (int u = 0; u < n; u++) {
                for (int v = 0; v < n; v++) {
                    if (u != v && rnd.nextDouble() < 0.5) {
                        double c = rnd.nextInt(4) == 0 ? 0 : rnd.nextDouble() * 3;
                        cap[u][v] += c;
                        b.addEdge(u, v, c);
                    }
                }
            }
            MaxFlow g = b.build();
            int[] randomLevels = new int[n];
            for (int v = 0; v < n; v++) {
                randomLevels[v] = rnd.nextInt(n);
            }
            for (int s = 0; s < n; s++) {
                for (int t = 0; t < n; t++) {
                    if (s == t) {
                        continue;
                    }
                    double cut = minCut(cap, s, t);
                    assertEquals(cut, g.maxFlow(s, t), 1e-9, "trial " + trial + " s=" + s + " t=" + t);
                    assertEquals(cut, g.copy().maxFlow(s, t, randomLevels), 1e-9, "trial " + trial + " with levels");
                }
            }
        }
    }

    /** Minimum over every node set S with s in S and t not in S of the capacity from S to its complement. */
    static double minCut(double[][] cap, int s, int t) {
        int n = cap.length;
        double best = Double.POSITIVE_INFINITY;
        for (int mask = 0; mask < (1 << n); mask++) {
            if ((mask >> s & 1) == 0 || (mask >> t & 1) == 1) {
                continue;
            }
            double c = 0;
            for (int u = 0; u < n; u++) {
                for (int v = 0; v < n; v++) {
                    if ((mask >> u & 1) == 1 && (mask >> v & 1) == 0) {
                        c += cap[u][v];
                    }
                }
            }
            best = Math.min(best, c);
        }
        return best;
    }

    @Test
    void rejectsBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MaxFlow.Builder(2).addEdge(0, 1, -1));
        assertTrue(e.getMessage().startsWith("cap: -1.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MaxFlow.Builder(2).addEdge(0, 2, 1));
        assertTrue(e.getMessage().startsWith("v: 2"), e.getMessage());
        MaxFlow g = new MaxFlow.Builder(2).addEdge(0, 1, 1).build();
        e = assertThrows(IllegalArgumentException.class, () -> g.maxFlow(0, 5));
        assertTrue(e.getMessage().startsWith("sink: 5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> g.maxFlow(0, 1, new int[3]));
        assertTrue(e.getMessage().startsWith("firstLevels: 3 entries (expected 2)"), e.getMessage());
    }
}
