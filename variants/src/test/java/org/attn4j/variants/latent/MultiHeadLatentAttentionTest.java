package org.attn4j.variants.latent;

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

class MultiHeadLatentAttentionTest {

    private static double[] matmul(double[] a, int m, int k, float[] w, int n) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int p = 0; p < k; p++) acc += a[i * k + p] * w[p * n + j];
            out[i * n + j] = acc;
        }
        return out;
    }

    private static void rmsNorm(double[] x, int rows, int n, float[] g) {
        for (int i = 0; i < rows; i++) {
            double ss = 0;
            for (int c = 0; c < n; c++) ss += x[i * n + c] * x[i * n + c];
            double inv = 1 / Math.sqrt(ss / n + 1e-6);
            for (int c = 0; c < n; c++) x[i * n + c] *= inv * g[c];
        }
    }

    /** Rotates pairs (2m, 2m+1) of x[off..off+n) by pos·10000^(−2m/n). */
    private static void rope(double[] x, int off, int n, int pos) {
        for (int m = 0; m < n / 2; m++) {
            double th = pos * Math.pow(10000, -2.0 * m / n);
            double a = x[off + 2 * m], b = x[off + 2 * m + 1];
            x[off + 2 * m] = a * Math.cos(th) - b * Math.sin(th);
            x[off + 2 * m + 1] = a * Math.sin(th) + b * Math.cos(th);
        }
    }

    private static double[] merged(Tensor x, int b) {
        int heads = x.dim(1), n = x.dim(2), d = x.dim(3);
        double[] out = new double[n * heads * d];
        for (int t = 0; t < n; t++) for (int h = 0; h < heads; h++) for (int c = 0; c < d; c++) out[t * heads * d + h * d + c] = x.get(b, h, t, c);
        return out;
    }

    /** DeepSeek-V2 MLA written out per head in float64, un-absorbed, straight from the formulas. */
    static Tensor naive(Tensor q, Tensor k, MultiHeadLatentAttention.Weights w, boolean causal) {
        int batch = q.dim(0), heads = q.dim(1), nq = q.dim(2), d = q.dim(3), nk = k.dim(2);
        int nh = w.heads(), dh = w.dh(), dc = w.dc(), dcq = w.dcq(), dr = w.dr(), dq = w.dq(), dkv = w.dkv();
        float[] out = new float[batch * heads * nq * d];
        for (int b = 0; b < batch; b++) {
            double[] xq = merged(q, b), xkv = merged(k, b);
            double[] cq = matmul(xq, nq, dq, w.wDQ(), dcq);
            rmsNorm(cq, nq, dcq, w.gQ());
            double[] qc = matmul(cq, nq, dcq, w.wUQ(), nh * dh), qr = matmul(cq, nq, dcq, w.wQR(), nh * dr);
            double[] ckv = matmul(xkv, nk, dkv, w.wDKV(), dc);
            rmsNorm(ckv, nk, dc, w.gKV());
            double[] kc = matmul(ckv, nk, dc, w.wUK(), nh * dh), vc = matmul(ckv, nk, dc, w.wUV(), nh * dh);
            double[] kr = matmul(xkv, nk, dkv, w.wKR(), dr);
            for (int i = 0; i < nq; i++) for (int h = 0; h < nh; h++) rope(qr, (i * nh + h) * dr, dr, i + nk - nq);
            for (int j = 0; j < nk; j++) rope(kr, j * dr, dr, j);
            double[] o = new double[nq * nh * dh];
            for (int h = 0; h < nh; h++) {
                for (int i = 0; i < nq; i++) {
                    double[] s = new double[nk];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < nk; j++) {
                        double acc = 0;
                        for (int c = 0; c < dh; c++) acc += qc[i * nh * dh + h * dh + c] * kc[j * nh * dh + h * dh + c];
                        for (int c = 0; c < dr; c++) acc += qr[(i * nh + h) * dr + c] * kr[j * dr + c];
                        s[j] = causal && j > i + nk - nq ? Double.NEGATIVE_INFINITY : acc / Math.sqrt(dh + dr);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < nk; j++) z += Math.exp(s[j] - max);
                    for (int j = 0; j < nk; j++) {
                        double p = Math.exp(s[j] - max) / z;
                        for (int c = 0; c < dh; c++) o[i * nh * dh + h * dh + c] += p * vc[j * nh * dh + h * dh + c];
                    }
                }
            }
            double[] u = matmul(o, nq, nh * dh, w.wO(), dq);
            for (int i = 0; i < nq; i++) for (int h = 0; h < heads; h++) for (int c = 0; c < d; c++) {
                out[((b * heads + h) * nq + i) * d + c] = (float) u[i * dq + h * d + c];
            }
        }
        return Tensor.of(out, batch, heads, nq, d);
    }

    @Test
    void bothFormsMatchDirectFloat64() {
        SplittableRandom r = new SplittableRandom(21);
        // {B, H, Hkv, Nq, Nk, D, kv-rank, q-rank, rope-dim}
        java.util.List<int[]> cases = new java.util.ArrayList<>(java.util.List.of(new int[] {2, 3, 3, 5, 7, 6, 5, 7, 4},
                new int[] {1, 2, 1, 9, 9, 5, 0, 0, 0}, new int[] {1, 1, 1, 1, 1, 3, 2, 3, 2}, new int[] {2, 4, 2, 6, 6, 4, 3, 9, 6}));
        for (int i = 0; i < 3; i++) {
            int hkv = 1 + r.nextInt(2), nk = 1 + r.nextInt(15);
            cases.add(new int[] {1 + r.nextInt(2), hkv * (1 + r.nextInt(2)), hkv, 1 + r.nextInt(nk), nk, 1 + r.nextInt(9), r.nextInt(8), r.nextInt(10), 2 * r.nextInt(4)});
        }
        for (int[] c : cases) {
            Tensor q = VariantAssert.random(r, c[0], c[1], c[3], c[5]);
            Tensor k = VariantAssert.random(r, c[0], c[2], c[4], c[5]);
            Tensor v = VariantAssert.random(r, c[0], c[2], c[4], 2);
            for (boolean causal : new boolean[] {false, true}) {
                for (boolean absorb : new boolean[] {false, true}) {
                    MultiHeadLatentAttention m = new MultiHeadLatentAttention(new MlaParams(c[6], c[7], c[8], absorb, causal), 31);
                    VariantResult res = m.run(q, k, v, 2);
                    Tensor expect = naive(q, k, m.weights(c[1], c[2], c[5]), causal);
                    VariantAssert.assertClose(expect, res.output(), 1e-5, 1e-4, java.util.Arrays.toString(c) + " causal=" + causal + " absorb=" + absorb);
                    assertTrue(res.flops() > 0);
                }
            }
        }
    }

    @Test
    void absorbedAndUnabsorbedAgree() {
        SplittableRandom r = new SplittableRandom(22);
        Tensor q = VariantAssert.random(r, 2, 2, 33, 16), k = VariantAssert.random(r, 2, 2, 40, 16);
        for (boolean causal : new boolean[] {false, true}) {
            Tensor a = new MultiHeadLatentAttention(new MlaParams(0, 0, 0, true, causal), 5).forward(q, k, k);
            Tensor b = new MultiHeadLatentAttention(new MlaParams(0, 0, 0, false, causal), 5).forward(q, k, k);
            VariantAssert.assertClose(b, a, 1e-4, 1e-4, "absorbed vs unabsorbed, causal=" + causal);
        }
    }

    private static Tensor tokens(Tensor x, int t, int n) {
        Tensor c = x.contiguous();
        int heads = c.dim(1), len = c.dim(2), d = c.dim(3);
        return Tensor.view(c.data(), t * d, new int[] {c.dim(0), heads, n, d}, new int[] {heads * len * d, len * d, d, 1});
    }

    @Test
    void decodingTokenByTokenEqualsCausalForward() {
        SplittableRandom r = new SplittableRandom(23);
        int b = 2, h = 3, hkv = 3, n = 11, d = 8;
        Tensor q = VariantAssert.random(r, b, h, n, d), k = VariantAssert.random(r, b, hkv, n, d);
        for (boolean absorb : new boolean[] {true, false}) {
            MultiHeadLatentAttention m = new MultiHeadLatentAttention(new MlaParams(6, 10, 4, absorb, true), 9);
            Tensor full = m.forward(q, k, k);
            MultiHeadLatentAttention.Cache cache = m.newCache(b, h, hkv, d, n);
            // A 3-token prefill, then one token at a time.
            Tensor pre = m.append(cache, tokens(q, 0, 3), tokens(k, 0, 3), 1).output();
            VariantAssert.assertClose(tokens(full, 0, 3).contiguous(), pre, 1e-5, 1e-4, "prefill");
            for (int t = 3; t < n; t++) {
                Tensor step = m.append(cache, tokens(q, t, 1), tokens(k, t, 1), 2).output();
                VariantAssert.assertClose(tokens(full, t, 1).contiguous(), step, 1e-5, 1e-4, "decode step " + t + " absorb=" + absorb);
            }
            assertEquals(n, cache.length());
            assertEquals(6 + 4, cache.rowWidth());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.append(cache, tokens(q, 0, 1), tokens(k, 0, 1), 1));
            assertTrue(e.getMessage().contains("capacity"), e.getMessage());
        }
    }

    @Test
    void causalOutputIgnoresFutureTokens() {
        SplittableRandom r = new SplittableRandom(24);
        Tensor q = VariantAssert.random(r, 1, 2, 10, 4);
        MultiHeadLatentAttention m = new MultiHeadLatentAttention(new MlaParams(0, 0, 0, true, true), 2);
        float[] a = m.forward(q, q, q).toArray();
        float[] qd = q.toArray();
        for (int h = 0; h < 2; h++) for (int t = 6; t < 10; t++) for (int c = 0; c < 4; c++) qd[(h * 10 + t) * 4 + c] *= -3;
        Tensor q2 = Tensor.of(qd, 1, 2, 10, 4);
        float[] b = m.forward(q2, q2, q2).toArray();
        for (int h = 0; h < 2; h++) for (int t = 0; t < 6; t++) for (int c = 0; c < 4; c++) {
            int i = (h * 10 + t) * 4 + c;
            assertEquals(a[i], b[i], 0f, "token " + t + " saw the future");
        }
        assertTrue(Math.abs(a[(1 * 10 + 8) * 4] - b[(1 * 10 + 8) * 4]) > 1e-6, "perturbed token unchanged");
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MlaParams(-1, 0, 0, true, false));
        assertTrue(e.getMessage().contains("kv-rank"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MlaParams(0, -2, 0, true, false));
        assertTrue(e.getMessage().contains("q-rank"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new MlaParams(0, 0, 3, true, false));
        assertTrue(e.getMessage().contains("rope-dim") && e.getMessage().contains("3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("mla", Settings.of("rope-dim=5"), 1));
        assertTrue(e.getMessage().contains("rope-dim"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> MultiHeadLatentAttention.Weights.seeded(1, 2, 4, 8, 8, 3, 5, 3));
        assertTrue(e.getMessage().contains("dr"), e.getMessage());
        MultiHeadLatentAttention m = (MultiHeadLatentAttention) VariantRegistry.create("mla", Settings.of("kv-rank=8", "absorb=false"), 1);
        assertEquals(8, m.weights(2, 2, 16).dc());
        assertEquals(8, m.weights(2, 2, 16).dr());
        assertEquals(192, m.weights(2, 2, 16).dcq());
    }
}
