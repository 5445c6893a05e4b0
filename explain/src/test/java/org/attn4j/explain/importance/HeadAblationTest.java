package org.attn4j.explain.importance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Paraphrase set, ablation importance and pruning on the real all-MiniLM-L6-v2. */
class HeadAblationTest {
    static Embedder model;
    static List<Paraphrases.Pair> pairs;

    @BeforeAll
    static void load() throws IOException {
        model = Embedder.load(Embedder.MINILM);
        pairs = Paraphrases.load();
    }

    @Test
    void paraphraseSetHasAtLeast100DistinctNonEmptyPairs() {
        assertTrue(pairs.size() >= 100, "pairs: " + pairs.size());
        Set<Paraphrases.Pair> seen = new HashSet<>();
        Set<String> sides = new HashSet<>();
        for (Paraphrases.Pair p : pairs) {
            assertFalse(p.sentence().isBlank());
            assertFalse(p.paraphrase().isBlank());
            assertTrue(seen.add(p), "duplicate pair " + p);
            assertTrue(sides.add(p.sentence()), "sentence used twice: " + p.sentence());
            assertTrue(sides.add(p.paraphrase()), "sentence used twice: " + p.paraphrase());
        }
    }

    @Test
    void unprunedModelRetrievesParaphrases() {
        float[][] a = model.embed(Paraphrases.sentences(pairs));
        float[][] b = model.embed(Paraphrases.paraphrases(pairs));
        double acc = Paraphrases.retrievalAccuracy(a, b);
        System.out.println("unpruned retrieval accuracy: " + acc + " (" + pairs.size() + " pairs)");
        assertTrue(acc >= 0.9, "accuracy " + acc);
    }

    @Test
    void ablationScoresAreNonNegativeAndNormalisedPerLayer() {
        long t0 = System.nanoTime();
        HeadAblation.Scores s = HeadAblation.score(model, Paraphrases.sentences(pairs).subList(0, 8));
        System.out.printf("importance over 8 sentences: %.1f s; top 5 %s%n", (System.nanoTime() - t0) / 1e9, s.top(5));
        assertEquals(6, s.raw().length);
        assertEquals(12, s.raw()[0].length);
        boolean positive = false;
        for (double[] layer : s.raw()) for (double x : layer) {
            assertTrue(x >= 0, "importance " + x);
            positive |= x > 0;
        }
        assertTrue(positive, "no head mattered");
        for (double[] layer : s.normalised()) {
            double sq = 0;
            for (double x : layer) sq += x * x;
            if (sq > 0) assertEquals(1.0, Math.sqrt(sq), 1e-9);
        }
    }

    @Test
    void pruningCurveStartsAtTheFullModelAndDegrades() {
        long t0 = System.nanoTime();
        List<HeadAblation.Step> curve = HeadAblation.prune(model, pairs, HeadAblation.Options.quick());
        System.out.printf("quick pruning: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        for (HeadAblation.Step s : curve) System.out.printf("  %.3f  acc %.3f  cos %.4f%n", s.fractionPruned(), s.accuracy(), s.meanCosine());
        HeadAblation.Step first = curve.getFirst(), last = curve.getLast();
        assertEquals(0.0, first.fractionPruned());
        assertEquals(1.0, first.meanCosine(), 1e-6);
        assertTrue(first.pruned().isEmpty());
        float[][] a = model.embed(Paraphrases.sentences(pairs));
        float[][] b = model.embed(Paraphrases.paraphrases(pairs));
        assertEquals(Paraphrases.retrievalAccuracy(a, b), first.accuracy(), 1e-12);
        for (int i = 1; i < curve.size(); i++) {
            HeadAblation.Step prev = curve.get(i - 1), s = curve.get(i);
            assertTrue(s.fractionPruned() > prev.fractionPruned());
            assertTrue(s.pruned().size() > prev.pruned().size());
            assertEquals(prev.pruned(), s.pruned().subList(0, prev.pruned().size()), "pruned set must only grow");
            assertEquals(s.pruned().size(), new HashSet<>(s.pruned()).size(), "a head pruned twice");
        }
        assertEquals(1.0, last.fractionPruned(), 1e-12);
        assertEquals(72, last.pruned().size());
        assertTrue(last.meanCosine() < 0.9, "all heads pruned: mean cosine " + last.meanCosine());
    }
}
