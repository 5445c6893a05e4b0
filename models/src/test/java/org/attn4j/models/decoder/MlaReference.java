package org.attn4j.models.decoder;

import java.util.function.IntFunction;

/**
 * DeepSeek-V2's forward in float64, written from the paper's formulas in the plain (non-absorbed)
 * form and without a cache: every token's per-head keys {@code [W_UK c, k^R]} and values {@code W_UV c}
 * are decompressed from its latent, and each query attends to the tokens a {@link Visible} rule names.
 * Shares no code with {@link DecoderModel}.
 */
final class MlaReference {
    private MlaReference() {}

    /** The tokens query {@code i} sees (ascending), the RoPE position of each, and the query's own position. */
    record Visible(int[] tokens, int[] positions, int queryPosition) {}

    /** Causal attention over every earlier token, at its position in the text. */
    static Visible full(int i) {
        int[] t = new int[i + 1];
        for (int j = 0; j <= i; j++) t[j] = j;
        return new Visible(t, t, i);
    }

    /** The last {@code window} tokens, itself included, at their positions in the text. */
    static IntFunction<Visible> window(int window) {
        return i -> {
            int from = Math.max(0, i - window + 1);
            int[] t = new int[i - from + 1];
            for (int j = 0; j < t.length; j++) t[j] = from + j;
            return new Visible(t, t, i);
        };
    }

    /** StreamingLLM: {@code sinks} first tokens and the most recent ones, {@code budget} in all, positions = slots. */
    static IntFunction<Visible> sinks(int sinks, int budget) {
        return i -> {
            if (i < budget) return full(i);
            int[] t = new int[budget], pos = new int[budget];
            for (int s = 0; s < budget; s++) {
                t[s] = s < sinks ? s : i - (budget - 1 - s);
                pos[s] = s;
            }
            return new Visible(t, pos, budget - 1);
        };
    }

    /** Logits {@code [tokens.length][vocab]}. */
    static double[][] logits(DecoderConfig c, DecoderWeights w, int[] tokens, IntFunction<Visible> visible) {
        DecoderConfig.Mla m = c.mla();
        int d = c.dim(), heads = c.heads(), dn = m.qkNopeDim(), dr = m.qkRopeDim(), dv = m.vHeadDim(), r = m.kvLoraRank();
        int n = tokens.length, qk = dn + dr;
        double eps = c.normEps();
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) x[i] = d(row(w.tokenEmbedding().toFloats(), tokens[i], d));
        for (int li = 0; li < c.layers(); li++) {
            DecoderWeights.Layer l = w.layers()[li];
            DecoderWeights.Mla a = l.mla();
            double[][] q = new double[n][], lat = new double[n][], kr = new double[n][];
            for (int i = 0; i < n; i++) {
                double[] h = rms(x[i], l.attnNorm(), eps);
                q[i] = a.qA() != null ? mul(a.q(), rms(mul(a.qA(), h), a.qANorm(), eps)) : mul(a.q(), h);
                double[] kva = mul(a.kvA(), h);
                lat[i] = rms(java.util.Arrays.copyOfRange(kva, 0, r), a.kvANorm(), eps);
                kr[i] = java.util.Arrays.copyOfRange(kva, r, r + dr); // rotated per use: positions may be slots
            }
            double[] kvB = d(a.kvB().toFloats());
            double[][] out = new double[n][heads * dv];
            for (int i = 0; i < n; i++) {
                Visible v = visible.apply(i);
                for (int hh = 0; hh < heads; hh++) {
                    double[] qh = java.util.Arrays.copyOfRange(q[i], hh * qk, hh * qk + qk);
                    rope(qh, dn, dr, v.queryPosition(), c.ropeTheta());
                    double[] s = new double[v.tokens().length];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int k = 0; k < s.length; k++) {
                        int j = v.tokens()[k];
                        double[] key = new double[qk];
                        for (int e = 0; e < dn; e++) key[e] = dot(kvB, (hh * (dn + dv) + e) * r, lat[j]);
                        System.arraycopy(kr[j], 0, key, dn, dr);
                        rope(key, dn, dr, v.positions()[k], c.ropeTheta());
                        for (int e = 0; e < qk; e++) s[k] += qh[e] * key[e];
                        s[k] /= Math.sqrt(qk);
                        max = Math.max(max, s[k]);
                    }
                    double sum = 0;
                    for (int k = 0; k < s.length; k++) sum += s[k] = Math.exp(s[k] - max);
                    for (int k = 0; k < s.length; k++) {
                        int j = v.tokens()[k];
                        for (int e = 0; e < dv; e++) out[i][hh * dv + e] += s[k] / sum * dot(kvB, (hh * (dn + dv) + dn + e) * r, lat[j]);
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                add(x[i], mul(l.wo(), out[i]));
                double[] h = rms(x[i], l.ffnNorm(), eps), g = mul(l.wGate(), h), u = mul(l.wUp(), h);
                for (int e = 0; e < g.length; e++) u[e] *= g[e] / (1 + Math.exp(-g[e]));
                add(x[i], mul(l.wDown(), u));
            }
        }
        Matrix out = w.outputMatrix();
        double[][] logits = new double[n][];
        for (int i = 0; i < n; i++) logits[i] = mul(out, rms(x[i], w.outputNorm(), eps));
        return logits;
    }

    /** RoPE on pairs (off + 2p, off + 2p + 1), frequency θ^(−2p/dr). */
    private static void rope(double[] a, int off, int dr, int pos, double theta) {
        for (int p = 0; p < dr / 2; p++) {
            double ang = pos * Math.pow(theta, -2.0 * p / dr), cos = Math.cos(ang), sin = Math.sin(ang);
            double x0 = a[off + 2 * p], x1 = a[off + 2 * p + 1];
            a[off + 2 * p] = x0 * cos - x1 * sin;
            a[off + 2 * p + 1] = x0 * sin + x1 * cos;
        }
    }

    private static double[] rms(double[] x, float[] w, double eps) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double inv = 1 / Math.sqrt(ss / x.length + eps);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] * inv * w[i];
        return y;
    }

    private static double[] mul(Matrix m, double[] x) {
        double[] a = d(m.toFloats()), y = new double[m.rows()];
        for (int r = 0; r < m.rows(); r++) y[r] = dot(a, r * m.cols(), x);
        return y;
    }

    private static double dot(double[] a, int off, double[] x) {
        double s = 0;
        for (int i = 0; i < x.length; i++) s += a[off + i] * x[i];
        return s;
    }

    private static void add(double[] x, double[] y) { for (int i = 0; i < x.length; i++) x[i] += y[i]; }

    private static float[] row(float[] a, int r, int n) { return java.util.Arrays.copyOfRange(a, r * n, r * n + n); }

    private static double[] d(float[] a) {
        double[] b = new double[a.length];
        for (int i = 0; i < a.length; i++) b[i] = a[i];
        return b;
    }
}
