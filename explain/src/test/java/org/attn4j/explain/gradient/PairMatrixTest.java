package org.attn4j.explain.gradient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The A×B pair view: its entries add up to the cosine; the report JSON carries it and every strip and curve at full precision. */
class PairMatrixTest {
    static Embedder model;
    static GradientExplainer explainer;

    @BeforeAll
    static void load() throws Exception {
        model = Embedder.load(Embedder.MINILM);
        explainer = new GradientExplainer(model, 0);
    }

    /** On random states of odd sizes (one-token sequences included), Σ M = the cosine of the two means, computed separately. */
    @Test
    void entriesOfRandomStatesSumToTheCosineOfTheirMeans() {
        Random rnd = new Random(11);
        for (int[] s : new int[][] {{1, 1, 3}, {1, 5, 7}, {4, 1, 16}, {9, 13, 33}, {17, 6, 384}}) {
            int na = s[0], nb = s[1], h = s[2], gap = 2;
            float[] hidden = new float[(na + gap + nb) * h];
            for (int i = 0; i < hidden.length; i++) hidden[i] = (float) (rnd.nextGaussian() + 0.3);
            double[][] m = GradientExplainer.pairMatrix(hidden, 0, na, na + gap, nb, h);
            assertEquals(na, m.length);
            assertEquals(nb, m[0].length);
            double[] pa = new double[h], pb = new double[h];
            for (int c = 0; c < h; c++) {
                for (int i = 0; i < na; i++) pa[c] += hidden[i * h + c];
                for (int j = 0; j < nb; j++) pb[c] += hidden[(na + gap + j) * h + c];
            }
            double cos = dot(pa, pb) / Math.sqrt(dot(pa, pa) * dot(pb, pb)), sum = 0;
            for (double[] row : m) for (double v : row) sum += v;
            assertEquals(cos, sum, 1e-12, "sizes " + na + " x " + nb + " x " + h);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GradientExplainer.pairMatrix(new float[6], 0, 2, 2, 2, 3));
        assertTrue(e.getMessage().startsWith("hidden: expected at least 12 values, got 6"), e.getMessage());
    }

    /**
     * On MiniLM, Σ M equals f of the pair as the objective computes it from the encoder (float32
     * pooling, so within 1e-5), and row i's sum equals a_i's projection on B's unit embedding / n_A,
     * with a_i read from A encoded alone.
     */
    @Test
    void onMiniLmTheEntriesSumToTheCosineAndTheRowsAreProjections() {
        for (String[] p : new String[][] {{"A man is playing a guitar.", "Someone plays an instrument."}, {"Hi", "The weather was sunny all week, with no rain at all."},
                {"Stocks fell sharply on Monday.", "Stocks fell sharply on Monday."}}) {
            var ex = explainer.example(p[0], p[1], null);
            double[][] m = explainer.pairMatrix(ex);
            int na = ex.ids()[0].length, nb = ex.ids()[1].length, h = explainer.config().hidden();
            assertEquals(na, m.length);
            assertEquals(nb, m[0].length);
            double sum = 0;
            for (double[] row : m) for (double v : row) sum += v;
            double f = explainer.value(ex);
            assertEquals(f, sum, 1e-5, p[0] + " | " + p[1]);
            BertEncoder.Output a = model.encoder().forward(new int[][] {ex.ids()[0]}, null, 1);
            float[] unitB = org.attn4j.models.bert.BertGrad.normalise(explainer.pooled(ex.ids()[1]));
            double normA = Math.sqrt(dotF(explainer.pooled(ex.ids()[0]), explainer.pooled(ex.ids()[0])));
            for (int i = 0; i < na; i++) {
                double proj = 0, row = 0;
                for (int c = 0; c < h; c++) proj += (double) a.hidden()[i * h + c] * unitB[c];
                for (double v : m[i]) row += v;
                assertEquals(proj / (na * normA), row, 1e-5, "row " + i);
            }
            System.out.printf("pair matrix %d x %d: sum %.9f, f %.9f, difference %.2e%n", na, nb, sum, f, Math.abs(sum - f));
        }
        var self = explainer.example("The cat sat on the mat.", null, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> explainer.pairMatrix(self));
        assertTrue(e.getMessage().startsWith("example: expected a pair"), e.getMessage());
    }

    /** The JSON holds what the report draws, at full precision, and reads back to the same numbers; the report has one cell per entry. */
    @Test
    void jsonRoundTripAndTheReportsElements() throws Exception {
        var ex = explainer.example("Where is the cat?", "On the mat.", null);
        var methods = EnumSet.of(GradientExplainer.Method.GRAD_INPUT, GradientExplainer.Method.RELEVANCE, GradientExplainer.Method.ROLLOUT);
        GradientReport r = GradientReport.run(explainer, ex, methods, new GradientReport.Options(4, 2, null, null));
        ObjectMapper om = new ObjectMapper();
        JsonNode g = om.readTree(om.writeValueAsString(r.json()));
        assertEquals(List.of("rollout", "grad-input", "relevance"), om.convertValue(g.get("methods"), List.class));
        JsonNode pm = g.get("pair_matrix");
        assertTrue(pm.get("available").asBoolean());
        int na = ex.ids()[0].length, nb = ex.ids()[1].length;
        assertEquals(na, pm.get("matrix").size());
        assertEquals(na, pm.get("tokens_a").size());
        assertEquals(nb, pm.get("tokens_b").size());
        for (int i = 0; i < na; i++) for (int j = 0; j < nb; j++) assertEquals(r.pairMatrix[i][j], pm.get("matrix").get(i).get(j).asDouble(), 0.0);
        assertEquals(g.get("objective").get("value").asDouble(), pm.get("sum").asDouble(), 1e-5);
        for (var m : r.scores.keySet()) {
            for (int i = 0; i < ex.size(); i++) assertEquals(r.scores.get(m)[i], g.get("scores").get(m.id).get(i).asDouble(), 0.0);
        }
        for (var f : r.faithfulness.entrySet()) {
            JsonNode c = g.get("faithfulness").get("methods").get(f.getKey());
            for (int i = 0; i < f.getValue().deletion().length; i++) assertEquals(f.getValue().deletion()[i], c.get("deletion").get(i).asDouble(), 0.0);
            assertEquals(f.getValue().insertionAuc(), c.get("insertion_auc").asDouble(), 0.0);
        }
        assertEquals(2, g.get("faithfulness").get("random_seeds").asInt());

        String html = org.attn4j.explain.report.HtmlReportAccess.gradientSection(r);
        assertEquals(3, count(html, "<tr class=\"strip\""), "one strip per token method");
        for (var m : r.scores.keySet()) {
            Matcher row = Pattern.compile("<tr class=\"strip\" id=\"strip-" + Pattern.quote(m.id) + "\">(.*?)</tr>").matcher(html);
            assertTrue(row.find(), m.id);
            assertEquals(ex.size(), count(row.group(1), "class=\"tok\""), m.id + ": one span per token");
        }
        assertEquals(na * nb, count(html, "<td class=\"pm\""), "one cell per (token of A, token of B)");
        assertTrue(html.contains(String.format(java.util.Locale.ROOT, "<td class=\"pm-total\">%.4f</td>", r.pairMatrixSum())));
        for (String chart : new String[] {"deletion", "insertion"}) {
            Matcher svg = Pattern.compile("<svg class=\"curve-chart\" id=\"curve-" + chart + "\".*?</svg>", Pattern.DOTALL).matcher(html);
            assertTrue(svg.find(), chart);
            assertEquals(4, count(svg.group(), "<polyline class=\"curve\""), chart + ": a curve per method and random");
            Matcher pts = Pattern.compile("data-method=\"grad-input\"[^>]*points=\"([^\"]*)\"").matcher(svg.group());
            assertTrue(pts.find());
            assertEquals(r.faithfulness.get("grad-input").deletion().length, pts.group(1).split(" ").length, "a point per step");
        }
        // one text: no pair view, and the field is null
        GradientReport one = GradientReport.run(explainer, explainer.example("Where is the cat?", null, null), EnumSet.of(GradientExplainer.Method.GRAD_INPUT),
                new GradientReport.Options(4, 0, null, null));
        assertTrue(one.json().get("pair_matrix").isNull());
        String oneHtml = org.attn4j.explain.report.HtmlReportAccess.gradientSection(one);
        assertTrue(!oneHtml.contains("id=\"pair-view\"") && !oneHtml.contains("id=\"faithfulness\""), "no pair view, no faithfulness with 0 seeds");
    }

    /**
     * On a small random BERT with MiniLM's tokenizer: under mean pooling the entries add up to f;
     * under CLS pooling there is no matrix, and the JSON and the report say so.
     */
    @Test
    void clsPoolingHasNoMatrixAndSaysWhy() {
        for (BertConfig.Pooling pooling : BertConfig.Pooling.values()) {
            GradientExplainer tiny = new GradientExplainer(Embedder.of("tiny-" + pooling, randomBert(pooling), model.tokenizer()), 1);
            var ex = tiny.example("Where is the cat?", "On the mat.", null);
            GradientReport r = GradientReport.run(tiny, ex, EnumSet.of(GradientExplainer.Method.GRAD_INPUT), new GradientReport.Options(4, 0, null, null));
            JsonNode pm = r.json().get("pair_matrix");
            String html = org.attn4j.explain.report.HtmlReportAccess.gradientSection(r);
            if (pooling == BertConfig.Pooling.MEAN) {
                assertEquals(tiny.value(ex), r.pairMatrixSum(), 1e-5);
                assertTrue(pm.get("available").asBoolean());
            } else {
                assertNull(r.pairMatrix);
                assertTrue(!pm.get("available").asBoolean() && pm.get("matrix").isNull() && pm.get("reason").asText().contains("[CLS]"), pm.toString());
                assertTrue(html.contains("id=\"pair-view\"") && html.contains("Not available: the model pools the [CLS] state") && !html.contains("class=\"pm\""), html);
                assertTrue(r.text().contains("A x B token matrix: not available"), r.text());
            }
        }
    }

    /** A 2-layer BERT (hidden 16, 2 heads) with random weights over MiniLM's vocabulary. */
    static BertEncoder randomBert(BertConfig.Pooling pooling) {
        int h = 16, inner = 32, layers = 2, vocab = model.encoder().config().vocabSize(), positions = 64;
        BertConfig cfg = new BertConfig(h, layers, 2, inner, positions, vocab, 2, 1e-12, pooling);
        Random r = new Random(5);
        java.util.Map<String, org.attn4j.core.tensor.Tensor> m = new java.util.HashMap<>();
        put(m, r, "embeddings.word_embeddings.weight", 1, vocab, h);
        put(m, r, "embeddings.position_embeddings.weight", 1, positions, h);
        put(m, r, "embeddings.token_type_embeddings.weight", 1, 2, h);
        layerNorm(m, r, "embeddings.LayerNorm", h);
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            for (String n : new String[] {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
                put(m, r, p + n + ".weight", 0.5, h, h);
                put(m, r, p + n + ".bias", 0.1, h);
            }
            layerNorm(m, r, p + "attention.output.LayerNorm", h);
            put(m, r, p + "intermediate.dense.weight", 0.5, h, inner);
            put(m, r, p + "intermediate.dense.bias", 0.1, inner);
            put(m, r, p + "output.dense.weight", 0.2, inner, h);
            put(m, r, p + "output.dense.bias", 0.1, h);
            layerNorm(m, r, p + "output.LayerNorm", h);
        }
        return new BertEncoder(cfg, new org.attn4j.models.weights.ModelWeights(m, "random"));
    }

    static void put(java.util.Map<String, org.attn4j.core.tensor.Tensor> m, Random r, String name, double sigma, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * sigma);
        m.put(name, org.attn4j.core.tensor.Tensor.of(a, shape));
    }

    static void layerNorm(java.util.Map<String, org.attn4j.core.tensor.Tensor> m, Random r, String name, int h) {
        float[] g = new float[h], b = new float[h];
        for (int i = 0; i < h; i++) {
            g[i] = (float) (1 + 0.2 * r.nextGaussian());
            b[i] = (float) (0.1 * r.nextGaussian());
        }
        m.put(name + ".weight", org.attn4j.core.tensor.Tensor.of(g, h));
        m.put(name + ".bias", org.attn4j.core.tensor.Tensor.of(b, h));
    }

    static int count(String s, String needle) {
        int n = 0;
        for (int at = s.indexOf(needle); at >= 0; at = s.indexOf(needle, at + 1)) n++;
        return n;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double dotF(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
