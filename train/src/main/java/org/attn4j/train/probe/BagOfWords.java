package org.attn4j.train.probe;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The bag-of-words features of the logistic baseline: lower-cased word tokens ({@code [a-z0-9']+}),
 * a vocabulary of the words found in at least {@code minDocs} training texts (the most frequent
 * {@code maxWords}, ties by word), and per text the L2-normalised vector of {@code log(1 + count)}.
 */
public final class BagOfWords {
    private static final Pattern WORD = Pattern.compile("[a-z0-9']+");
    private final Map<String, Integer> vocab;

    private BagOfWords(Map<String, Integer> vocab) { this.vocab = vocab; }

    /** Builds the vocabulary from {@code texts} (the training texts only). */
    public static BagOfWords fit(List<String> texts, int minDocs, int maxWords) {
        if (minDocs < 1) throw new IllegalArgumentException("minDocs: expected >= 1, got " + minDocs);
        if (maxWords < 1) throw new IllegalArgumentException("maxWords: expected >= 1, got " + maxWords);
        Map<String, Integer> df = new HashMap<>();
        for (String t : texts) for (String w : counts(t).keySet()) df.merge(w, 1, Integer::sum);
        List<Map.Entry<String, Integer>> kept = new ArrayList<>(df.entrySet().stream().filter(e -> e.getValue() >= minDocs).toList());
        kept.sort(Comparator.<Map.Entry<String, Integer>>comparingInt(Map.Entry::getValue).reversed().thenComparing(Map.Entry::getKey));
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(maxWords, kept.size()); i++) vocab.put(kept.get(i).getKey(), i);
        if (vocab.isEmpty()) throw new IllegalArgumentException("texts: no word occurs in " + minDocs + " or more training texts");
        return new BagOfWords(vocab);
    }

    public int size() { return vocab.size(); }

    private static Map<String, Integer> counts(String text) {
        Map<String, Integer> c = new LinkedHashMap<>();
        Matcher m = WORD.matcher(text.toLowerCase(Locale.ROOT));
        while (m.find()) c.merge(m.group(), 1, Integer::sum);
        return c;
    }

    /** A {@link LinearHead} over these features of {@code texts}. */
    public LinearHead head(List<String> texts, int classes, long seed) {
        int[][] index = new int[texts.size()][];
        float[][] value = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            List<int[]> nz = new ArrayList<>();
            double norm = 0;
            List<Double> vals = new ArrayList<>();
            for (var e : counts(texts.get(i)).entrySet()) {
                Integer k = vocab.get(e.getKey());
                if (k == null) continue;
                double v = Math.log1p(e.getValue());
                nz.add(new int[] {k});
                vals.add(v);
                norm += v * v;
            }
            index[i] = new int[nz.size()];
            value[i] = new float[nz.size()];
            for (int n = 0; n < nz.size(); n++) {
                index[i][n] = nz.get(n)[0];
                value[i][n] = (float) (vals.get(n) / Math.sqrt(norm));
            }
        }
        return new LinearHead(index, value, vocab.size(), classes, seed);
    }
}
