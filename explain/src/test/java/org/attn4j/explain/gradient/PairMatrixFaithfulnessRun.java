package org.attn4j.explain.gradient;

import java.util.List;
import java.util.Locale;
import org.attn4j.explain.importance.Paraphrases;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * How faithful a token order the A×B matrix's margins give (row sums for A's tokens, column sums for
 * B's), next to gradient × input, relevance and random orders, by deletion and insertion over the
 * first N shipped pairs. A measurement, not a check, so it runs only on request:
 * {@code ./mvnw -o -q -pl explain -am test -Dtest=PairMatrixFaithfulnessRun -Dattn4j.pairMatrixPairs=20 -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class PairMatrixFaithfulnessRun {
    @Test
    @EnabledIfSystemProperty(named = "attn4j.pairMatrixPairs", matches = "\\d+")
    void margins() throws Exception {
        int n = Integer.getInteger("attn4j.pairMatrixPairs");
        var e = new GradientExplainer(Embedder.load(Embedder.MINILM), 0);
        List<Paraphrases.Pair> pairs = Paraphrases.load().subList(0, n);
        String[] names = {"pair-matrix margins", "grad-input", "relevance", "random (5 orders)"};
        double[][] sums = new double[names.length][4]; // deletion AUC, insertion AUC, deletion beats random, insertion beats random
        for (var p : pairs) {
            var ex = e.example(p.sentence(), p.paraphrase(), null);
            double[][] m = e.pairMatrix(ex);
            double[] margins = new double[ex.size()];
            int na = m.length;
            for (int i = 0; i < na; i++) for (int j = 0; j < m[i].length; j++) {
                margins[i] += m[i][j];
                margins[na + j] += m[i][j];
            }
            GradientExplainer.Curves random = e.randomCurves(ex, 5);
            GradientExplainer.Curves[] c = {e.curves(ex, margins), e.curves(ex, e.gradientTimesInput(ex)), e.curves(ex, e.relevance(ex)), random};
            for (int k = 0; k < c.length; k++) {
                sums[k][0] += c[k].deletionAuc() / n;
                sums[k][1] += c[k].insertionAuc() / n;
                if (c[k].deletionAuc() < random.deletionAuc()) sums[k][2] += 1.0 / n;
                if (c[k].insertionAuc() > random.insertionAuc()) sums[k][3] += 1.0 / n;
            }
        }
        System.out.printf(Locale.ROOT, "Token orders on %d shipped pairs (pair objective):%n  %-22s %13s %14s %17s %18s%n", n, "order", "deletion AUC",
                "insertion AUC", "del. beats random", "ins. beats random");
        for (int k = 0; k < names.length; k++) {
            System.out.printf(Locale.ROOT, "  %-22s %13.3f %14.3f %16.0f%% %17.0f%%%n", names[k], sums[k][0], sums[k][1], 100 * sums[k][2], 100 * sums[k][3]);
        }
    }
}
