package org.attn4j.variants.recurrent;

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

class MambaImplicitAttentionTest {

    /** Δ, B, C of head (b, h) in float64 straight from the definitions. */
    private static double[][][] selective(MambaImplicitAttention.Weights w, Tensor v, int b, int h) {
        int n = v.dim(2), ch = w.channels(), st = w.state();
        double[][] delta = new double[n][ch], bm = new double[n][st], cm = new double[n][st];
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < ch; c++) {
                double z = w.bDelta()[c];
                for (int i = 0; i < ch; i++) z += v.get(b, h, t, i) * (double) w.wDelta()[i * ch + c];
                delta[t][c] = Math.log(1 + Math.exp(z));
            }
            for (int s = 0; s < st; s++) {
                double bb = 0, cc = 0;
                for (int i = 0; i < ch; i++) {
                    bb += v.get(b, h, t, i) * (double) w.wB()[i * st + s];
                    cc += v.get(b, h, t, i) * (double) w.wC()[i * st + s];
                }
                bm[t][s] = bb;
                cm[t][s] = cc;
            }
        }
        return new double[][][] {delta, bm, cm};
    }

    /** The S6 recurrence h_t = exp(Δ_t A) h_{t−1} + Δ_t B_t x_t, y_t = C_t·h_t in float64. */
    static double[][] recurrence(MambaImplicitAttention.Weights w, Tensor v, int b, int h) {
        double[][][] sel = selective(w, v, b, h);
        int n = v.dim(2), ch = w.channels(), st = w.state();
        double[][] y = new double[n][ch];
        double[][] state = new double[ch][st];
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < ch; c++) {
                for (int s = 0; s < st; s++) {
                    state[c][s] = Math.exp(sel[0][t][c] * w.a()[c * st + s]) * state[c][s] + sel[0][t][c] * sel[1][t][s] * v.get(b, h, t, c);
                    y[t][c] += sel[2][t][s] * state[c][s];
                }
            }
        }
        return y;
    }

    /** α_c[t, j] by the closed form Σ_s C_t[s]·exp(A[c,s]·Σ_{k=j+1..t} Δ_k[c])·Δ_j[c]·B_j[s]. */
    static double[][][] closedForm(MambaImplicitAttention.Weights w, Tensor v, int b, int h) {
        double[][][] sel = selective(w, v, b, h);
        int n = v.dim(2), ch = w.channels(), st = w.state();
        double[][][] alpha = new double[ch][n][n];
        for (int c = 0; c < ch; c++) for (int t = 0; t < n; t++) for (int j = 0; j <= t; j++) {
            double sumDelta = 0;
            for (int k = j + 1; k <= t; k++) sumDelta += sel[0][k][c];
            double acc = 0;
            for (int s = 0; s < st; s++) acc += sel[2][t][s] * Math.exp(w.a()[c * st + s] * sumDelta) * sel[0][j][c] * sel[1][j][s];
            alpha[c][t][j] = acc;
        }
        return alpha;
    }

    @Test
    void recurrenceMatchesDirectFloat64() {
        SplittableRandom r = new SplittableRandom(41);
        java.util.List<int[]> shapes = new java.util.ArrayList<>(java.util.List.of(
                new int[] {2, 3, 17, 5, 4}, new int[] {1, 1, 1, 3, 2}, new int[] {1, 2, 40, 9, 16}, new int[] {3, 1, 8, 1, 1}));
        for (int i = 0; i < 3; i++) shapes.add(new int[] {1 + r.nextInt(3), 1 + r.nextInt(3), 1 + r.nextInt(30), 1 + r.nextInt(10), 1 + r.nextInt(8)});
        for (int[] sh : shapes) {
            Tensor q = VariantAssert.random(r, sh[0], sh[1], sh[2], 4), v = VariantAssert.random(r, sh[0], sh[1], sh[2], sh[3]);
            MambaImplicitAttention m = new MambaImplicitAttention(new SelectiveSsmParams(sh[4]), 7);
            VariantResult res = m.run(q, q, v, 2);
            MambaImplicitAttention.Weights w = m.weights(sh[3]);
            float[] expect = new float[sh[0] * sh[1] * sh[2] * sh[3]];
            for (int b = 0; b < sh[0]; b++) for (int h = 0; h < sh[1]; h++) {
                double[][] y = recurrence(w, v, b, h);
                for (int t = 0; t < sh[2]; t++) for (int c = 0; c < sh[3]; c++) expect[((b * sh[1] + h) * sh[2] + t) * sh[3] + c] = (float) y[t][c];
            }
            VariantAssert.assertClose(Tensor.of(expect, sh[0], sh[1], sh[2], sh[3]), res.output(), 1e-5, 1e-4, java.util.Arrays.toString(sh));
            assertTrue(res.flops() > 0);
        }
    }

    @Test
    void implicitAttentionIsCausalMatchesClosedFormAndReproducesTheOutput() {
        SplittableRandom r = new SplittableRandom(42);
        int b = 2, heads = 2, n = 23, ch = 6, st = 5;
        Tensor v = VariantAssert.random(r, b, heads, n, ch);
        // Larger steps than Mamba's init so the decay is visible over 23 tokens.
        MambaImplicitAttention.Weights base = MambaImplicitAttention.Weights.seeded(3, ch, st);
        float[] bd = base.bDelta().clone();
        java.util.Arrays.fill(bd, 0.3f);
        MambaImplicitAttention.Weights w = new MambaImplicitAttention.Weights(ch, st, base.wDelta(), bd, base.a(), base.wB(), base.wC());
        MambaImplicitAttention m = new MambaImplicitAttention(new SelectiveSsmParams(st), w);
        float[] y = m.forward(v, v, v).toArray();
        for (int bi = 0; bi < b; bi++) for (int h = 0; h < heads; h++) {
            Tensor alpha = m.implicitAttention(v, bi, h);
            assertEquals(java.util.List.of(ch, n, n), java.util.List.of(alpha.dim(0), alpha.dim(1), alpha.dim(2)));
            double[][][] closed = closedForm(w, v, bi, h);
            double maxAlpha = 0;
            for (int c = 0; c < ch; c++) for (int t = 0; t < n; t++) for (int j = 0; j < n; j++) {
                float a = alpha.get(c, t, j);
                if (j > t) assertEquals(0f, a, "α above the diagonal at c=" + c + " t=" + t + " j=" + j);
                else assertEquals(closed[c][t][j], a, 1e-5 + 1e-5 * Math.abs(closed[c][t][j]), "α[" + c + "," + t + "," + j + "]");
                maxAlpha = Math.max(maxAlpha, Math.abs(a));
            }
            assertTrue(maxAlpha > 1e-3, "α is trivially small");
            // y = α·x per channel equals the recurrence's output.
            for (int c = 0; c < ch; c++) for (int t = 0; t < n; t++) {
                double acc = 0;
                for (int j = 0; j < n; j++) acc += (double) alpha.get(c, t, j) * v.get(bi, h, j, c);
                assertEquals(acc, y[((bi * heads + h) * n + t) * ch + c], 2e-5 + 1e-4 * Math.abs(acc), "y from α at c=" + c + " t=" + t);
            }
        }
    }

    @Test
    void handCheckedOneChannelThreeTokens() {
        // Δ = softplus(0) = ln 2, A = −1 so Ā = 1/2, B_t = C_t = x_t, x = (1, 2, 3):
        // α[t, j] = x_t·(1/2)^{t−j}·ln 2·x_j.
        MambaImplicitAttention.Weights w = new MambaImplicitAttention.Weights(1, 1, new float[] {0}, new float[] {0}, new float[] {-1}, new float[] {1}, new float[] {1});
        MambaImplicitAttention m = new MambaImplicitAttention(new SelectiveSsmParams(1), w);
        Tensor x = Tensor.of(new float[] {1, 2, 3}, 1, 1, 3, 1);
        double ln2 = Math.log(2);
        double[][] expect = {{ln2, 0, 0}, {ln2, 4 * ln2, 0}, {0.75 * ln2, 3 * ln2, 9 * ln2}};
        Tensor alpha = m.implicitAttention(x, 0, 0);
        for (int t = 0; t < 3; t++) for (int j = 0; j < 3; j++) assertEquals(expect[t][j], alpha.get(0, t, j), 1e-6, "α[" + t + "," + j + "]");
        float[] y = m.forward(x, x, x).toArray();
        assertEquals(ln2, y[0], 1e-6);
        assertEquals(9 * ln2, y[1], 1e-5);
        assertEquals(33.75 * ln2, y[2], 1e-5);
    }

    @Test
    void outputIgnoresFutureTokens() {
        SplittableRandom r = new SplittableRandom(43);
        Tensor v = VariantAssert.random(r, 1, 2, 15, 4);
        MambaImplicitAttention m = new MambaImplicitAttention(new SelectiveSsmParams(3), 5);
        float[] a = m.forward(v, v, v).toArray();
        float[] vd = v.toArray();
        for (int h = 0; h < 2; h++) for (int t = 10; t < 15; t++) for (int c = 0; c < 4; c++) vd[(h * 15 + t) * 4 + c] += 5;
        Tensor v2 = Tensor.of(vd, 1, 2, 15, 4);
        float[] b = m.forward(v2, v2, v2).toArray();
        for (int h = 0; h < 2; h++) for (int t = 0; t < 15; t++) for (int c = 0; c < 4; c++) {
            int i = (h * 15 + t) * 4 + c;
            if (t < 10) assertEquals(a[i], b[i], 0f, "token " + t + " saw the future");
        }
        assertTrue(Math.abs(a[(15 + 12) * 4] - b[(15 + 12) * 4]) > 1e-6, "perturbed token unchanged");
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SelectiveSsmParams(0));
        assertTrue(e.getMessage().contains("state") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("mamba-implicit", Settings.of("state=-3"), 1));
        assertTrue(e.getMessage().contains("state"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MambaImplicitAttention.Weights(1, 1, new float[] {0}, new float[] {0}, new float[] {0.5f}, new float[] {1}, new float[] {1}));
        assertTrue(e.getMessage().contains("a:") && e.getMessage().contains("negative"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MambaImplicitAttention.Weights(2, 1, new float[3], new float[2], new float[] {-1, -1}, new float[2], new float[2]));
        assertTrue(e.getMessage().contains("wDelta"), e.getMessage());
    }
}
