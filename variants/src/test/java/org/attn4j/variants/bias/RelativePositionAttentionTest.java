package org.attn4j.variants.bias;

import static org.attn4j.variants.bias.FlashBiasTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class RelativePositionAttentionTest {

    /**
     * The Shaw-style direct computation in float64: for every pair look up the embedding of the
     * clipped distance j − i and add q_i·E[j − i] to q_i·k_j (O(N²·D)).
     */
    static Tensor direct(Tensor q, Tensor k, Tensor v, float[] table, int m, boolean causal) {
        int b = q.dim(0), h = q.dim(1), n = q.dim(2), d = q.dim(3), hkv = k.dim(1), dv = v.dim(3);
        int rows = causal ? m + 1 : 2 * m + 1;
        float[] out = new float[b * h * n * dv];
        for (int x = 0; x < b; x++) {
            for (int y = 0; y < h; y++) {
                int yk = y / (h / hkv);
                for (int i = 0; i < n; i++) {
                    double[] logit = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        if (causal && j > i) {
                            logit[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        int dist = Math.max(-m, Math.min(causal ? 0 : m, j - i));
                        int r = dist + m;
                        double s = 0;
                        for (int c = 0; c < d; c++) {
                            double qc = q.get(x, y, i, c);
                            s += qc * k.get(x, yk, j, c) + qc * table[(y * rows + r) * d + c];
                        }
                        logit[j] = s / Math.sqrt(d);
                        max = Math.max(max, logit[j]);
                    }
                    double z = 0;
                    double[] acc = new double[dv];
                    for (int j = 0; j < n; j++) {
                        if (logit[j] == Double.NEGATIVE_INFINITY) continue;
                        double p = Math.exp(logit[j] - max);
                        z += p;
                        for (int c = 0; c < dv; c++) acc[c] += p * v.get(x, yk, j, c);
                    }
                    for (int c = 0; c < dv; c++) out[((x * h + y) * n + i) * dv + c] = (float) (acc[c] / z);
                }
            }
        }
        return Tensor.of(out, b, h, n, dv);
    }

    private static float[] randomTable(SplittableRandom r, int h, int rows, int d) {
        float[] t = new float[h * rows * d];
        for (int i = 0; i < t.length; i++) t[i] = (float) VariantAssert.gaussian(r);
        return t;
    }

    @Test
    void skewedLogitsEqualDirectLookupCausalAndBidirectional() {
        SplittableRandom r = new SplittableRandom(21);
        // {B, H, Hkv, N, D, Dv, M, block}
        int[][] cases = {{2, 3, 3, 17, 5, 3, 16, 4}, {1, 2, 2, 1, 4, 4, 1, 8}, {1, 4, 2, 33, 7, 6, 40, 5}, {2, 2, 1, 24, 16, 16, 23, 24},
                {1, 1, 1, 31, 3, 2, 30, 1}};
        for (int[] c : cases) {
            for (boolean causal : new boolean[] {true, false}) {
                int b = c[0], h = c[1], hkv = c[2], n = c[3], d = c[4], dv = c[5], m = c[6], block = c[7];
                Tensor q = VariantAssert.random(r, b, h, n, d), k = VariantAssert.random(r, b, hkv, n, d), v = VariantAssert.random(r, b, hkv, n, dv);
                RelativePositionParams p = new RelativePositionParams(causal, m, block);
                float[] table = randomTable(r, h, p.tableRows(m), d);
                VariantResult res = new RelativePositionAttention(p, table, h, d).run(q, k, v, 2);
                VariantAssert.assertClose(direct(q, k, v, table, m, causal), res.output(), 2e-5, 1e-4,
                        "relative-position causal=" + causal + " N=" + n + " block=" + block);
            }
        }
    }

    @Test
    void clippingSharesTheEdgeEmbeddings() {
        SplittableRandom r = new SplittableRandom(22);
        int b = 1, h = 2, n = 29, d = 6;
        Tensor q = VariantAssert.random(r, b, h, n, d), k = VariantAssert.random(r, b, h, n, d), v = VariantAssert.random(r, b, h, n, d);
        for (boolean causal : new boolean[] {true, false}) {
            for (int m : new int[] {1, 3, 10}) {
                RelativePositionParams p = new RelativePositionParams(causal, m, 7);
                float[] table = randomTable(r, h, p.tableRows(m), d);
                VariantAssert.assertClose(direct(q, k, v, table, m, causal), new RelativePositionAttention(p, table, h, d).forward(q, k, v),
                        2e-5, 1e-4, "clip M=" + m + " causal=" + causal);
            }
        }
    }

    @Test
    void seededTablesMatchDirectAndRegistryDefaults() {
        SplittableRandom r = new SplittableRandom(23);
        int n = 64, d = 16, h = 2;
        Tensor q = VariantAssert.random(r, 1, h, n, d), k = VariantAssert.random(r, 1, h, n, d), v = VariantAssert.random(r, 1, h, n, d);
        RelativePositionAttention seeded = (RelativePositionAttention) VariantRegistry.create("relative-position", Settings.empty(), 5);
        float[] table = seeded.embeddings(h, d, n);
        assertEquals(h * n * d, table.length, "causal default: N distances per head");
        VariantAssert.assertClose(direct(q, k, v, table, n - 1, true), seeded.forward(q, k, v), 2e-5, 1e-4, "registry default");
        RelativePositionAttention bi = (RelativePositionAttention) VariantRegistry.create("relative-position",
                Settings.of("causal=false", "max-distance=9", "block=10"), 5);
        VariantAssert.assertClose(direct(q, k, v, bi.embeddings(h, d, n), 9, false), bi.forward(q, k, v), 2e-5, 1e-4, "registry bidirectional clip 9");
        // The causal table is the first M + 1 rows of the bidirectional one (same seed).
        float[] causal9 = ((RelativePositionAttention) VariantRegistry.create("relative-position", Settings.of("max-distance=9"), 5)).embeddings(h, d, n);
        float[] bi9 = bi.embeddings(h, d, n);
        for (int y = 0; y < h; y++) {
            float[] a = java.util.Arrays.copyOfRange(causal9, y * 10 * d, (y + 1) * 10 * d);
            float[] e = java.util.Arrays.copyOfRange(bi9, y * 19 * d, y * 19 * d + 10 * d);
            assertArrayEquals(e, a);
        }
    }

    @Test
    void seededTablesAreCachedPerShapeWithoutKeyCollisions() {
        // The cache key packed (H, D, M) into one long with 20-bit fields: past N = 2^20 (M = N − 1 ≥ 2^20)
        // (D=2, M=2^20) and (D=3, M=0) shared a key, and the second shape got the first shape's table.
        RelativePositionAttention rp = new RelativePositionAttention(new RelativePositionParams(true, 0, 64), 3);
        assertEquals(2 * ((1 << 20) + 1), rp.embeddings(1, 2, (1 << 20) + 1).length, "D=2, M=2^20: M+1 rows of 2");
        assertEquals(3, rp.embeddings(1, 3, 1).length, "D=3, N=1 (M=0): one row of 3");
    }

    @Test
    void resultDoesNotDependOnThreadsOrBlock() {
        SplittableRandom r = new SplittableRandom(24);
        Tensor q = VariantAssert.random(r, 2, 2, 40, 8), k = VariantAssert.random(r, 2, 2, 40, 8), v = VariantAssert.random(r, 2, 2, 40, 8);
        float[] a = new RelativePositionAttention(new RelativePositionParams(true, 0, 256), 3).run(q, k, v, 1).output().toArray();
        float[] b = new RelativePositionAttention(new RelativePositionParams(true, 0, 256), 3).run(q, k, v, 3).output().toArray();
        float[] c = new RelativePositionAttention(new RelativePositionParams(true, 0, 3), 3).run(q, k, v, 2).output().toArray();
        assertArrayEquals(a, b, 0f);
        assertArrayEquals(a, c, 2e-5f);
    }

    @Test
    void badParametersAreRejectedByName() {
        assertMessage(() -> new RelativePositionParams(true, -1, 4), "maxDistance");
        assertMessage(() -> new RelativePositionParams(true, 3, 0), "block");
        assertMessage(() -> new RelativePositionAttention(new RelativePositionParams(true, 0, 4), new float[4], 1, 4), "maxDistance");
        assertMessage(() -> new RelativePositionAttention(new RelativePositionParams(true, 2, 4), new float[5], 1, 4), "table");
        assertMessage(() -> VariantRegistry.create("relative-position", Settings.of("max-distance=0"), 1), "max-distance");
        SplittableRandom r = new SplittableRandom(25);
        Tensor q = VariantAssert.random(r, 1, 2, 5, 4);
        assertMessage(() -> new RelativePositionAttention(new RelativePositionParams(true, 2, 4), new float[3 * 3 * 4], 3, 4).forward(q, q, q), "H=");
        // A clipping distance whose table [H, 2M+1, D] cannot be one array (2M+1 overflowed int: NegativeArraySizeException).
        assertMessage(() -> new RelativePositionParams(false, Integer.MAX_VALUE, 4), "maxDistance");
        assertMessage(() -> new RelativePositionAttention(new RelativePositionParams(true, 1 << 30, 4), 1).forward(q, q, q), "maxDistance");
        assertMessage(() -> VariantRegistry.create("relative-position", Settings.of("max-distance=2147483647"), 1).forward(q, q, q), "max");
    }
}
