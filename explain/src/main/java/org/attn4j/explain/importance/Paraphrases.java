package org.attn4j.explain.importance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The paraphrase set attn4j ships ({@code org/attn4j/explain/paraphrases.tsv}): short English
 * sentences, each with a reworded sentence of the same meaning, one topic per pair. Used as the
 * quality measure of head pruning (retrieval of each sentence's own paraphrase).
 *
 * <p>The pairs differ in topic, so the set is easy: all-MiniLM-L6-v2 retrieves every paraphrase
 * with all its heads and still with all 72 heads pruned (the embeddings then come from the
 * token-wise layers alone). On this set, pruning shows in the embedding drift, not in the accuracy.
 */
public final class Paraphrases {
    /** Class-path location of the shipped set. */
    public static final String RESOURCE = "org/attn4j/explain/paraphrases.tsv";

    /** A sentence and its paraphrase. */
    public record Pair(String sentence, String paraphrase) {
        public Pair {
            if (sentence == null || sentence.isBlank() || paraphrase == null || paraphrase.isBlank()) {
                throw new IllegalArgumentException("pair: expected two non-empty sides, got '" + sentence + "' / '" + paraphrase + "'");
            }
        }
    }

    private Paraphrases() {}

    /** The shipped pairs, in file order. */
    public static List<Pair> load() {
        try (InputStream in = Paraphrases.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException("paraphrases: " + RESOURCE + " is not on the class path");
            return parse(new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines().toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses lines {@code sentence TAB paraphrase}; blank lines and lines starting with '#' are skipped. */
    public static List<Pair> parse(List<String> lines) {
        List<Pair> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] parts = line.split("\t", -1);
            if (parts.length != 2) {
                throw new IllegalArgumentException("line " + (i + 1) + ": expected 'sentence<TAB>paraphrase', got " + parts.length + " field(s)");
            }
            out.add(new Pair(parts[0].strip(), parts[1].strip()));
        }
        return out;
    }

    /** The first sides, in order. */
    public static List<String> sentences(List<Pair> pairs) {
        return pairs.stream().map(Pair::sentence).toList();
    }

    /** The second sides, in order. */
    public static List<String> paraphrases(List<Pair> pairs) {
        return pairs.stream().map(Pair::paraphrase).toList();
    }

    /**
     * Top-1 retrieval accuracy: the fraction of i for which {@code seconds[i]} has the highest cosine
     * to {@code firsts[i]} among all seconds (ties count as misses).
     */
    public static double retrievalAccuracy(float[][] firsts, float[][] seconds) {
        if (firsts.length != seconds.length || firsts.length == 0) {
            throw new IllegalArgumentException("embeddings: expected two equally long, non-empty lists, got " + firsts.length + " and " + seconds.length);
        }
        int hits = 0;
        for (int i = 0; i < firsts.length; i++) {
            double own = HeadAblation.cosine(firsts[i], seconds[i]);
            boolean best = true;
            for (int j = 0; j < seconds.length && best; j++) {
                if (j != i && HeadAblation.cosine(firsts[i], seconds[j]) >= own) best = false;
            }
            if (best) hits++;
        }
        return (double) hits / firsts.length;
    }
}
