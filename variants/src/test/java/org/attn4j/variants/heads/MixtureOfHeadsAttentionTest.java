package org.attn4j.variants.heads;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class MixtureOfHeadsAttentionTest {

    /** The gates of token x (length H·D) as the MoH paper and its code define them, in float64. */
    static double[] gates(double[] x, int heads, int s, int topK, float[] wr, float[] ws, float[] w0) {
        int r = heads - s;
        double[] g = new double[heads];
        double a1 = 1, a2 = 1;
        if (s > 0 && r > 0) {
            double l0 = dot(w0, 0, x), l1 = dot(w0, 1, x);
            a1 = 2 * Math.exp(l0) / (Math.exp(l0) + Math.exp(l1));
            a2 = 2 * Math.exp(l1) / (Math.exp(l0) + Math.exp(l1));
        }
        if (s == 1) g[0] = a1;
        if (s > 1) {
            double[] p = softmax(ws, s, x);
            for (int i = 0; i < s; i++) g[i] = a1 * s * p[i];
        }
        if (r > 0) {
            double[] p = softmax(wr, r, x);
            Integer[] order = new Integer[r];
            for (int i = 0; i < r; i++) order[i] = i;
            java.util.Arrays.sort(order, (u, w) -> p[u] != p[w] ? Double.compare(p[w], p[u]) : Integer.compare(u, w));
            double sum = 0;
            for (int c = 0; c < topK; c++) sum += p[order[c]];
            for (int c = 0; c < topK; c++) g[s + order[c]] = a2 * topK * p[order[c]] / sum;
        }
        return g;
    }

    private static double dot(float[] w, int row, double[] x) {
        double acc = 0;
        for (int i = 0; i < x.length; i++) acc += w[row * x.length + i] * x[i];
        return acc;
    }

    private static double[] softmax(float[] w, int rows, double[] x) {
        double[] p = new double[rows];
        double sum = 0;
        for (int i = 0; i < rows; i++) sum += p[i] = Math.exp(dot(w, i, x));
        for (int i = 0; i < rows; i++) p[i] /= sum;
        return p;
    }

    static Tensor direct(Tensor q, Tensor k, Tensor v, int s, int topK, float[] wr, float[] ws, float[] w0, boolean causal) {
        int bn = q.dim(0), hn = q.dim(1), n = q.dim(2), d = q.dim(3);
        double[][][][] out = new double[bn][hn][][];
        for (int b = 0; b < bn; b++) {
            double[][] g = new double[n][];
            for (int t = 0; t < n; t++) {
                double[] x = new double[hn * d];
                for (int h = 0; h < hn; h++) for (int c = 0; c < d; c++) x[h * d + c] = q.get(b, h, t, c);
                g[t] = gates(x, hn, s, topK, wr, ws, w0);
            }
            for (int h = 0; h < hn; h++) {
                double[][] a = Direct.softmax(Direct.scaled(Direct.abT(Direct.head(q, b, h), Direct.head(k, b, h)), 1 / Math.sqrt(d)), causal);
                double[][] o = Direct.ab(a, Direct.head(v, b, h));
                for (int t = 0; t < n; t++) for (int c = 0; c < o[t].length; c++) o[t][c] *= g[t][h];
                out[b][h] = o;
            }
        }
        return Direct.tensor(out);
    }

    @Test
    void matchesTheDirectRoutingAndAttention() {
        SplittableRandom r = new SplittableRandom(41);
        // {B, H, N, D, Dv, shared, topK}
        int[][] cases = {{2, 4, 23, 13, 7, 1, 2}, {2, 4, 19, 13, 13, 2, 1}, {1, 3, 71, 8, 5, 0, 2}, {2, 3, 17, 13, 13, 3, 0}, {1, 5, 1, 4, 4, 2, 3}};
        for (int[] c : cases) {
            int b = c[0], h = c[1], n = c[2], d = c[3], dv = c[4], s = c[5], k = c[6], hd = h * d, rt = h - s;
            Tensor q = Direct.random(r, b, h, n, d), kk = Direct.random(r, b, h, n, d), v = Direct.random(r, b, h, n, dv);
            float[] wr = rt > 0 ? Direct.randomMatrix(r, rt * hd, 0.5, false, 0) : null;
            float[] ws = s > 1 ? Direct.randomMatrix(r, s * hd, 0.5, false, 0) : null;
            float[] w0 = s > 0 && rt > 0 ? Direct.randomMatrix(r, 2 * hd, 0.5, false, 0) : null;
            for (boolean causal : new boolean[] {false, true}) {
                MixtureOfHeadsAttention moh = new MixtureOfHeadsAttention(new MixtureOfHeadsParams(s, k, causal, 0), wr, ws, w0);
                Tensor got = moh.run(q, kk, v, 2).output();
                VariantAssert.assertClose(direct(q, kk, v, s, k, wr, ws, w0, causal), got, 3e-5, 2e-4, "moh " + java.util.Arrays.toString(c) + " causal=" + causal);
            }
        }
    }

    @Test
    void allSharedWithUnitGatesIsStandardMultiHeadAttention() {
        SplittableRandom r = new SplittableRandom(42);
        Tensor q = Direct.random(r, 2, 3, 37, 13), k = Direct.random(r, 2, 3, 37, 13), v = Direct.random(r, 2, 3, 37, 13);
        for (boolean causal : new boolean[] {false, true}) {
            // S = H = 3: gates = 3·softmax(0) = 1 for every head and token.
            Tensor got = new MixtureOfHeadsAttention(new MixtureOfHeadsParams(3, 0, causal, 0), null, new float[3 * 3 * 13], null).run(q, k, v, 2).output();
            VariantAssert.assertClose(Direct.mha(q, k, v, causal), got, 1e-5, 1e-4, "moh all shared, unit gates, causal=" + causal);
        }
    }

    @Test
    void eachTokenUsesOnlyItsTopKRoutedHeadsAndWorkFalls() {
        SplittableRandom r = new SplittableRandom(43);
        int h = 6, n = 50, d = 16;
        Tensor q = Direct.random(r, 1, h, n, d), k = Direct.random(r, 1, h, n, d), v = Direct.random(r, 1, h, n, d);
        // Defaults for H = 6: 3 shared heads, top-2 of the 3 routed heads.
        VariantResult res = VariantRegistry.create("moh", Settings.empty(), 8).run(q, k, v, 2);
        Tensor out = res.output();
        int used = 0;
        for (int t = 0; t < n; t++) {
            int active = 0;
            for (int hh = 0; hh < h; hh++) {
                boolean nonZero = false;
                for (int c = 0; c < d; c++) nonZero |= out.get(0, hh, t, c) != 0f;
                if (hh < 3) assertTrue(nonZero, "shared head " + hh + " must be on for token " + t);
                else if (nonZero) active++;
            }
            assertEquals(2, active, "token " + t + " routed heads");
            used += 3 + active;
        }
        long attention = 2L * used * n * (d + d);
        assertTrue(res.flops() >= attention && res.flops() < VariantResult.denseFlops(1, h, n, n, d, d), res.flops() + " flops for " + used + " (token, head) pairs");
        // More routed heads, more work.
        long all = VariantRegistry.create("moh", Settings.of("top-k=3"), 8).run(q, k, v, 1).flops();
        assertTrue(all > res.flops());
    }

    @Test
    void causalRowsNeverSeeLaterTokens() {
        SplittableRandom r = new SplittableRandom(44);
        Tensor q = Direct.random(r, 2, 4, 39, 13), k = Direct.random(r, 2, 4, 39, 13), v = Direct.random(r, 2, 4, 39, 13);
        Direct.assertNoFutureLeak(new MixtureOfHeadsAttention(new MixtureOfHeadsParams(1, 2, true, 0), 6), q, k, v, 20, r);
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MixtureOfHeadsParams(-2, 1, false, 0));
        assertTrue(e.getMessage().startsWith("shared"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MixtureOfHeadsParams(1, -3, false, 0));
        assertTrue(e.getMessage().startsWith("top-k"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MixtureOfHeadsParams(1, 1, false, -1));
        assertTrue(e.getMessage().startsWith("scale"), e.getMessage());
        SplittableRandom r = new SplittableRandom(45);
        Tensor q = Direct.random(r, 1, 4, 5, 4);
        e = assertThrows(IllegalArgumentException.class, () -> new MixtureOfHeadsAttention(new MixtureOfHeadsParams(5, 0, false, 0), 1).run(q, q, q, 1));
        assertTrue(e.getMessage().startsWith("shared"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MixtureOfHeadsAttention(new MixtureOfHeadsParams(1, 4, false, 0), 1).run(q, q, q, 1));
        assertTrue(e.getMessage().startsWith("top-k"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MixtureOfHeadsAttention(new MixtureOfHeadsParams(2, 0, false, 0), 1).run(q, q, q, 1));
        assertTrue(e.getMessage().startsWith("top-k"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MixtureOfHeadsAttention(new MixtureOfHeadsParams(1, 1, false, 0), new float[3], null, new float[32]).run(q, q, q, 1));
        assertTrue(e.getMessage().startsWith("wRouted"), e.getMessage());
    }
}
