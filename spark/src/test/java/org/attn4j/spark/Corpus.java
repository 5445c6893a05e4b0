package org.attn4j.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Deterministic test sentences: ordinary ones, an empty line, accents and CJK, and long ones that get truncated. */
public final class Corpus {
    private Corpus() {}

    private static final String[] WORDS = ("the a cat dog sat ran on under mat garden river quickly slowly because although "
            + "attention transformer key value query softmax cluster executor partition sentence embedding Zürich café naïve "
            + "東京 données 42 3.14 don't e-mail").split(" ");

    public static List<String> sentences(int n, long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int len = i % 17 == 5 ? 0 : i % 23 == 7 ? 90 + r.nextInt(40) : 3 + r.nextInt(14);
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < len; w++) sb.append(w == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
            out.add(sb.toString());
        }
        return out;
    }
}
