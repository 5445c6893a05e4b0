package org.attn4j.train.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.attn4j.models.tokenizer.bpe.ByteLevel;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.models.tokenizer.bpe.RegexPreTokenizer;
import org.attn4j.models.tokenizer.bpe.TokenizerJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The BPE trainer against hand-worked merges and a from-scratch recount at every step. */
class BpeTrainerTest {

    private static List<String> merges(ByteLevelBpe t) {
        List<String> out = new ArrayList<>();
        for (String[] m : t.merges()) out.add(m[0] + " " + m[1]);
        return out;
    }

    @Test
    void learnsTheMostFrequentPairFirstAndStopsBelowTwo() {
        // Pieces "ab", " ab", " ab", " abc": (a b) occurs 4 times, (Ġ a) 3, (b c) once. After a+b:
        // (Ġ ab) 3, (ab c) 1. After Ġ+ab: (Ġab c) 1, below 2, so training stops with two merges.
        ByteLevelBpe t = BpeTrainer.train(List.of("ab ab ab abc"), 1000);
        assertEquals(List.of("a b", "Ġ ab"), merges(t));
        assertEquals(256, t.id("ab"));
        assertEquals(257, t.id("Ġab"));
        assertEquals(258, t.id(BpeTrainer.END_OF_TEXT));
        assertEquals(259, t.vocabSize());
        assertArrayEquals(new int[] {256, 257, 257, 257, 'c'}, t.encode("ab ab ab abc"));
    }

    @Test
    void tiesGoToTheSmallestPair() {
        // Pieces "xy", " xy", " zw", " zw": (x y), (Ġ z), (z w) all occur twice. Smallest (left, right)
        // ids: (Ġ=32, z=122) first; then (x=120, y=121) beats (Ġz=256, w=119); then (Ġz w).
        ByteLevelBpe t = BpeTrainer.train(List.of("xy xy zw zw"), 1000);
        assertEquals(List.of("Ġ z", "x y", "Ġz w"), merges(t));
    }

    @Test
    void stopsAtTheRequestedSize() {
        ByteLevelBpe t = BpeTrainer.train(List.of(text(new Random(1), 3000)), 300);
        assertEquals(300, t.vocabSize());
        assertEquals(299, t.id(BpeTrainer.END_OF_TEXT));
    }

    @Test
    void matchesAFromScratchRecountAtEveryStep() {
        Random r = new Random(5);
        for (int trial = 0; trial < 6; trial++) {
            List<String> docs = new ArrayList<>();
            for (int d = 0; d < 3; d++) docs.add(text(r, 200 + r.nextInt(400)));
            int size = 257 + 5 + r.nextInt(80);
            ByteLevelBpe fast = BpeTrainer.train(docs, size);
            assertEquals(naive(docs, size), merges(fast), "trial " + trial);
            // Document order does not matter.
            List<String> shuffled = new ArrayList<>(docs);
            Collections.shuffle(shuffled, new Random(trial));
            assertEquals(merges(fast), merges(BpeTrainer.train(shuffled, size)));
        }
    }

    @Test
    void trainedTokenizerRoundTripsCompressesAndSurvivesTokenizerJson(@TempDir Path dir) throws IOException {
        String train = text(new Random(8), 5000), held = text(new Random(9), 800) + " café 😀 \u0000";
        ByteLevelBpe t = BpeTrainer.train(List.of(train), 600);
        int[] ids = t.encode(held);
        assertEquals(held, t.decode(ids));
        assertTrue(ids.length < held.getBytes(StandardCharsets.UTF_8).length * 0.6, "BPE compresses text like its training text: " + ids.length);
        Path f = dir.resolve("tokenizer.json");
        TokenizerJson.write(t, f);
        ByteLevelBpe back = TokenizerJson.read(f);
        assertArrayEquals(ids, back.encode(held));
        assertEquals(t.vocabSize(), back.vocabSize());
    }

    /**
     * The definition, recomputed from scratch each step: count every adjacent pair over all pieces,
     * take the most frequent (ties: smallest ids), merge it everywhere.
     */
    private static List<String> naive(List<String> docs, int vocabSize) {
        Map<String, Integer> counts = new TreeMap<>();
        for (String d : docs) for (String p : RegexPreTokenizer.GPT2.split(d)) counts.merge(p, 1, Integer::sum);
        List<List<Integer>> words = new ArrayList<>();
        List<Integer> freq = new ArrayList<>();
        for (var e : counts.entrySet()) {
            List<Integer> w = new ArrayList<>();
            for (byte b : e.getKey().getBytes(StandardCharsets.UTF_8)) w.add(b & 0xFF);
            words.add(w);
            freq.add(e.getValue());
        }
        List<String> names = new ArrayList<>();
        for (int b = 0; b < 256; b++) names.add(String.valueOf(ByteLevel.charOf(b)));
        Map<String, Integer> ids = new HashMap<>();
        for (int b = 0; b < 256; b++) ids.put(names.get(b), b);
        List<String> merges = new ArrayList<>();
        while (ids.size() < vocabSize - 1) {
            Map<List<Integer>, Integer> pc = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<Integer> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) pc.merge(List.of(s.get(i), s.get(i + 1)), freq.get(w), Integer::sum);
            }
            List<Integer> best = null;
            int bestCount = 0;
            for (var e : pc.entrySet()) {
                int c = e.getValue();
                List<Integer> p = e.getKey();
                if (c > bestCount || (c == bestCount && (p.get(0) < best.get(0) || (p.get(0).equals(best.get(0)) && p.get(1) < best.get(1))))) {
                    best = p;
                    bestCount = c;
                }
            }
            if (best == null || bestCount < 2) break;
            String merged = names.get(best.get(0)) + names.get(best.get(1));
            merges.add(names.get(best.get(0)) + " " + names.get(best.get(1)));
            int id = ids.computeIfAbsent(merged, k -> {
                names.add(k);
                return names.size() - 1;
            });
            for (List<Integer> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i).equals(best.get(0)) && s.get(i + 1).equals(best.get(1))) {
                        s.set(i, id);
                        s.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    private static final String[] WORDS = {"the", "union", "state", "of", "congress", "nation", "people", "war", "peace",
        "is", "and", "a", "an", "1790", "42", "year", "we", "shall", ",", ".", "!", "’s", "naïve", "über", "—"};

    /** Word salad with a Zipf-like skew so pair counts differ and ties also happen. */
    static String text(Random r, int words) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            int k = (int) Math.min(WORDS.length - 1, Math.floor(-Math.log(1 - r.nextDouble()) * 5));
            if (i > 0 && r.nextInt(10) > 0) sb.append(r.nextInt(20) == 0 ? "\n" : " ");
            sb.append(WORDS[k]);
        }
        return sb.toString();
    }
}
