package org.attn4j.train;

/**
 * The model's layers written again in float64, straight from their definitions, sharing no code
 * with the float32 implementation (the role core's {@code NaiveAttention} plays for the kernels).
 * Matrices are flat row-major {@code double[]}; {@code [rows, cols]} in the comments.
 * Finite differences of these functions are the reference for every backward pass.
 */
final class Oracle64 {
    private Oracle64() {}

    /** x[r, :] = wte[tok[r], :] + (wpe == null ? 0 : wpe[r mod T, :]). */
    static double[] embed(int[] tokens, int rows, double[] wte, double[] wpe, int t, int c) {
        double[] x = new double[rows * c];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < c; i++) {
                x[r * c + i] = wte[tokens[r] * c + i] + (wpe == null ? 0 : wpe[(r % t) * c + i]);
            }
        }
        return x;
    }

    /** Per row: (x − mean)/sqrt(var + eps)·γ + β, population variance. */
    static double[] layerNorm(double[] x, int rows, int c, double[] gamma, double[] beta, double eps) {
        double[] y = new double[rows * c];
        for (int r = 0; r < rows; r++) {
            double mean = 0;
            for (int i = 0; i < c; i++) mean += x[r * c + i];
            mean /= c;
            double var = 0;
            for (int i = 0; i < c; i++) var += (x[r * c + i] - mean) * (x[r * c + i] - mean);
            var /= c;
            for (int i = 0; i < c; i++) y[r * c + i] = (x[r * c + i] - mean) / Math.sqrt(var + eps) * gamma[i] + beta[i];
        }
        return y;
    }

    /** Per row: x/sqrt(mean(x²) + eps)·γ. */
    static double[] rmsNorm(double[] x, int rows, int c, double[] gamma, double eps) {
        double[] y = new double[rows * c];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < c; i++) ss += x[r * c + i] * x[r * c + i];
            double s = 1 / Math.sqrt(ss / c + eps);
            for (int i = 0; i < c; i++) y[r * c + i] = x[r * c + i] * s * gamma[i];
        }
        return y;
    }

    /** Row r of in [rows, 2h] is (a | b); out[r, i] = a_i·sigmoid(a_i)·b_i. */
    static double[] swiglu(double[] in, int rows, int h) {
        double[] y = new double[rows * h];
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < h; i++) {
                double a = in[r * 2 * h + i], b = in[r * 2 * h + h + i];
                y[r * h + i] = a / (1 + Math.exp(-a)) * b;
            }
        }
        return y;
    }

    /**
     * RoPE on the q and k parts of a fused qkv [B·T, 3C] (a copy): per head of size D, elements i and
     * i + D/2 at position t (row mod T) rotate by t·10000^(−2i/D).
     */
    static double[] rope(double[] qkv, int rows, int t, int c, int heads) {
        double[] y = qkv.clone();
        int d = c / heads, half = d / 2;
        for (int r = 0; r < rows; r++) {
            int pos = r % t;
            for (int part = 0; part < 2; part++) {
                for (int h = 0; h < heads; h++) {
                    int base = r * 3 * c + part * c + h * d;
                    for (int i = 0; i < half; i++) {
                        double angle = pos * Math.pow(10000.0, -2.0 * i / d);
                        double x0 = qkv[base + i], x1 = qkv[base + half + i];
                        y[base + i] = x0 * Math.cos(angle) - x1 * Math.sin(angle);
                        y[base + half + i] = x0 * Math.sin(angle) + x1 * Math.cos(angle);
                    }
                }
            }
        }
        return y;
    }

    /** y[rows, out] = x[rows, in]·Wᵀ + b, W [out, in]; b may be null. */
    static double[] linear(double[] x, int rows, int in, double[] w, double[] b, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) s += x[r * in + i] * w[o * in + i];
                y[r * out + o] = s;
            }
        }
        return y;
    }

    /** GPT-2's GELU: ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
    static double[] gelu(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            y[i] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
        }
        return y;
    }

    /**
     * Causal multi-head attention on a fused qkv [B·T, 3C] (q | k | v, head h in columns h·D..): per
     * head, s_ij = q_i·k_j/√D − slope_h·(i − j) (ALiBi, slope_h = 2^(−8(h+1)/H)), visible when
     * j ≤ i and (window == 0 or j ≥ i − window), softmax over visible j, ctx_i = Σ_j p_ij v_j.
     * Returns ctx token-major [B·T, C].
     */
    static double[] attention(double[] qkv, int batch, int t, int c, int heads, boolean alibi, int window) {
        int d = c / heads;
        double[] ctx = new double[batch * t * c];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                double slope = alibi ? Math.pow(2, -8.0 * (h + 1) / heads) : 0;
                for (int i = 0; i < t; i++) {
                    double[] s = new double[t];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        boolean visible = j <= i && (window == 0 || j >= i - window);
                        if (!visible) {
                            s[j] = Double.NEGATIVE_INFINITY;
                            continue;
                        }
                        double dot = 0;
                        for (int x = 0; x < d; x++) {
                            dot += qkv[(b * t + i) * 3 * c + h * d + x] * qkv[(b * t + j) * 3 * c + c + h * d + x];
                        }
                        s[j] = dot / Math.sqrt(d) - slope * (i - j);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) sum += s[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
                    for (int j = 0; j < t; j++) {
                        if (s[j] == Double.NEGATIVE_INFINITY) continue;
                        double p = Math.exp(s[j] - max) / sum;
                        for (int x = 0; x < d; x++) {
                            ctx[(b * t + i) * c + h * d + x] += p * qkv[(b * t + j) * 3 * c + 2 * c + h * d + x];
                        }
                    }
                }
            }
        }
        return ctx;
    }

    /** Mean over marked rows of −log softmax(h_r·wteᵀ)[target_r]; 0 when none is marked. */
    static double crossEntropy(double[] h, int rows, int c, double[] wte, int vocab, int[] targets, boolean[] mask) {
        double total = 0;
        int marked = 0;
        for (int r = 0; r < rows; r++) {
            if (!mask[r]) continue;
            double[] logits = new double[vocab];
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                double s = 0;
                for (int i = 0; i < c; i++) s += h[r * c + i] * wte[v * c + i];
                logits[v] = s;
                max = Math.max(max, s);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) sum += Math.exp(logits[v] - max);
            total += max + Math.log(sum) - logits[targets[r]];
            marked++;
        }
        return marked == 0 ? 0 : total / marked;
    }

    static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    /** The slice of a flat float64 parameter vector that holds the tensor {@code name}. */
    static double[] slice(Parameters layout, double[] theta, String name) {
        Parameters.Param p = layout.get(name);
        double[] out = new double[p.size()];
        System.arraycopy(theta, p.offset(), out, 0, p.size());
        return out;
    }

    /** The tensor {@code name}, or null when the layout has none (a bias of a bias-free model). */
    static double[] sliceOrNull(Parameters layout, double[] theta, String name) {
        return layout.contains(name) ? slice(layout, theta, name) : null;
    }

    static double[] norm(org.attn4j.train.model.TransformerConfig cfg, Parameters layout, double[] theta, String prefix, double[] x, int rows) {
        int c = cfg.dModel();
        if (cfg.norm() == org.attn4j.train.model.TransformerConfig.Norm.RMS) {
            return rmsNorm(x, rows, c, slice(layout, theta, prefix + ".weight"), cfg.lnEps());
        }
        return layerNorm(x, rows, c, slice(layout, theta, prefix + ".weight"), slice(layout, theta, prefix + ".bias"), cfg.lnEps());
    }

    /**
     * The whole model's loss in float64: embeddings, pre-norm blocks (LayerNorm or RMSNorm; attention
     * with RoPE/ALiBi/window as configured, exact attention only; GELU or SwiGLU MLP of width
     * mlpRatio·C, or none for mlpRatio 0), final norm, tied or untied output, masked mean cross-entropy.
     */
    static double gptLoss(org.attn4j.train.model.TransformerConfig cfg, Parameters layout, double[] theta,
                          int[] tokens, int[] targets, boolean[] mask) {
        int t = cfg.seqLen(), c = cfg.dModel(), rows = tokens.length, batch = rows / t, hid = cfg.hidden();
        boolean swiglu = cfg.mlp() == org.attn4j.train.model.TransformerConfig.Mlp.SWIGLU;
        double[] wte = slice(layout, theta, "wte");
        double[] x = embed(tokens, rows, wte, cfg.learnedPositions() ? slice(layout, theta, "wpe") : null, t, c);
        for (int l = 0; l < cfg.layers(); l++) {
            String p = "h." + l;
            double[] a = norm(cfg, layout, theta, p + ".ln_1", x, rows);
            double[] qkv = linear(a, rows, c, slice(layout, theta, p + ".attn.c_attn.weight"), sliceOrNull(layout, theta, p + ".attn.c_attn.bias"), 3 * c);
            if (cfg.rope()) qkv = rope(qkv, rows, t, c, cfg.heads());
            double[] ctx = attention(qkv, batch, t, c, cfg.heads(), cfg.alibi(), cfg.window());
            double[] att = linear(ctx, rows, c, slice(layout, theta, p + ".attn.c_proj.weight"), sliceOrNull(layout, theta, p + ".attn.c_proj.bias"), c);
            double[] x1 = add(x, att);
            if (hid == 0) {           // mlpRatio 0: an attention-only block
                x = x1;
                continue;
            }
            double[] b = norm(cfg, layout, theta, p + ".ln_2", x1, rows);
            double[] fc = linear(b, rows, c, slice(layout, theta, p + ".mlp.c_fc.weight"), sliceOrNull(layout, theta, p + ".mlp.c_fc.bias"), swiglu ? 2 * hid : hid);
            double[] hidden = swiglu ? swiglu(fc, rows, hid) : gelu(fc);
            double[] mlp = linear(hidden, rows, hid, slice(layout, theta, p + ".mlp.c_proj.weight"), sliceOrNull(layout, theta, p + ".mlp.c_proj.bias"), c);
            x = add(x1, mlp);
        }
        double[] hf = norm(cfg, layout, theta, "ln_f", x, rows);
        double[] out = cfg.tiedOutput() ? wte : slice(layout, theta, "lm_head.weight");
        return crossEntropy(hf, rows, c, out, cfg.vocab(), targets, mask);
    }
}
