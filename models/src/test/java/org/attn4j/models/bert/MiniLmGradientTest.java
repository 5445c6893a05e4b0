package org.attn4j.models.bert;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.attn4j.models.tokenizer.WordPieceTokenizer;
import org.attn4j.models.weights.OnnxWeights;
import org.junit.jupiter.api.Test;

/**
 * Finite-difference spot checks of {@link BertGrad} on all-MiniLM-L6-v2 itself (the embedded ONNX
 * weights): the objective is the cosine of two sentences' mean-pooled embeddings, differentiated
 * analytically in float32 and by central differences of {@link Bert64} (float64, the same weights).
 * In each parameter tensor checked, the entry with the largest analytic gradient and one fixed
 * other entry; the largest word-vector entries of both sentences; two head gates; two attention
 * probabilities.
 */
class MiniLmGradientTest {
    static final double STEP = 1e-4;

    @Test
    void pairCosineSpotChecksAgainstFloat64() throws Exception {
        OnnxWeights.Loaded loaded = OnnxWeights.embeddedMiniLm();
        BertConfig cfg = loaded.config();
        WordPieceTokenizer tok = WordPieceTokenizer.embeddedMiniLm();
        int[][] ids = {tok.encode("A man is playing a guitar.", 64).ids(), tok.encode("Someone plays an instrument.", 64).ids()};
        BertGrad grad = new BertGrad(new BertEncoder(cfg, loaded.weights()));
        Bert64 m = new Bert64(cfg, loaded.weights());
        int h = cfg.hidden();

        BertGrad.Pass pass = grad.forward(grad.input(ids, null), null, 0);
        float[] a = pass.pooled(0, BertConfig.Pooling.MEAN), b = pass.pooled(1, BertConfig.Pooling.MEAN);
        float[] na = BertGrad.normalise(a), nb = BertGrad.normalise(b);
        float[] dHidden = new float[(ids[0].length + ids[1].length) * h];
        BertGrad.poolBackward(BertGrad.normaliseBackward(a, nb), 0, ids[0].length, h, BertConfig.Pooling.MEAN, dHidden);
        BertGrad.poolBackward(BertGrad.normaliseBackward(b, na), ids[0].length, ids[1].length, h, BertConfig.Pooling.MEAN, dHidden);
        BertGrad.Gradients g = pass.backward(dHidden, true);

        double[][][] words = {m.words(ids[0]), m.words(ids[1])};
        double[][] gates = new double[cfg.layers()][cfg.heads()];
        for (double[] row : gates) java.util.Arrays.fill(row, 1);
        List<String> report = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        java.util.function.BiConsumer<String, double[]> check = (what, an) -> {
            double analytic = an[0], numeric = an[1], scale = an[2];
            boolean ok = Math.abs(analytic - numeric) <= 2e-3 * Math.abs(numeric) + 2e-4 * scale;
            String line = String.format("%s: analytic %.6g numeric %.6g", what, analytic, numeric);
            report.add(line);
            if (!ok) failures.add(line);
        };

        for (String name : new String[] {"encoder.layer.0.attention.self.query.weight", "encoder.layer.2.attention.self.value.bias",
                "encoder.layer.3.intermediate.dense.weight", "encoder.layer.5.output.dense.weight", "encoder.layer.4.attention.output.LayerNorm.weight",
                "embeddings.LayerNorm.bias", "embeddings.position_embeddings.weight"}) {
            float[] an = g.parameters().get(name);
            int best = 0;
            double scale = 0;
            for (int i = 0; i < an.length; i++) if (Math.abs(an[i]) > scale) { scale = Math.abs(an[i]); best = i; }
            for (int i : new int[] {best, (int) ((an.length * 0.37) % an.length)}) {
                double[] theta = m.p.get(name);
                double keep = theta[i];
                theta[i] = keep + STEP;
                double plus = cosine(m, words, ids, gates);
                theta[i] = keep - STEP;
                double minus = cosine(m, words, ids, gates);
                theta[i] = keep;
                check.accept(name + "[" + i + "]", new double[] {an[i], (plus - minus) / (2 * STEP), scale});
            }
        }
        for (int s = 0; s < 2; s++) {
            float[] an = g.words()[s];
            int best = 0;
            for (int i = 0; i < an.length; i++) if (Math.abs(an[i]) > Math.abs(an[best])) best = i;
            double[] row = words[s][best / h];
            double keep = row[best % h];
            row[best % h] = keep + STEP;
            double plus = cosine(m, words, ids, gates);
            row[best % h] = keep - STEP;
            double minus = cosine(m, words, ids, gates);
            row[best % h] = keep;
            check.accept("words[" + s + "][" + best + "]", new double[] {an[best], (plus - minus) / (2 * STEP), Math.abs(an[best])});
        }
        for (int[] lh : new int[][] {{0, 3}, {4, 7}}) {
            double keep = gates[lh[0]][lh[1]];
            gates[lh[0]][lh[1]] = keep + STEP;
            double plus = cosine(m, words, ids, gates);
            gates[lh[0]][lh[1]] = keep - STEP;
            double minus = cosine(m, words, ids, gates);
            gates[lh[0]][lh[1]] = keep;
            double an = g.gates()[0][lh[0]][lh[1]] + g.gates()[1][lh[0]][lh[1]];
            check.accept("gate L" + lh[0] + "H" + lh[1], new double[] {an, (plus - minus) / (2 * STEP), Math.abs(an)});
        }
        for (int[] lbi : new int[][] {{1, 0, 2 * ids[0].length * ids[0].length + 3}, {5, 1, 5}}) {
            int layer = lbi[0], seq = lbi[1], idx = lbi[2], n = ids[seq].length;
            double[] pm = new double[2];
            for (int s = 0; s < 2; s++) {
                double delta = s == 0 ? STEP : -STEP;
                pm[s] = cosineEdited(m, words, ids, gates, (l, bb, p) -> {
                    if (l == layer && bb == seq) p[idx / (n * n)][idx / n % n][idx % n] += delta;
                });
            }
            float an = g.probs()[layer][seq][idx];
            check.accept("layer." + layer + ".attn.probs grad seq " + seq + " [" + idx + "]", new double[] {an, (pm[0] - pm[1]) / (2 * STEP), Math.abs(an)});
        }
        report.forEach(System.out::println);
        assertTrue(failures.isEmpty(), String.join("\n", failures));
    }

    private static double cosine(Bert64 m, double[][][] words, int[][] ids, double[][] gates) {
        return cosineEdited(m, words, ids, gates, null);
    }

    private static double cosineEdited(Bert64 m, double[][][] words, int[][] ids, double[][] gates, Bert64.ProbsEdit edit) {
        double[] a = Bert64.normalise(Bert64.pool(m.forward(0, words[0], null, gates, edit), BertConfig.Pooling.MEAN));
        double[] b = Bert64.normalise(Bert64.pool(m.forward(1, words[1], null, gates, edit), BertConfig.Pooling.MEAN));
        return Bert64.dot(a, b);
    }
}
