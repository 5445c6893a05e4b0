package org.attn4j.explain.gradient;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Gradient explanations on all-MiniLM-L6-v2, and the rules on hand-computed cases. */
class GradientExplainerTest {
    static Embedder model;
    static GradientExplainer explainer;

    @BeforeAll
    static void load() throws Exception {
        model = Embedder.load(Embedder.MINILM);
        explainer = new GradientExplainer(model, 0);
    }

    @Test
    void objectivesEqualTheEmbedderOnItsOwnPath() {
        var pair = explainer.example("A man is playing a guitar.", "Someone plays an instrument.", null);
        float[][] e = model.embed(List.of("A man is playing a guitar.", "Someone plays an instrument."));
        double cos = 0;
        for (int i = 0; i < e[0].length; i++) cos += e[0][i] * e[1][i];
        assertEquals(cos, explainer.value(pair), 1e-5, "pair objective = cosine of the embedder's embeddings");
        // the differentiable pass and the encoder's fast path agree on f
        assertEquals(explainer.value(pair), explainer.valueAt(pair, explainer.wordVectors(pair)), 1e-5);
        var target = explainer.example("A man is playing a guitar.", null, "Someone plays an instrument.");
        assertEquals(cos, explainer.value(target), 1e-5, "target objective = cosine to the target's embedding");
        var self = explainer.example("A man is playing a guitar.", null, null);
        float[] p = explainer.pooled(self.ids()[0]);
        double norm2 = 0;
        for (float v : p) norm2 += v * v;
        assertEquals(norm2, explainer.value(self), 1e-4 * norm2, "self objective at x = |p|^2");
    }

    @Test
    void integratedGradientsAreCompleteWithinOnePercent() {
        for (String[] t : new String[][] {{"A man is playing a guitar.", "Someone plays an instrument."}, {"The cat sat on the mat because it was tired.", null},
                {"Stocks fell sharply on Monday.", "The weather was sunny all week."}}) {
            var ex = explainer.example(t[0], t[1], null);
            var ig = explainer.integratedGradients(ex, 32);
            double sum = 0;
            for (double v : ig.scores()) sum += v;
            assertEquals(explainer.value(ex), ig.value(), 1e-4, "f(x) of the IG batch equals the encoder's");
            assertTrue(ig.completenessGap() < 0.01, "gap " + ig.completenessGap() + " for " + t[0]);
            assertEquals(ig.value() - ig.baselineValue(), sum, 0.01 * Math.abs(ig.value() - ig.baselineValue()));
            for (int i = 0; i < ex.size(); i++) if (ex.special(i)) assertEquals(0.0, ig.scores()[i], "[CLS]/[SEP] are not baselined");
            System.out.printf("IG gap %.5f (32 steps) on '%s'%n", ig.completenessGap(), t[0]);
        }
    }

    /** The trapezoid rule's error shrinks with the steps: the gap at 20 steps is below the gap at 5. */
    @Test
    void theCompletenessGapShrinksWithTheSteps() {
        var ex = explainer.example("A young man is playing an old guitar on the stage.", "Someone performs music with an instrument.", null);
        double[] gaps = new double[4];
        int[] steps = {5, 10, 16, 20};
        for (int i = 0; i < steps.length; i++) gaps[i] = explainer.integratedGradients(ex, steps[i]).completenessGap();
        System.out.printf("IG completeness gap by steps %s: %s%n", java.util.Arrays.toString(steps), java.util.Arrays.toString(gaps));
        assertTrue(gaps[3] < gaps[0], java.util.Arrays.toString(gaps));
        assertTrue(gaps[3] < 0.01, java.util.Arrays.toString(gaps));
    }

    @Test
    void gradientTimesInputIsTheDirectionalDerivativeAlongEachTokensOwnVector() {
        var ex = explainer.example("A man is playing a guitar.", "Someone plays an instrument.", null);
        double[] gi = explainer.gradientTimesInput(ex);
        float[][] x = explainer.wordVectors(ex);
        int h = explainer.config().hidden();
        for (int[] st : new int[][] {{0, 3}, {1, 2}, {0, 6}}) {
            int seq = st[0], t = st[1], flat = seq == 0 ? t : ex.ids()[0].length + t;
            double eps = 1e-2;
            float[][] plus = copy(x), minus = copy(x);
            for (int c = 0; c < h; c++) {
                plus[seq][t * h + c] *= (float) (1 + eps);
                minus[seq][t * h + c] *= (float) (1 - eps);
            }
            double numeric = (explainer.valueAt(ex, plus) - explainer.valueAt(ex, minus)) / (2 * eps);
            assertEquals(numeric, gi[flat], 2e-3 * Math.abs(numeric) + 2e-4, "token " + ex.flatTokens()[flat]);
        }
    }

    /** The cosine of the mean-pooled, normalised embeddings of two id sequences, computed through the encoder and Embedder.pool. */
    static final class BertEncoderCheck {
        static void assertPairCosine(Embedder model, int[][] ids, double expected) {
            var out = model.encoder().forward(ids, null, 1);
            float[] a = Embedder.pool(out, 0, model.encoder().config().pooling()), b = Embedder.pool(out, 1, model.encoder().config().pooling());
            double cos = 0;
            for (int i = 0; i < a.length; i++) cos += a[i] * b[i];
            assertEquals(cos, expected, 1e-5);
        }
    }

    static float[][] copy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) c[i] = a[i].clone();
        return c;
    }

    @Test
    void relevanceRuleOnAHandComputedCase() {
        // one layer, one head, two tokens: A = [[.5, .5], [.2, .8]], dA = [[1, -1], [2, 1]]
        // Ā = max(0, A ⊙ dA) = [[.5, 0], [.4, .8]]; R = I + Ā·I = [[1.5, 0], [.4, 1.8]]
        double[][] r = GradientExplainer.relevanceMatrix(new float[][] {{.5f, .5f, .2f, .8f}}, new float[][] {{1, -1, 2, 1}}, 1, 2);
        assertEquals(1.5, r[0][0], 1e-7);
        assertEquals(0.0, r[0][1], 1e-7);
        assertEquals(0.4, r[1][0], 1e-7);
        assertEquals(1.8, r[1][1], 1e-7);
        // two layers, two heads: the second layer multiplies the first's R; heads are averaged after clamping
        float[] a2 = {1, 0, 0, 1, /* head 2 */ 0, 1, 1, 0};
        float[] g2 = {1, 0, 0, 1, /* head 2 */ 0, -1, 2, 0};
        // Ā2 = mean([[1,0],[0,1]], [[0,0],[2,0]]) = [[.5, 0], [1, .5]]; R2 = R + Ā2·R
        // R = [[1.5, 0], [.4, 1.8]] from layer 1 (as two identical heads); Ā2·R = [[.75, 0], [1.5 + .2, .9]]
        double[][] first = GradientExplainer.relevanceMatrix(new float[][] {{.5f, .5f, .2f, .8f, .5f, .5f, .2f, .8f}},
                new float[][] {{1, -1, 2, 1, 1, -1, 2, 1}}, 2, 2);
        assertEquals(1.5, first[0][0], 1e-7);
        double[][] both = GradientExplainer.relevanceMatrix(new float[][] {{.5f, .5f, .2f, .8f, .5f, .5f, .2f, .8f}, a2},
                new float[][] {{1, -1, 2, 1, 1, -1, 2, 1}, g2}, 2, 2);
        assertEquals(1.5 + .75, both[0][0], 1e-6);
        assertEquals(0.0, both[0][1], 1e-7);
        assertEquals(.4 + 1.7, both[1][0], 1e-6);
        assertEquals(1.8 + .9, both[1][1], 1e-6);
        assertThrows(IllegalArgumentException.class, () -> GradientExplainer.relevanceMatrix(new float[][] {{1}}, new float[][] {{1}}, 1, 2));
    }

    @Test
    void spearmanOnHandComputedCases() {
        assertEquals(0.8, GradientExplainer.spearman(new double[] {1, 2, 3, 4}, new double[] {1, 3, 2, 4}), 1e-12);
        assertEquals(-1.0, GradientExplainer.spearman(new double[] {1, 2, 3}, new double[] {9, 5, 1}), 1e-12);
        // ties get average ranks: [1, 2.5, 2.5, 4] vs [1, 2, 3, 4] -> Pearson of ranks
        double r = GradientExplainer.spearman(new double[] {1, 5, 5, 9}, new double[] {1, 2, 3, 4});
        assertEquals(4.5 / Math.sqrt(4.5 * 5), r, 1e-12);
    }

    @Test
    void deletionCurvesReadTheEncoderAndAFaithfulOrderBeatsItsReverse() {
        var ex = explainer.example("A man is playing a guitar.", "Someone plays an instrument.", null);
        double[] ig = explainer.integratedGradients(ex, 32).scores();
        var c = explainer.curves(ex, ig);
        int k = c.deletion().length - 1, pad = model.tokenizer().padId();
        assertEquals(explainer.value(ex), c.deletion()[0], 1e-6);
        assertEquals(c.insertion()[0], c.deletion()[k], 1e-9, "all deleted = nothing inserted");
        assertEquals(c.deletion()[0], c.insertion()[k], 1e-9, "nothing deleted = all inserted");
        // step 1 of deletion is f of the text with the top token replaced by [PAD], run here independently
        int[] order = GradientExplainer.order(ex, ig);
        int top = order[0];
        int[][] ids = {ex.ids()[0].clone(), ex.ids()[1].clone()};
        if (top < ids[0].length) ids[0][top] = pad; else ids[1][top - ids[0].length] = pad;
        BertEncoderCheck.assertPairCosine(model, ids, c.deletion()[1]);
        // on one text with the self objective, the IG order removes and restores f faster than its reverse
        var self = explainer.example("The cat sat on the mat because it was tired.", null, null);
        double[] s = explainer.integratedGradients(self, 32).scores();
        double[] reverse = s.clone();
        for (int i = 0; i < reverse.length; i++) reverse[i] = -reverse[i];
        var fc = explainer.curves(self, s);
        var rc = explainer.curves(self, reverse);
        var random = explainer.randomCurves(self, 5);
        System.out.printf("self objective: deletion AUC IG %.3f reverse %.3f random %.3f; insertion AUC IG %.3f reverse %.3f random %.3f%n",
                fc.deletionAuc(), rc.deletionAuc(), random.deletionAuc(), fc.insertionAuc(), rc.insertionAuc(), random.insertionAuc());
        assertTrue(fc.deletionAuc() < rc.deletionAuc(), "IG order deletes faster than its reverse");
        assertTrue(fc.insertionAuc() > rc.insertionAuc(), "IG order inserts faster than its reverse");
    }

    @Test
    void badInputNamesTheArgument() {
        var e = assertThrows(IllegalArgumentException.class, () -> GradientExplainer.Method.parse("lrp"));
        assertTrue(e.getMessage().contains("--methods") && e.getMessage().contains("lrp"), e.getMessage());
        var ex = explainer.example("Hi there.", null, null);
        e = assertThrows(IllegalArgumentException.class, () -> explainer.integratedGradients(ex, 0));
        assertTrue(e.getMessage().contains("--ig-steps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> explainer.example("a", "b", "c"));
        assertTrue(e.getMessage().contains("--target"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> explainer.curves(ex, new double[2]));
        assertTrue(e.getMessage().contains("scores"), e.getMessage());
    }
}
