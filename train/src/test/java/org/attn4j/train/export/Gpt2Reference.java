package org.attn4j.train.export;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import org.attn4j.models.weights.ModelWeights;
import org.attn4j.models.weights.SafetensorsWeights;

/**
 * GPT-2's forward pass written from its definition, in float64, reading a Hugging Face GPT-2
 * directory ({@code config.json} + {@code model.safetensors}, Conv1D matrices {@code [in, out]}):
 * what a runtime that knows nothing of attn4j computes from an export. One sequence at a time;
 * slow and plain on purpose.
 */
final class Gpt2Reference {
    final int vocab, positions, c, layers, heads, inner;
    final double eps;
    private final ModelWeights w;

    Gpt2Reference(Path dir) throws IOException {
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        vocab = cfg.get("vocab_size").asInt();
        positions = cfg.get("n_positions").asInt();
        c = cfg.get("n_embd").asInt();
        layers = cfg.get("n_layer").asInt();
        heads = cfg.get("n_head").asInt();
        inner = cfg.get("n_inner").asInt();
        eps = cfg.get("layer_norm_epsilon").asDouble();
        w = SafetensorsWeights.readTensors(dir.resolve("model.safetensors"));
    }

    private float[] t(String name) { return w.get(name).toArray(); }

    /** Logits {@code [T][V]} of one sequence of at most n_positions tokens. */
    double[][] logits(int[] tokens) {
        int n = tokens.length;
        float[] wte = t("transformer.wte.weight"), wpe = t("transformer.wpe.weight");
        double[][] x = new double[n][c];
        for (int i = 0; i < n; i++) for (int j = 0; j < c; j++) x[i][j] = wte[tokens[i] * c + j] + wpe[i * c + j];
        int d = c / heads;
        for (int l = 0; l < layers; l++) {
            String p = "transformer.h." + l + ".";
            double[][] h = layerNorm(x, t(p + "ln_1.weight"), t(p + "ln_1.bias"));
            double[][] qkv = conv1d(h, t(p + "attn.c_attn.weight"), t(p + "attn.c_attn.bias"), 3 * c);
            double[][] ctx = new double[n][c];
            for (int hd = 0; hd < heads; hd++) {
                for (int i = 0; i < n; i++) {
                    double[] s = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double dot = 0;
                        for (int k = 0; k < d; k++) dot += qkv[i][hd * d + k] * qkv[j][c + hd * d + k];
                        s[j] = dot / Math.sqrt(d);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j <= i; j++) z += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j <= i; j++) for (int k = 0; k < d; k++) ctx[i][hd * d + k] += s[j] / z * qkv[j][2 * c + hd * d + k];
                }
            }
            double[][] a = conv1d(ctx, t(p + "attn.c_proj.weight"), t(p + "attn.c_proj.bias"), c);
            for (int i = 0; i < n; i++) for (int j = 0; j < c; j++) x[i][j] += a[i][j];
            double[][] m = conv1d(layerNorm(x, t(p + "ln_2.weight"), t(p + "ln_2.bias")), t(p + "mlp.c_fc.weight"), t(p + "mlp.c_fc.bias"), inner);
            for (double[] row : m) {
                for (int j = 0; j < inner; j++) {
                    double v = row[j];
                    row[j] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                }
            }
            double[][] o = conv1d(m, t(p + "mlp.c_proj.weight"), t(p + "mlp.c_proj.bias"), c);
            for (int i = 0; i < n; i++) for (int j = 0; j < c; j++) x[i][j] += o[i][j];
        }
        double[][] f = layerNorm(x, t("transformer.ln_f.weight"), t("transformer.ln_f.bias"));
        double[][] logits = new double[n][vocab];
        for (int i = 0; i < n; i++) {
            for (int v = 0; v < vocab; v++) {
                double s = 0;
                for (int j = 0; j < c; j++) s += f[i][j] * wte[v * c + j];
                logits[i][v] = s;
            }
        }
        return logits;
    }

    /** Mean cross-entropy (natural log) of {@code targets} over the marked positions of one sequence. */
    double loss(int[] tokens, int[] targets, boolean[] mask) {
        double[][] lg = logits(tokens);
        double sum = 0;
        int count = 0;
        for (int i = 0; i < tokens.length; i++) {
            if (!mask[i]) continue;
            double max = Double.NEGATIVE_INFINITY;
            for (double v : lg[i]) max = Math.max(max, v);
            double z = 0;
            for (double v : lg[i]) z += Math.exp(v - max);
            sum += Math.log(z) + max - lg[i][targets[i]];
            count++;
        }
        return sum / count;
    }

    private double[][] layerNorm(double[][] x, float[] g, float[] b) {
        double[][] out = new double[x.length][c];
        for (int i = 0; i < x.length; i++) {
            double mean = 0, var = 0;
            for (double v : x[i]) mean += v;
            mean /= c;
            for (double v : x[i]) var += (v - mean) * (v - mean);
            var /= c;
            double r = 1 / Math.sqrt(var + eps);
            for (int j = 0; j < c; j++) out[i][j] = (x[i][j] - mean) * r * g[j] + b[j];
        }
        return out;
    }

    /** Hugging Face's Conv1D: {@code y = x·W + b} with W {@code [in, out]}. */
    private static double[][] conv1d(double[][] x, float[] wt, float[] b, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int k = 0; k < in; k++) s += x[i][k] * wt[k * out + o];
                y[i][o] = s;
            }
        }
        return y;
    }
}
