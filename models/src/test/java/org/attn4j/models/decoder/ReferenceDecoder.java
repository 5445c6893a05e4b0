package org.attn4j.models.decoder;

/**
 * An independent float64 forward of a decoder, written from the architectures' definitions and
 * sharing no code with {@link DecoderModel}: full-sequence attention with explicit softmax, no cache,
 * naive loops. Returns the logits of every position {@code [t][vocab]}.
 */
final class ReferenceDecoder {
    private ReferenceDecoder() {}

    static double[][] logits(DecoderConfig c, DecoderWeights w, int[] tokens) {
        return logits(c, w, tokens, 1);
    }

    /**
     * As {@link #logits(DecoderConfig, DecoderWeights, int[])} with shared attention (arXiv:2407.12866):
     * in every group of {@code share} consecutive layers, the first layer's softmax probabilities
     * {@code [query][head][key]} are applied to the other layers' own values.
     */
    static double[][] logits(DecoderConfig c, DecoderWeights w, int[] tokens, int share) {
        return logits(c, w, tokens, share, false);
    }

    /**
     * With {@code roundQ8}, the input of every product with a {@link Q8Matrix} is first rounded to
     * Q8_0 blocks as llama.cpp rounds activations (per 32 values: scale max|x|/127 stored as float16,
     * quanta round-half-even of x·127/max|x| computed in float32).
     */
    static double[][] logits(DecoderConfig c, DecoderWeights w, int[] tokens, boolean roundQ8) {
        return logits(c, w, tokens, 1, roundQ8);
    }

    private static double[][] logits(DecoderConfig c, DecoderWeights w, int[] tokens, int share, boolean roundQ8) {
        int t = tokens.length, d = c.dim(), hd = c.headDim();
        boolean gpt2 = c.arch() == DecoderConfig.Arch.GPT2;
        double[][] x = new double[t][d];
        float[] emb = w.tokenEmbedding().toFloats();
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < d; j++) {
                x[i][j] = emb[tokens[i] * d + j];
                if (gpt2) x[i][j] += w.positionEmbedding()[i * d + j];
            }
        }
        double[][][] probs = new double[t][c.heads()][t];
        for (int li = 0; li < w.layers().length; li++) {
            DecoderWeights.Layer l = w.layers()[li];
            boolean reuse = li % share != 0;
            double[][] h = new double[t][];
            for (int i = 0; i < t; i++) h[i] = norm(c, x[i], l.attnNorm(), l.attnNormBias());
            double[][] q = new double[t][], k = new double[t][], v = new double[t][];
            for (int i = 0; i < t; i++) {
                q[i] = matvec(roundQ8, l.wq(), l.bq(), h[i], c.heads() * hd);
                k[i] = matvec(roundQ8, l.wk(), l.bk(), h[i], c.kvHeads() * hd);
                v[i] = matvec(roundQ8, l.wv(), l.bv(), h[i], c.kvHeads() * hd);
                for (int hh = 0; hh < c.heads(); hh++) headTransform(c, q[i], hh * hd, l.qNorm(), i);
                for (int hh = 0; hh < c.kvHeads(); hh++) headTransform(c, k[i], hh * hd, l.kNorm(), i);
            }
            double[][] att = new double[t][c.heads() * hd];
            double scale = 1 / Math.sqrt(hd);
            for (int i = 0; i < t; i++) {
                for (int hh = 0; hh < c.heads(); hh++) {
                    int kh = hh / c.group();
                    int lo = c.slidingWindow() > 0 ? Math.max(0, i - c.slidingWindow() + 1) : 0;
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = lo; j <= i; j++) {
                        double dot = 0;
                        for (int e = 0; e < hd; e++) dot += q[i][hh * hd + e] * k[j][kh * hd + e];
                        s[j] = dot * scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = lo; j <= i; j++) sum += s[j] = Math.exp(s[j] - max);
                    if (!reuse) {
                        java.util.Arrays.fill(probs[i][hh], 0);
                        for (int j = lo; j <= i; j++) probs[i][hh][j] = s[j] / sum;
                    }
                    for (int j = 0; j <= i; j++) {
                        for (int e = 0; e < hd; e++) att[i][hh * hd + e] += probs[i][hh][j] * v[j][kh * hd + e];
                    }
                }
            }
            for (int i = 0; i < t; i++) {
                double[] o = matvec(roundQ8, l.wo(), l.bo(), att[i], d);
                for (int j = 0; j < d; j++) x[i][j] += o[j];
                double[] h2 = norm(c, x[i], l.ffnNorm(), l.ffnNormBias());
                double[] up = matvec(roundQ8, l.wUp(), l.bUp(), h2, c.ffn());
                if (gpt2) {
                    for (int j = 0; j < up.length; j++) {
                        double u = up[j];
                        up[j] = 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u)));
                    }
                } else {
                    double[] g = matvec(roundQ8, l.wGate(), null, h2, c.ffn());
                    for (int j = 0; j < up.length; j++) up[j] *= g[j] / (1 + Math.exp(-g[j]));
                }
                double[] down = matvec(roundQ8, l.wDown(), l.bDown(), up, d);
                for (int j = 0; j < d; j++) x[i][j] += down[j];
            }
        }
        double[][] out = new double[t][];
        Matrix wout = w.output() != null ? w.output() : w.tokenEmbedding();
        for (int i = 0; i < t; i++) out[i] = matvec(roundQ8, wout, null, norm(c, x[i], w.outputNorm(), w.outputNormBias()), c.vocab());
        return out;
    }

    /**
     * StreamingLLM as its paper describes it, one token at a time: each layer keeps a list of
     * (key before RoPE, value); past {@code budget} entries the oldest entry after the first
     * {@code sinks} is dropped; keys get RoPE at their index in the list and the query at the index
     * of the new entry. Returns the logits of every token.
     */
    static double[][] streaming(DecoderConfig c, DecoderWeights w, int[] tokens, int sinks, int budget) {
        int d = c.dim(), hd = c.headDim();
        float[] emb = w.tokenEmbedding().toFloats();
        java.util.List<java.util.List<double[][]>> kept = new java.util.ArrayList<>();
        for (int l = 0; l < c.layers(); l++) kept.add(new java.util.ArrayList<>());
        double[][] out = new double[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            double[] x = new double[d];
            for (int j = 0; j < d; j++) x[j] = emb[tokens[i] * d + j];
            for (int li = 0; li < c.layers(); li++) {
                DecoderWeights.Layer l = w.layers()[li];
                java.util.List<double[][]> cache = kept.get(li);
                double[] h = norm(c, x, l.attnNorm(), l.attnNormBias());
                double[] q = matvec(l.wq(), l.bq(), h, c.heads() * hd), k = matvec(l.wk(), l.bk(), h, c.kvHeads() * hd), v = matvec(l.wv(), l.bv(), h, c.kvHeads() * hd);
                for (int hh = 0; hh < c.kvHeads(); hh++) headTransform(c, k, hh * hd, l.kNorm(), -1);
                cache.add(new double[][] {k, v});
                if (cache.size() > budget) cache.remove(sinks);
                int slot = cache.size() - 1;
                for (int hh = 0; hh < c.heads(); hh++) headTransform(c, q, hh * hd, l.qNorm(), slot);
                double[][] keys = new double[cache.size()][];
                for (int j = 0; j < keys.length; j++) {
                    keys[j] = cache.get(j)[0].clone();
                    for (int hh = 0; hh < c.kvHeads(); hh++) headTransform(c, keys[j], hh * hd, null, j);
                }
                double[] att = new double[c.heads() * hd];
                for (int hh = 0; hh < c.heads(); hh++) {
                    int kh = hh / c.group();
                    double[] sc = new double[keys.length];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < keys.length; j++) {
                        for (int e = 0; e < hd; e++) sc[j] += q[hh * hd + e] * keys[j][kh * hd + e];
                        sc[j] /= Math.sqrt(hd);
                        max = Math.max(max, sc[j]);
                    }
                    for (int j = 0; j < keys.length; j++) sum += sc[j] = Math.exp(sc[j] - max);
                    for (int j = 0; j < keys.length; j++) for (int e = 0; e < hd; e++) att[hh * hd + e] += sc[j] / sum * cache.get(j)[1][kh * hd + e];
                }
                double[] o = matvec(l.wo(), l.bo(), att, d);
                for (int j = 0; j < d; j++) x[j] += o[j];
                double[] h2 = norm(c, x, l.ffnNorm(), l.ffnNormBias());
                double[] up = matvec(l.wUp(), l.bUp(), h2, c.ffn()), g = matvec(l.wGate(), null, h2, c.ffn());
                for (int j = 0; j < up.length; j++) up[j] *= g[j] / (1 + Math.exp(-g[j]));
                double[] down = matvec(l.wDown(), l.bDown(), up, d);
                for (int j = 0; j < d; j++) x[j] += down[j];
            }
            out[i] = matvec(w.output() != null ? w.output() : w.tokenEmbedding(), null, norm(c, x, w.outputNorm(), w.outputNormBias()), c.vocab());
        }
        return out;
    }

    /**
     * H2O as its paper describes it, one token at a time, per layer and key/value head: a list of
     * (key with RoPE at its text position, value, accumulated attention); before a token is added to a
     * full list ({@code budget} entries), the entry with the lowest accumulated attention among all
     * but the {@code recent} newest is dropped (the earliest on ties); after attending, every entry
     * adds the probability it received from each query head of its group.
     */
    static double[][] heavyHitters(DecoderConfig c, DecoderWeights w, int[] tokens, int budget, int recent) {
        int d = c.dim(), hd = c.headDim();
        float[] emb = w.tokenEmbedding().toFloats();
        // kept[layer][kvHead] = list of {key, value, {score}}
        java.util.List<java.util.List<java.util.List<double[][]>>> kept = new java.util.ArrayList<>();
        for (int l = 0; l < c.layers(); l++) {
            java.util.List<java.util.List<double[][]>> heads = new java.util.ArrayList<>();
            for (int h = 0; h < c.kvHeads(); h++) heads.add(new java.util.ArrayList<>());
            kept.add(heads);
        }
        double[][] out = new double[tokens.length][];
        for (int i = 0; i < tokens.length; i++) {
            double[] x = new double[d];
            for (int j = 0; j < d; j++) x[j] = emb[tokens[i] * d + j];
            for (int li = 0; li < c.layers(); li++) {
                DecoderWeights.Layer l = w.layers()[li];
                double[] h = norm(c, x, l.attnNorm(), l.attnNormBias());
                double[] q = matvec(l.wq(), l.bq(), h, c.heads() * hd), k = matvec(l.wk(), l.bk(), h, c.kvHeads() * hd), v = matvec(l.wv(), l.bv(), h, c.kvHeads() * hd);
                for (int hh = 0; hh < c.heads(); hh++) headTransform(c, q, hh * hd, l.qNorm(), i);
                for (int hh = 0; hh < c.kvHeads(); hh++) headTransform(c, k, hh * hd, l.kNorm(), i);
                double[] att = new double[c.heads() * hd];
                for (int kh = 0; kh < c.kvHeads(); kh++) {
                    java.util.List<double[][]> list = kept.get(li).get(kh);
                    if (list.size() + 1 > budget) {
                        int best = 0;
                        for (int j = 1; j < list.size() - recent; j++) if (list.get(j)[2][0] < list.get(best)[2][0]) best = j;
                        list.remove(best);
                    }
                    list.add(new double[][] {java.util.Arrays.copyOfRange(k, kh * hd, kh * hd + hd), java.util.Arrays.copyOfRange(v, kh * hd, kh * hd + hd), {0}});
                    for (int hh = kh * c.group(); hh < (kh + 1) * c.group(); hh++) {
                        double[] sc = new double[list.size()];
                        double max = Double.NEGATIVE_INFINITY, sum = 0;
                        for (int j = 0; j < sc.length; j++) {
                            for (int e = 0; e < hd; e++) sc[j] += q[hh * hd + e] * list.get(j)[0][e];
                            sc[j] /= Math.sqrt(hd);
                            max = Math.max(max, sc[j]);
                        }
                        for (int j = 0; j < sc.length; j++) sum += sc[j] = Math.exp(sc[j] - max);
                        for (int j = 0; j < sc.length; j++) {
                            double p = sc[j] / sum;
                            list.get(j)[2][0] += p;
                            for (int e = 0; e < hd; e++) att[hh * hd + e] += p * list.get(j)[1][e];
                        }
                    }
                }
                double[] o = matvec(l.wo(), l.bo(), att, d);
                for (int j = 0; j < d; j++) x[j] += o[j];
                double[] h2 = norm(c, x, l.ffnNorm(), l.ffnNormBias());
                double[] up = matvec(l.wUp(), l.bUp(), h2, c.ffn()), g = matvec(l.wGate(), null, h2, c.ffn());
                for (int j = 0; j < up.length; j++) up[j] *= g[j] / (1 + Math.exp(-g[j]));
                double[] down = matvec(l.wDown(), l.bDown(), up, d);
                for (int j = 0; j < d; j++) x[j] += down[j];
            }
            out[i] = matvec(w.output() != null ? w.output() : w.tokenEmbedding(), null, norm(c, x, w.outputNorm(), w.outputNormBias()), c.vocab());
        }
        return out;
    }

    /** Qwen3's per-head RMSNorm, then RoPE at position {@code pos} (none when pos < 0). */
    private static void headTransform(DecoderConfig c, double[] a, int off, float[] headNorm, int pos) {
        int hd = c.headDim();
        if (headNorm != null) {
            double ss = 0;
            for (int e = 0; e < hd; e++) ss += a[off + e] * a[off + e];
            double r = 1 / Math.sqrt(ss / hd + c.normEps());
            for (int e = 0; e < hd; e++) a[off + e] *= r * headNorm[e];
        }
        if (c.rope() == DecoderConfig.RopeStyle.NONE || pos < 0) return;
        int n = c.ropeDim();
        double[] in = java.util.Arrays.copyOfRange(a, off, off + n);
        for (int i = 0; i < n / 2; i++) {
            double freq = 1 / Math.pow(c.ropeTheta(), (2.0 * i) / n);
            if (c.ropeFactors() != null) freq /= c.ropeFactors()[i];
            double cs = Math.cos(pos * freq), sn = Math.sin(pos * freq);
            // A complex rotation of the pair (re, im) by pos·freq.
            int re = c.rope() == DecoderConfig.RopeStyle.INTERLEAVED ? 2 * i : i;
            int im = c.rope() == DecoderConfig.RopeStyle.INTERLEAVED ? 2 * i + 1 : i + n / 2;
            a[off + re] = in[re] * cs - in[im] * sn;
            a[off + im] = in[re] * sn + in[im] * cs;
        }
    }

    private static double[] norm(DecoderConfig c, double[] x, float[] w, float[] b) {
        int n = x.length;
        double[] y = new double[n];
        if (c.arch() == DecoderConfig.Arch.GPT2) {
            double mean = 0, var = 0;
            for (double v : x) mean += v;
            mean /= n;
            for (double v : x) var += (v - mean) * (v - mean);
            var /= n;
            for (int i = 0; i < n; i++) y[i] = (x[i] - mean) / Math.sqrt(var + c.normEps()) * w[i] + b[i];
        } else {
            double ss = 0;
            for (double v : x) ss += v * v;
            double r = 1 / Math.sqrt(ss / n + c.normEps());
            for (int i = 0; i < n; i++) y[i] = x[i] * r * w[i];
        }
        return y;
    }

    private static double[] matvec(boolean roundQ8, Matrix m, float[] b, double[] x, int out) {
        return matvec(m, b, roundQ8 && m instanceof Q8Matrix ? roundQ8(x) : x, out);
    }

    private static double[] roundQ8(double[] x) {
        double[] r = new double[x.length];
        for (int b = 0; b < x.length; b += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs((float) x[b + j]));
            float inv = amax == 0 ? 0 : 127f / amax;
            double scale = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
            for (int j = 0; j < 32; j++) r[b + j] = scale * Math.rint((float) x[b + j] * inv);
        }
        return r;
    }

    /** {@code W·x + b} with W row-major {@code [out, x.length]}. */
    private static double[] matvec(Matrix m, float[] b, double[] x, int out) {
        float[] w = m.toFloats();
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b == null ? 0 : b[o];
            for (int i = 0; i < x.length; i++) s += w[o * x.length + i] * x[i];
            y[o] = s;
        }
        return y;
    }
}
