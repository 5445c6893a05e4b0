package org.attn4j.explain.gradient;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.attn4j.explain.importance.Paraphrases;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The faithfulness table over the shipped paraphrase pairs, as {@code attn4j explain --methods all
 * --faithfulness-pairs N} prints it; a measurement, not a check, so it runs only on request:
 * {@code ./mvnw -o -q -pl explain -am test -Dtest=FaithfulnessTableRun -Dattn4j.faithfulnessPairs=50 -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class FaithfulnessTableRun {
    @Test
    @EnabledIfSystemProperty(named = "attn4j.faithfulnessPairs", matches = "\\d+")
    void table() throws Exception {
        int n = Integer.getInteger("attn4j.faithfulnessPairs");
        var explainer = new GradientExplainer(Embedder.load(Embedder.MINILM), 0);
        List<String[]> pairs = new ArrayList<>();
        for (var p : Paraphrases.load().subList(0, n)) pairs.add(new String[] {p.sentence(), p.paraphrase()});
        long t0 = System.nanoTime();
        var rows = GradientReport.table(explainer, pairs, EnumSet.allOf(GradientExplainer.Method.class), 20, 5);
        System.out.print(GradientReport.tableText(rows, n, 5));
        System.out.printf("(%.0f s)%n", (System.nanoTime() - t0) / 1e9);
    }
}
