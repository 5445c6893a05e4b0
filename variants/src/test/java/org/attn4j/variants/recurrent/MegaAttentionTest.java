package org.attn4j.variants.recurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Init;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class MegaAttentionTest {

    /** The damped EMA by its recurrence in float64: y[t][c]. */
    static double[][] emaRecurrence(MegaAttention.Weights w, double[][] x) {
        int n = x.length, d = w.d(), h = w.ndim();
        double[][] y = new double[n][d];
        for (int c = 0; c < d; c++) {
            double[] state = new double[h];
            for (int t = 0; t < n; t++) {
                double acc = 0;
                for (int i = 0; i < h; i++) {
                    int p = c * h + i;
                    double a = w.alpha()[p], dl = w.delta()[p];
                    state[i] = a * w.beta()[p] * x[t][c] + (1 - a * dl) * state[i];
                    acc += w.eta()[p] * state[i];
                }
                y[t][c] = acc / Math.sqrt(h);
            }
        }
        return y;
    }

    private static double silu(double x) { return x / (1 + Math.exp(-x)); }

    private static double sigmoid(double x) { return 1 / (1 + Math.exp(-x)); }

    /** erf by its Taylor series (|x| < 3) or asymptotic expansion, independent of the code under test. */
    private static double erf(double x) {
        double a = Math.abs(x);
        double r;
        if (a < 3) {
            double term = a, sum = a;
            for (int k = 1; k < 80; k++) {
                term *= -a * a / k;
                sum += term / (2 * k + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double x2 = a * a;
            r = 1 - Math.exp(-x2) / (a * Math.sqrt(Math.PI)) * (1 - 1 / (2 * x2) + 3 / (4 * x2 * x2) - 15 / (8 * x2 * x2 * x2));
        }
        return x < 0 ? -r : r;
    }

    private static double[][] merged(Tensor q, int b) {
        int heads = q.dim(1), n = q.dim(2), dh = q.dim(3);
        double[][] x = new double[n][heads * dh];
        for (int t = 0; t < n; t++) for (int h = 0; h < heads; h++) for (int c = 0; c < dh; c++) x[t][h * dh + c] = q.get(b, h, t, c);
        return x;
    }

    private static double[][] linear(double[][] x, float[] w, float[] bias, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++) for (int j = 0; j < out; j++) {
            double acc = bias[j];
            for (int i = 0; i < in; i++) acc += x[t][i] * w[i * out + j];
            y[t][j] = acc;
        }
        return y;
    }

    /** The whole Mega layer, written out in float64 from the paper's equations. */
    static Tensor naive(Tensor q, MegaAttention.Weights w, MegaParams p) {
        int batch = q.dim(0), heads = q.dim(1), n = q.dim(2), dh = q.dim(3), d = w.d(), z = w.z(), vd = w.vdim(), m = 2 * d + z + vd;
        int chunk = p.chunk() > 0 ? p.chunk() : n, pos = w.positions();
        float[] out = new float[batch * heads * n * dh];
        for (int b = 0; b < batch; b++) {
            double[][] x = merged(q, b), y = emaRecurrence(w, x);
            double[][] mx = new double[n][d];
            for (int t = 0; t < n; t++) for (int c = 0; c < d; c++) mx[t][c] = silu(y[t][c] + w.omega()[c] * x[t][c]);
            double[][] v = linear(x, w.wV(), w.bV(), vd);
            for (double[] row : v) for (int c = 0; c < vd; c++) row[c] = silu(row[c]);
            double[][] base = linear(mx, w.wMx(), w.bMx(), m);
            double[][] qq = new double[n][z], kk = new double[n][z];
            for (int t = 0; t < n; t++) for (int c = 0; c < z; c++) {
                double zz = silu(base[t][d + c]);
                qq[t][c] = zz * w.gamma()[c] + w.offset()[c];
                kk[t][c] = zz * w.gamma()[z + c] + w.offset()[z + c];
            }
            double[][] g = new double[n][vd];
            for (int i = 0; i < n; i++) {
                int c0 = i / chunk * chunk, c1 = Math.min(n, c0 + chunk);
                double[] weight = new double[c1 - c0];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = c0; j < c1; j++) {
                    if (p.causal() && j > i) continue;
                    double dot = 0;
                    for (int c = 0; c < z; c++) dot += qq[i][c] * kk[j][c];
                    double bias = w.relpos()[(j - c0) - (i - c0) + pos - 1];
                    double s = switch (p.attention()) {
                        case SOFTMAX -> dot / Math.sqrt(z) + bias;
                        case LAPLACE, RELU2 -> dot / (p.causal() ? i - c0 + 1 : c1 - c0) + bias;
                    };
                    weight[j - c0] = switch (p.attention()) {
                        case SOFTMAX -> s;
                        case LAPLACE -> 0.5 * (1 + erf((s - Math.sqrt(0.5)) / (Math.sqrt(1 / (4 * Math.PI)) * Math.sqrt(2))));
                        case RELU2 -> Math.max(s, 0) * Math.max(s, 0);
                    };
                    max = Math.max(max, s);
                }
                if (p.attention() == MegaParams.Activation.SOFTMAX) {
                    double sum = 0;
                    for (int j = c0; j < c1; j++) {
                        weight[j - c0] = p.causal() && j > i ? 0 : Math.exp(weight[j - c0] - max);
                        sum += weight[j - c0];
                    }
                    for (int j = c0; j < c1; j++) weight[j - c0] /= sum;
                }
                for (int j = c0; j < c1; j++) for (int c = 0; c < vd; c++) g[i][c] += weight[j - c0] * v[j][c];
                for (int c = 0; c < vd; c++) g[i][c] *= silu(base[i][d + z + c]);
            }
            double[][] hh = linear(g, w.wH(), w.bH(), d);
            for (int t = 0; t < n; t++) for (int c = 0; c < d; c++) {
                double u = sigmoid(base[t][c]);
                double hv = silu(hh[t][c] + base[t][d + z + vd + c]);
                out[((b * heads + c / dh) * n + t) * dh + c % dh] = (float) (x[t][c] + u * (hv - x[t][c]));
            }
        }
        return Tensor.of(out, batch, heads, n, dh);
    }

    /** Seeded weights with larger projections, non-zero biases and an O(1) relative bias. */
    static MegaAttention.Weights testWeights(long seed, int d, int z, int vd, int ndim, int positions) {
        MegaAttention.Weights s = MegaAttention.Weights.seeded(seed, d, z, vd, ndim, positions, 0.5, 0.3);
        return new MegaAttention.Weights(d, z, vd, ndim, positions, s.alpha(), s.delta(), s.beta(), s.eta(), s.omega(), s.wV(), s.bV(),
                s.wMx(), s.bMx(), s.wH(), s.bH(), s.gamma(), s.offset(), Init.normal(seed, "test.relpos", 2 * positions - 1, 1));
    }

    @Test
    void emaRecurrenceAndKernelMatchDirectFloat64() {
        SplittableRandom r = new SplittableRandom(51);
        int n = 37, d = 5;
        MegaAttention.Weights w = testWeights(4, d, 3, 4, 6, n);
        float[] x = new float[n * d];
        double[][] xd = new double[n][d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) VariantAssert.gaussian(r);
            xd[i / d][i % d] = x[i];
        }
        double[][] expect = emaRecurrence(w, xd);
        float[] got = MegaAttention.ema(w, x, n, 2);
        float[] kernel = MegaAttention.emaKernel(w, n);
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < d; c++) {
                assertEquals(expect[t][c], got[t * d + c], 1e-5 + 1e-5 * Math.abs(expect[t][c]), "recurrence t=" + t + " c=" + c);
                double conv = 0;
                for (int l = 0; l <= t; l++) conv += (double) kernel[c * n + l] * xd[t - l][c];
                assertEquals(expect[t][c], conv, 1e-5 + 1e-5 * Math.abs(expect[t][c]), "convolution t=" + t + " c=" + c);
            }
        }
        // The kernel in closed form at lag 0 and lag 2 for channel 1.
        int h = w.ndim();
        double k0 = 0, k2 = 0;
        for (int i = 0; i < h; i++) {
            int p = h + i;
            double coef = w.eta()[p] * w.alpha()[p] * w.beta()[p] / Math.sqrt(h), qd = 1 - w.alpha()[p] * w.delta()[p];
            k0 += coef;
            k2 += coef * qd * qd;
        }
        assertEquals(k0, kernel[n], 1e-6);
        assertEquals(k2, kernel[n + 2], 1e-6);
    }

    @Test
    void wholeLayerMatchesDirectFloat64() {
        SplittableRandom r = new SplittableRandom(52);
        // {B, H, N, D, z, vdim, ndim, chunk}
        java.util.List<int[]> cases = new java.util.ArrayList<>(java.util.List.of(new int[] {1, 2, 9, 3, 4, 5, 3, 0},
                new int[] {2, 1, 13, 5, 3, 7, 2, 4}, new int[] {1, 3, 1, 2, 2, 3, 1, 0}, new int[] {1, 1, 40, 4, 6, 8, 4, 16}, new int[] {1, 2, 70, 2, 3, 4, 2, 0}));
        for (int i = 0; i < 2; i++) {
            cases.add(new int[] {1 + r.nextInt(2), 1 + r.nextInt(3), 1 + r.nextInt(40), 1 + r.nextInt(5), 1 + r.nextInt(6), 1 + r.nextInt(7), 1 + r.nextInt(4), r.nextInt(3) * 5});
        }
        for (int[] c : cases) {
            Tensor q = VariantAssert.random(r, c[0], c[1], c[2], c[3]);
            int d = c[1] * c[3], positions = c[7] > 0 ? c[7] : c[2];
            MegaAttention.Weights w = testWeights(c[2], d, c[4], c[5], c[6], positions);
            for (MegaParams.Activation act : MegaParams.Activation.values()) {
                for (boolean causal : new boolean[] {false, true}) {
                    MegaParams p = new MegaParams(c[4], c[5], c[6], act, causal, c[7]);
                    VariantResult res = new MegaAttention(p, w).run(q, q, q, 2);
                    VariantAssert.assertClose(naive(q, w, p), res.output(), 1e-5, 1e-4, java.util.Arrays.toString(c) + " " + act + " causal=" + causal);
                    assertTrue(res.flops() > 0);
                }
            }
        }
    }

    @Test
    void seededDefaultsMatchDirectFloat64() {
        SplittableRandom r = new SplittableRandom(53);
        Tensor q = VariantAssert.random(r, 2, 2, 20, 4);
        MegaAttention m = (MegaAttention) VariantRegistry.create("mega", Settings.of("ndim=4", "causal=true", "attention=laplace"), 9);
        VariantAssert.assertClose(naive(q, m.weights(8, 20), m.params()), m.forward(q, q, q), 1e-5, 1e-4, "registry defaults");
    }

    @Test
    void causalOutputIgnoresFutureTokens() {
        SplittableRandom r = new SplittableRandom(54);
        int n = 24;
        Tensor q = VariantAssert.random(r, 1, 2, n, 3);
        float[] qd = q.toArray();
        for (int h = 0; h < 2; h++) for (int t = 15; t < n; t++) for (int c = 0; c < 3; c++) qd[(h * n + t) * 3 + c] = -2 * qd[(h * n + t) * 3 + c] + 1;
        Tensor q2 = Tensor.of(qd, 1, 2, n, 3);
        for (MegaParams.Activation act : MegaParams.Activation.values()) {
            for (int chunk : new int[] {0, 7}) {
                MegaAttention m = new MegaAttention(new MegaParams(4, 5, 3, act, true, chunk), testWeights(1, 6, 4, 5, 3, chunk > 0 ? chunk : n));
                float[] a = m.forward(q, q, q).toArray(), b = m.forward(q2, q2, q2).toArray();
                for (int h = 0; h < 2; h++) for (int t = 0; t < 15; t++) for (int c = 0; c < 3; c++) {
                    int i = (h * n + t) * 3 + c;
                    assertEquals(a[i], b[i], 0f, act + " chunk=" + chunk + ": token " + t + " saw the future");
                }
                // Without the mask the attention does look ahead.
                MegaAttention open = new MegaAttention(new MegaParams(4, 5, 3, act, false, chunk), testWeights(1, 6, 4, 5, 3, chunk > 0 ? chunk : n));
                float[] oa = open.forward(q, q, q).toArray(), ob = open.forward(q2, q2, q2).toArray();
                assertTrue(Math.abs(oa[(n + 14) * 3] - ob[(n + 14) * 3]) > 1e-6, act + " chunk=" + chunk + ": non-causal run ignored the future");
            }
        }
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MegaParams(-1, 0, 2, MegaParams.Activation.SOFTMAX, false, 0));
        assertTrue(e.getMessage().contains("zdim"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MegaParams(0, -1, 2, MegaParams.Activation.SOFTMAX, false, 0));
        assertTrue(e.getMessage().contains("vdim"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MegaParams(0, 0, 0, MegaParams.Activation.SOFTMAX, false, 0));
        assertTrue(e.getMessage().contains("ndim") && e.getMessage().contains("0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MegaParams(0, 0, 2, null, false, 0));
        assertTrue(e.getMessage().contains("attention"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MegaParams(0, 0, 2, MegaParams.Activation.RELU2, false, -4));
        assertTrue(e.getMessage().contains("chunk"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("mega", Settings.of("attention=gelu"), 1));
        assertTrue(e.getMessage().contains("attention"), e.getMessage());
        MegaAttention.Weights w = MegaAttention.Weights.seeded(1, 2, 1, 1, 1, 3, 0.1, 0);
        e = assertThrows(IllegalArgumentException.class, () -> new MegaAttention.Weights(2, 1, 1, 1, 3, new float[] {0.5f, 1.5f}, w.delta(), w.beta(), w.eta(), w.omega(),
                w.wV(), w.bV(), w.wMx(), w.bMx(), w.wH(), w.bH(), w.gamma(), w.offset(), w.relpos()));
        assertTrue(e.getMessage().contains("alpha"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MegaAttention(new MegaParams(0, 0, 1, MegaParams.Activation.SOFTMAX, false, 0), w)
                .forward(VariantAssert.random(new SplittableRandom(1), 1, 1, 5, 2), VariantAssert.random(new SplittableRandom(1), 1, 1, 5, 2), VariantAssert.random(new SplittableRandom(1), 1, 1, 5, 2)));
        assertTrue(e.getMessage().contains("relative positions"), e.getMessage());
    }
}
