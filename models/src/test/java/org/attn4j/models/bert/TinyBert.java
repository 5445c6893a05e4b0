package org.attn4j.models.bert;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.weights.ModelWeights;

/** A small random BERT and a float64 forward pass written straight from the definitions (the test oracle). */
final class TinyBert {
    final BertConfig cfg;
    final ModelWeights weights;

    TinyBert(long seed, int hidden, int heads, int inner, int layers, int vocab, int positions) {
        cfg = new BertConfig(hidden, layers, heads, inner, positions, vocab, 2, 1e-12, BertConfig.Pooling.MEAN);
        Random r = new Random(seed);
        Map<String, Tensor> m = new HashMap<>();
        put(m, r, "embeddings.word_embeddings.weight", 1f, vocab, hidden);
        put(m, r, "embeddings.position_embeddings.weight", 1f, positions, hidden);
        put(m, r, "embeddings.token_type_embeddings.weight", 1f, 2, hidden);
        putLn(m, r, "embeddings.LayerNorm", hidden);
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            float s = (float) (1 / Math.sqrt(hidden));
            for (String n : new String[] {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
                put(m, r, p + n + ".weight", s * 2, hidden, hidden);
                put(m, r, p + n + ".bias", 0.1f, hidden);
            }
            putLn(m, r, p + "attention.output.LayerNorm", hidden);
            put(m, r, p + "intermediate.dense.weight", s * 2, hidden, inner);
            put(m, r, p + "intermediate.dense.bias", 0.1f, inner);
            put(m, r, p + "output.dense.weight", (float) (1 / Math.sqrt(inner)), inner, hidden);
            put(m, r, p + "output.dense.bias", 0.1f, hidden);
            putLn(m, r, p + "output.LayerNorm", hidden);
        }
        weights = new ModelWeights(m, "tiny-bert(seed " + seed + ")");
    }

    private static void put(Map<String, Tensor> m, Random r, String name, float sigma, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * sigma);
        m.put(name, Tensor.of(a, shape));
    }

    private static void putLn(Map<String, Tensor> m, Random r, String name, int h) {
        float[] g = new float[h], b = new float[h];
        for (int i = 0; i < h; i++) {
            g[i] = (float) (1 + 0.2 * r.nextGaussian());
            b[i] = (float) (0.1 * r.nextGaussian());
        }
        m.put(name + ".weight", Tensor.of(g, h));
        m.put(name + ".bias", Tensor.of(b, h));
    }

    double w(String name, int... idx) {
        return weights.get(name).get(idx);
    }

    /** Last hidden state [len][H] of one sequence, float64 throughout. */
    double[][] forward(int[] ids, int[] types) {
        int n = ids.length, h = cfg.hidden();
        double[][] x = new double[n][h];
        for (int t = 0; t < n; t++)
            for (int c = 0; c < h; c++)
                x[t][c] = w("embeddings.word_embeddings.weight", ids[t], c) + w("embeddings.position_embeddings.weight", t, c)
                        + w("embeddings.token_type_embeddings.weight", types == null ? 0 : types[t], c);
        x = ln(x, "embeddings.LayerNorm");
        for (int l = 0; l < cfg.layers(); l++) {
            String p = "encoder.layer." + l + ".";
            double[][] q = lin(x, p + "attention.self.query"), k = lin(x, p + "attention.self.key"), v = lin(x, p + "attention.self.value");
            double[][] ctx = new double[n][h];
            int hd = cfg.headDim();
            for (int head = 0; head < cfg.heads(); head++) {
                for (int i = 0; i < n; i++) {
                    double[] s = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        for (int d = 0; d < hd; d++) s[j] += q[i][head * hd + d] * k[j][head * hd + d];
                        s[j] /= Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < n; j++) z += Math.exp(s[j] - max);
                    for (int j = 0; j < n; j++)
                        for (int d = 0; d < hd; d++) ctx[i][head * hd + d] += Math.exp(s[j] - max) / z * v[j][head * hd + d];
                }
            }
            x = ln(add(x, lin(ctx, p + "attention.output.dense")), p + "attention.output.LayerNorm");
            double[][] inner = lin(x, p + "intermediate.dense");
            for (double[] row : inner) for (int c = 0; c < row.length; c++) row[c] = 0.5 * row[c] * (1 + erf(row[c] / Math.sqrt(2)));
            x = ln(add(x, lin(inner, p + "output.dense")), p + "output.LayerNorm");
        }
        return x;
    }

    private double[][] lin(double[][] x, String name) {
        Tensor wt = weights.get(name + ".weight");
        int in = wt.dim(0), out = wt.dim(1);
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++)
            for (int o = 0; o < out; o++) {
                double s = w(name + ".bias", o);
                for (int i = 0; i < in; i++) s += x[t][i] * wt.get(i, o);
                y[t][o] = s;
            }
        return y;
    }

    private double[][] ln(double[][] x, String name) {
        int h = x[0].length;
        double[][] y = new double[x.length][h];
        for (int t = 0; t < x.length; t++) {
            double mean = 0, var = 0;
            for (double v : x[t]) mean += v / h;
            for (double v : x[t]) var += (v - mean) * (v - mean) / h;
            for (int c = 0; c < h; c++) y[t][c] = (x[t][c] - mean) / Math.sqrt(var + cfg.layerNormEps()) * w(name + ".weight", c) + w(name + ".bias", c);
        }
        return y;
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] y = new double[a.length][a[0].length];
        for (int t = 0; t < a.length; t++) for (int c = 0; c < a[0].length; c++) y[t][c] = a[t][c] + b[t][c];
        return y;
    }

    /** erf by Simpson integration of its definition (independent of the code under test). */
    static double erf(double z) {
        int n = 400;
        double h = z / n, sum = 0;
        for (int i = 0; i <= n; i++) {
            double f = Math.exp(-(i * h) * (i * h));
            sum += (i == 0 || i == n ? 1 : (i % 2 == 1 ? 4 : 2)) * f;
        }
        return 2 / Math.sqrt(Math.PI) * sum * h / 3;
    }
}
