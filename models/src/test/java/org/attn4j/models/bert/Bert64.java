package org.attn4j.models.bert;

import java.util.LinkedHashMap;
import java.util.Map;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.weights.ModelWeights;

/**
 * A BERT forward pass in float64 written from the definitions, sharing no code with
 * {@link BertGrad}: parameters are plain {@code double[]} under canonical names, so central finite
 * differences can perturb any entry, and the word-embedding vectors, head gates ξ and attention
 * probabilities are inputs too. The reference for every backward check.
 */
final class Bert64 {
    /** Edits one sequence's attention probabilities {@code [heads][n][n]} of a layer in place. */
    interface ProbsEdit {
        void edit(int layer, int seq, double[][][] p);
    }

    final BertConfig cfg;
    final Map<String, double[]> p = new LinkedHashMap<>();

    Bert64(BertConfig cfg, ModelWeights w) {
        this.cfg = cfg;
        for (String name : BertWeightsNames.of(cfg)) {
            Tensor t = w.get(name);
            float[] a = t.contiguous().toArray();
            double[] d = new double[a.length];
            for (int i = 0; i < a.length; i++) d[i] = a[i];
            p.put(name, d);
        }
    }

    /** Word-embedding vectors of the ids, [n][H]. */
    double[][] words(int[] ids) {
        int h = cfg.hidden();
        double[][] x = new double[ids.length][h];
        for (int t = 0; t < ids.length; t++) for (int c = 0; c < h; c++) x[t][c] = p.get("embeddings.word_embeddings.weight")[ids[t] * h + c];
        return x;
    }

    /** Sees one layer's query, key and value projections [n][H] of a sequence. */
    interface QkvTap {
        void qkv(int layer, double[][] q, double[][] k, double[][] v);
    }

    /** Last hidden state [n][H] of one sequence. */
    double[][] forward(int seq, double[][] words, int[] types, double[][] gates, ProbsEdit edit) {
        return forward(seq, words, types, gates, edit, null);
    }

    /** {@link #forward(int, double[][], int[], double[][], ProbsEdit)}, showing every layer's projections to {@code tap}. */
    double[][] forward(int seq, double[][] words, int[] types, double[][] gates, ProbsEdit edit, QkvTap tap) {
        int n = words.length, h = cfg.hidden(), hd = cfg.headDim();
        double[][] x = new double[n][h];
        for (int t = 0; t < n; t++)
            for (int c = 0; c < h; c++)
                x[t][c] = words[t][c] + p.get("embeddings.position_embeddings.weight")[t * h + c]
                        + p.get("embeddings.token_type_embeddings.weight")[(types == null ? 0 : types[t]) * h + c];
        x = ln(x, "embeddings.LayerNorm");
        for (int l = 0; l < cfg.layers(); l++) {
            String pre = "encoder.layer." + l + ".";
            double[][] q = lin(x, pre + "attention.self.query"), k = lin(x, pre + "attention.self.key"), v = lin(x, pre + "attention.self.value");
            if (tap != null) tap.qkv(l, q, k, v);
            double[][][] probs = new double[cfg.heads()][n][n];
            for (int head = 0; head < cfg.heads(); head++) {
                for (int i = 0; i < n; i++) {
                    double[] s = new double[n];
                    double max = Double.NEGATIVE_INFINITY, z = 0;
                    for (int j = 0; j < n; j++) {
                        for (int d = 0; d < hd; d++) s[j] += q[i][head * hd + d] * k[j][head * hd + d];
                        s[j] /= Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    for (int j = 0; j < n; j++) z += Math.exp(s[j] - max);
                    for (int j = 0; j < n; j++) probs[head][i][j] = Math.exp(s[j] - max) / z;
                }
            }
            if (edit != null) edit.edit(l, seq, probs);
            double[][] ctx = new double[n][h];
            for (int head = 0; head < cfg.heads(); head++) {
                double g = gates == null ? 1 : gates[l][head];
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++)
                        for (int d = 0; d < hd; d++) ctx[i][head * hd + d] += g * probs[head][i][j] * v[j][head * hd + d];
            }
            x = ln(add(x, lin(ctx, pre + "attention.output.dense")), pre + "attention.output.LayerNorm");
            double[][] inner = lin(x, pre + "intermediate.dense");
            for (double[] row : inner) for (int c = 0; c < row.length; c++) row[c] = 0.5 * row[c] * (1 + TinyBert.erf(row[c] / Math.sqrt(2)));
            x = ln(add(x, lin(inner, pre + "output.dense")), pre + "output.LayerNorm");
        }
        return x;
    }

    /** Mean of the rows or the first row. */
    static double[] pool(double[][] x, BertConfig.Pooling pooling) {
        int rows = pooling == BertConfig.Pooling.CLS ? 1 : x.length;
        double[] y = new double[x[0].length];
        for (int t = 0; t < rows; t++) for (int c = 0; c < y.length; c++) y[c] += x[t][c] / rows;
        return y;
    }

    static double[] normalise(double[] x) {
        double ss = 0;
        for (double v : x) ss += v * v;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] / Math.sqrt(ss);
        return y;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    private double[][] lin(double[][] x, String name) {
        double[] w = p.get(name + ".weight"), b = p.get(name + ".bias");
        int in = x[0].length, out = b.length;
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++)
            for (int o = 0; o < out; o++) {
                double s = b[o];
                for (int i = 0; i < in; i++) s += x[t][i] * w[i * out + o];
                y[t][o] = s;
            }
        return y;
    }

    private double[][] ln(double[][] x, String name) {
        int h = x[0].length;
        double[] gamma = p.get(name + ".weight"), beta = p.get(name + ".bias");
        double[][] y = new double[x.length][h];
        for (int t = 0; t < x.length; t++) {
            double mean = 0, var = 0;
            for (double v : x[t]) mean += v / h;
            for (double v : x[t]) var += (v - mean) * (v - mean) / h;
            for (int c = 0; c < h; c++) y[t][c] = (x[t][c] - mean) / Math.sqrt(var + cfg.layerNormEps()) * gamma[c] + beta[c];
        }
        return y;
    }

    private static double[][] add(double[][] a, double[][] b) {
        double[][] y = new double[a.length][a[0].length];
        for (int t = 0; t < a.length; t++) for (int c = 0; c < a[0].length; c++) y[t][c] = a[t][c] + b[t][c];
        return y;
    }

    /** The canonical tensor names of a BERT config, in BertGrad's order. */
    static final class BertWeightsNames {
        static java.util.List<String> of(BertConfig cfg) {
            java.util.List<String> n = new java.util.ArrayList<>(java.util.List.of("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                    "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"));
            for (int l = 0; l < cfg.layers(); l++) {
                String pre = "encoder.layer." + l + ".";
                for (String s : new String[] {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
                    n.add(pre + s + ".weight");
                    n.add(pre + s + ".bias");
                }
                n.add(pre + "attention.output.LayerNorm.weight");
                n.add(pre + "attention.output.LayerNorm.bias");
                for (String s : new String[] {"intermediate.dense", "output.dense"}) {
                    n.add(pre + s + ".weight");
                    n.add(pre + s + ".bias");
                }
                n.add(pre + "output.LayerNorm.weight");
                n.add(pre + "output.LayerNorm.bias");
            }
            return n;
        }
    }
}
