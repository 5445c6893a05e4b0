package org.attn4j.variants.contentsparse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantAssert;
import org.junit.jupiter.api.Test;

class RoutingAttentionTest {

    /** Cosine scores [N][C] of the rows of head (b, h) of x against head h's centroids, in float64. */
    static double[][] scores(Tensor x, int b, int h, float[] mu, int hq, int c) {
        int n = x.dim(2), d = x.dim(3);
        double[][] s = new double[n][c];
        for (int i = 0; i < n; i++) {
            double norm = 0;
            for (int t = 0; t < d; t++) norm += (double) x.get(b, h, i, t) * x.get(b, h, i, t);
            norm = Math.sqrt(norm);
            for (int cl = 0; cl < c; cl++) {
                double mn = 0, dot = 0;
                for (int t = 0; t < d; t++) {
                    double m = mu[(hq * c + cl) * d + t];
                    mn += m * m;
                    dot += x.get(b, h, i, t) * m;
                }
                s[i][cl] = dot / norm / Math.sqrt(mn);
            }
        }
        return s;
    }

    static int argmax(double[] s, boolean[] ambiguous) {
        int best = 0;
        for (int c = 1; c < s.length; c++) if (s[c] > s[best]) best = c;
        for (int c = 0; c < s.length; c++) if (c != best && Math.abs(s[c] - s[best]) < 1e-5) ambiguous[0] = true;
        return best;
    }

    /** Members of each cluster: argmax (window 0) or the window best per centroid. */
    static boolean[][] members(double[][] s, int window, boolean[] ambiguous) {
        int n = s.length, c = s[0].length;
        boolean[][] in = new boolean[c][n];
        if (window == 0) {
            for (int i = 0; i < n; i++) in[argmax(s[i], ambiguous)][i] = true;
            return in;
        }
        for (int cl = 0; cl < c; cl++) {
            final int col = cl;
            Integer[] idx = new Integer[n];
            for (int i = 0; i < n; i++) idx[i] = i;
            Arrays.sort(idx, (x, y) -> s[x][col] != s[y][col] ? Double.compare(s[y][col], s[x][col]) : Integer.compare(x, y));
            for (int t = 0; t < window; t++) in[cl][idx[t]] = true;
            if (window < n && Math.abs(s[idx[window - 1]][col] - s[idx[window]][col]) < 1e-5) ambiguous[0] = true;
        }
        return in;
    }

    /** The expected output: per cluster the reference with the cluster's mask, averaged over the clusters holding each query. */
    static Tensor expected(Tensor q, Tensor k, Tensor v, float[] mu, int c, RoutingParams p, int window, boolean[] ambiguous) {
        int bs = q.dim(0), heads = q.dim(1), n = q.dim(2), dv = v.dim(3), group = heads / k.dim(1);
        float[] out = new float[bs * heads * n * dv];
        int[] times = new int[bs * heads * n];
        for (int cl = 0; cl < c; cl++) {
            boolean[] m = new boolean[bs * heads * n * n];
            boolean[] rowIn = new boolean[bs * heads * n];
            for (int b = 0; b < bs; b++) {
                for (int h = 0; h < heads; h++) {
                    boolean[][] qm = members(scores(q, b, h, mu, h, c), window, ambiguous);
                    boolean[][] km = members(scores(k, b, h / group, mu, h, c), window, ambiguous);
                    for (int i = 0; i < n; i++) {
                        if (!qm[cl][i]) continue;
                        rowIn[(b * heads + h) * n + i] = true;
                        for (int j = 0; j < n; j++) m[((b * heads + h) * n + i) * n + j] = km[cl][j] && (!p.causal() || j <= i);
                    }
                }
            }
            float[] o = VariantAssert.reference(q, k, v, BoolTensor.of(m, bs, heads, n, n), null, null).toArray();
            for (int r = 0; r < rowIn.length; r++) {
                if (!rowIn[r]) continue;
                times[r]++;
                for (int x = 0; x < dv; x++) out[r * dv + x] += o[r * dv + x];
            }
        }
        for (int r = 0; r < times.length; r++) if (times[r] > 1) for (int x = 0; x < dv; x++) out[r * dv + x] /= times[r];
        return Tensor.of(out, bs, heads, n, dv);
    }

    @Test
    void equalsTheReferenceWithTheClusterMasks() {
        SplittableRandom r = new SplittableRandom(41);
        // {B, H, Hkv, N, D, clusters, causal, balanced, window}
        int[][] cfg = {{1, 2, 2, 64, 16, 8, 1, 0, 0}, {2, 3, 3, 71, 5, 4, 0, 0, 0}, {1, 4, 2, 150, 9, 6, 1, 0, 0},
                {1, 2, 1, 45, 8, 3, 1, 1, 0}, {2, 2, 2, 90, 12, 5, 0, 1, 0}, {1, 1, 1, 1, 3, 2, 1, 0, 0},
                {1, 2, 2, 300, 16, 3, 1, 0, 0}, {1, 2, 2, 77, 6, 4, 1, 1, 30}};
        for (int[] c : cfg) {
            RoutingParams p = new RoutingParams(c[5], c[6] == 1, c[7] == 1, c[8], 0.9);
            for (int attempt = 0; ; attempt++) {
                Tensor q = VariantAssert.random(r, c[0], c[1], c[3], c[4]);
                Tensor k = VariantAssert.random(r, c[0], c[2], c[3], c[4]);
                Tensor v = VariantAssert.random(r, c[0], c[2], c[3], c[4] + 2);
                float[] mu = new float[c[1] * c[5] * c[4]];
                for (int i = 0; i < mu.length; i++) mu[i] = (float) VariantAssert.gaussian(r);
                int window = c[7] == 0 ? 0 : c[8] > 0 ? c[8] : (c[3] + c[5] - 1) / c[5];
                boolean[] amb = {false};
                Tensor want = expected(q, k, v, mu, c[5], p, window, amb);
                if (amb[0]) {
                    assertTrue(attempt < 20, "kept drawing near-ties");
                    continue;
                }
                RoutingAttention ra = new RoutingAttention(p, mu, c[1], c[5], c[4]);
                String what = "routing " + Arrays.toString(c);
                VariantAssert.assertClose(want, ra.run(q, k, v, 1).output(), 2e-5, 1e-4, what + " 1 thread");
                VariantAssert.assertClose(want, ra.run(q, k, v, 2).output(), 2e-5, 1e-4, what + " 2 threads");
                break;
            }
        }
    }

    @Test
    void oneClusterIsFullAttention() {
        SplittableRandom r = new SplittableRandom(6);
        int n = 83;
        Tensor q = VariantAssert.random(r, 2, 2, n, 7), k = VariantAssert.random(r, 2, 2, n, 7), v = VariantAssert.random(r, 2, 2, n, 5);
        VariantAssert.assertClose(MobaAttentionTest.causal(q, k, v), new RoutingAttention(new RoutingParams(1, true, false, 0, 0.9), 3).run(q, k, v, 2).output(),
                2e-5, 1e-4, "causal");
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, null, null),
                new RoutingAttention(new RoutingParams(1, false, false, 0, 0.9), 3).run(q, k, v, 2).output(), 2e-5, 1e-4, "bidirectional");
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, null, null),
                new RoutingAttention(new RoutingParams(1, false, true, 0, 0.9), 3).run(q, k, v, 2).output(), 2e-5, 1e-4, "balanced");
    }

    @Test
    void theMovingAverageUpdateMatchesAHandComputation() {
        // H = 1, C = 2, D = 2, N = 2. Centroids e1 and e2.
        // Queries (3, 1) → e1 and (1, 2) → e2; keys (2, 0) → e1 and (0, -1) → e1 (score 0 vs −1).
        // Cluster 0: unit members (3,1)/√10, (1,0), (0,−1); cluster 1: (1,2)/√5.
        Tensor q = Tensor.of(new float[] {3, 1, 1, 2}, 1, 1, 2, 2);
        Tensor k = Tensor.of(new float[] {2, 0, 0, -1}, 1, 1, 2, 2);
        RoutingAttention ra = new RoutingAttention(new RoutingParams(2, true, false, 0, 0.75), new float[] {1, 0, 0, 1}, 1, 2, 2);
        double s10 = Math.sqrt(10), s5 = Math.sqrt(5);
        double[] sum0 = {3 / s10 + 1, 1 / s10 - 1};
        double n0 = Math.hypot(sum0[0], sum0[1]);
        double[] c0 = {0.75 + 0.25 * sum0[0] / n0, 0.25 * sum0[1] / n0};
        double[] c1 = {0.25 * (1 / s5), 0.75 + 0.25 * (2 / s5)};
        double l0 = Math.hypot(c0[0], c0[1]), l1 = Math.hypot(c1[0], c1[1]);
        float[] want = {(float) (c0[0] / l0), (float) (c0[1] / l0), (float) (c1[0] / l1), (float) (c1[1] / l1)};
        float[] got = ra.updatedCentroids(q, k, k);
        assertArrayEquals(want, got, 1e-6f);
        // The forward is pure: the instance keeps its centroids; updated() carries the new ones.
        assertArrayEquals(new float[] {1, 0, 0, 1}, ra.centroids(1, 2, 2));
        ra.run(q, k, k, 1);
        assertArrayEquals(new float[] {1, 0, 0, 1}, ra.centroids(1, 2, 2));
        assertArrayEquals(want, ra.updated(q, k, k).centroids(1, 2, 2), 1e-6f);
        // A centroid with no member keeps its place (decay applies to members' clusters only).
        RoutingAttention three = new RoutingAttention(new RoutingParams(3, true, false, 0, 0.75), new float[] {1, 0, 0, 1, -1, 1}, 1, 3, 2);
        float[] g3 = three.updatedCentroids(q, k, k);
        assertEquals((float) (-1 / Math.sqrt(2)), g3[4], 1e-6f);
        assertEquals((float) (1 / Math.sqrt(2)), g3[5], 1e-6f);
        assertArrayEquals(want, Arrays.copyOf(g3, 4), 1e-6f);
    }

    @Test
    void paramsRejectBadValues() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingParams(-1, true, false, 0, 0.9)).getMessage().contains("clusters"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingParams(4, true, false, 8, 0.9)).getMessage().contains("window"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingParams(4, true, true, -2, 0.9)).getMessage().contains("window"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingParams(4, true, false, 0, 1.0)).getMessage().contains("decay"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingAttention(new RoutingParams(4, true, false, 0, 0.9), new float[3], 1, 2, 2))
                .getMessage().contains("centroids"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingAttention(new RoutingParams(4, true, false, 0, 0.9), new float[4], 1, 2, 2))
                .getMessage().contains("clusters"));
        // More centroids than one array holds (H·C·D and N·C overflowed int: NegativeArraySizeException).
        Tensor q = Tensor.zeros(1, 2, 16, 8);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingAttention(new RoutingParams(Integer.MAX_VALUE, true, false, 0, 0.9), 1)
                .run(q, q, q, 1)).getMessage().startsWith("clusters:"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new RoutingAttention(new RoutingParams(0, true, false, 0, 0.9), new float[0], 1 << 16, 1 << 16, 1))
                .getMessage().contains("centroids"));
    }
}
