package org.attn4j.train.text;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.attn4j.models.tokenizer.bpe.ByteLevel;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.models.tokenizer.bpe.PreTokenizer;
import org.attn4j.models.tokenizer.bpe.RegexPreTokenizer;

/**
 * Learns a byte-level BPE vocabulary from text, the way GPT-2's was made: split the text into
 * pieces with the pre-tokenizer, start every piece from its UTF-8 bytes, then repeatedly merge the
 * adjacent pair that occurs most often (counted over all pieces, weighted by how often each piece
 * occurs) into a new token, until the vocabulary has the requested size or no pair occurs twice.
 *
 * <p>Ids: 0–255 are the single bytes in byte order, 256… the merged tokens in the order they were
 * learned, and the last id is {@code <|endoftext|>} (an added token, used to separate documents).
 * Ties between equally frequent pairs go to the pair whose (left id, right id) is smallest, so the
 * result depends only on the text and the size, never on hash order. A merge whose result already
 * exists as a token (the same bytes reached by another split) is recorded as a merge without a new id.
 */
public final class BpeTrainer {
    private BpeTrainer() {}

    /** The separator token every trained vocabulary ends with. */
    public static final String END_OF_TEXT = "<|endoftext|>";

    /**
     * Learns a vocabulary of at most {@code vocabSize} ids (256 bytes + merges + {@code <|endoftext|>})
     * from {@code texts} with GPT-2's pre-tokenizer.
     */
    public static ByteLevelBpe train(List<String> texts, int vocabSize) {
        return train(texts, vocabSize, RegexPreTokenizer.GPT2);
    }

    /** As {@link #train(List, int)} with another pre-tokenizer. */
    public static ByteLevelBpe train(List<String> texts, int vocabSize, PreTokenizer preTokenizer) {
        if (vocabSize < 257) throw new IllegalArgumentException("vocabSize: expected >= 257 (256 bytes and " + END_OF_TEXT + "), got " + vocabSize);
        // 1. Distinct pieces and how often each occurs.
        Map<String, long[]> counts = new HashMap<>();
        for (String t : texts) {
            for (String piece : preTokenizer.split(t)) counts.computeIfAbsent(piece, k -> new long[1])[0]++;
        }
        // Sorted so that the word order (and with it every later loop) does not depend on hashing.
        String[] pieces = counts.keySet().toArray(new String[0]);
        Arrays.sort(pieces);
        int nw = pieces.length;
        int[][] words = new int[nw][];
        int[] lens = new int[nw];
        long[] freq = new long[nw];
        for (int w = 0; w < nw; w++) {
            byte[] b = pieces[w].getBytes(StandardCharsets.UTF_8);
            words[w] = new int[b.length];
            for (int i = 0; i < b.length; i++) words[w][i] = b[i] & 0xFF;
            lens[w] = b.length;
            freq[w] = counts.get(pieces[w])[0];
        }
        counts = null;

        // 2. Pair counts and, for each pair, the words it may occur in (appended, checked on use).
        Map<Long, long[]> pairCount = new HashMap<>();
        Map<Long, IntList> where = new HashMap<>();
        for (int w = 0; w < nw; w++) {
            for (int i = 0; i + 1 < lens[w]; i++) {
                long p = pair(words[w][i], words[w][i + 1]);
                pairCount.computeIfAbsent(p, k -> new long[1])[0] += freq[w];
                where.computeIfAbsent(p, k -> new IntList()).add(w);
            }
        }
        // Max-heap on count, then smallest pair; stale entries (count changed since) are skipped.
        PriorityQueue<long[]> heap = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0]) : Long.compare(x[1], y[1]));
        for (Map.Entry<Long, long[]> e : pairCount.entrySet()) heap.add(new long[] {e.getValue()[0], e.getKey()});

        // 3. Merge.
        List<byte[]> tokenBytes = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokenBytes.add(new byte[] {(byte) b});
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevel.charOf(b)), b);
        List<String[]> merges = new ArrayList<>();
        int[] stamp = new int[nw];
        int round = 0;
        while (vocab.size() < vocabSize - 1 && !heap.isEmpty()) {
            long[] top = heap.poll();
            long[] current = pairCount.get(top[1]);
            if (current == null || current[0] != top[0]) continue; // stale
            if (top[0] < 2) break;
            int a = (int) (top[1] >>> 32), b = (int) top[1];
            String left = ByteLevel.encode(tokenBytes.get(a)), right = ByteLevel.encode(tokenBytes.get(b));
            Integer existing = vocab.get(left + right);
            int merged;
            if (existing != null) {
                merged = existing;
            } else {
                merged = tokenBytes.size();
                byte[] ab = Arrays.copyOf(tokenBytes.get(a), tokenBytes.get(a).length + tokenBytes.get(b).length);
                System.arraycopy(tokenBytes.get(b), 0, ab, tokenBytes.get(a).length, tokenBytes.get(b).length);
                tokenBytes.add(ab);
                vocab.put(left + right, merged);
            }
            merges.add(new String[] {left, right});
            round++;
            IntList ws = where.get(top[1]);
            Map<Long, long[]> touched = new HashMap<>();
            for (int k = 0; k < ws.n; k++) {
                int w = ws.a[k];
                if (stamp[w] == round) continue;
                stamp[w] = round;
                if (!contains(words[w], lens[w], a, b)) continue;
                // Take the word's pairs out, merge, put them back: simple and exact.
                adjust(words[w], lens[w], -freq[w], pairCount, touched, null, w);
                lens[w] = merge(words[w], lens[w], a, b, merged);
                adjust(words[w], lens[w], freq[w], pairCount, touched, where, w);
            }
            for (Map.Entry<Long, long[]> e : touched.entrySet()) {
                long[] c = pairCount.get(e.getKey());
                if (c != null && c[0] > 0) heap.add(new long[] {c[0], e.getKey()});
                else pairCount.remove(e.getKey());
            }
        }
        int eot = tokenBytes.size();
        return new ByteLevelBpe(vocab, merges, List.of(new ByteLevelBpe.AddedToken(eot, END_OF_TEXT, true)), preTokenizer, false, false);
    }

    private static long pair(int a, int b) { return ((long) a << 32) | (b & 0xFFFFFFFFL); }

    private static boolean contains(int[] s, int n, int a, int b) {
        for (int i = 0; i + 1 < n; i++) if (s[i] == a && s[i + 1] == b) return true;
        return false;
    }

    /** Every occurrence of (a, b), left to right without overlap, becomes {@code merged}; returns the new length. */
    private static int merge(int[] s, int n, int a, int b, int merged) {
        int w = 0;
        for (int i = 0; i < n; i++) {
            if (i + 1 < n && s[i] == a && s[i + 1] == b) {
                s[w++] = merged;
                i++;
            } else {
                s[w++] = s[i];
            }
        }
        return w;
    }

    private static void adjust(int[] s, int n, long delta, Map<Long, long[]> pairCount, Map<Long, long[]> touched, Map<Long, IntList> where, int w) {
        for (int i = 0; i + 1 < n; i++) {
            long p = pair(s[i], s[i + 1]);
            long[] c = pairCount.computeIfAbsent(p, k -> new long[1]);
            c[0] += delta;
            touched.put(p, c);
            if (where != null) where.computeIfAbsent(p, k -> new IntList()).add(w);
        }
    }

    private static final class IntList {
        int[] a = new int[4];
        int n;

        void add(int x) {
            if (n > 0 && a[n - 1] == x) return; // the same word twice in a row: once is enough
            if (n == a.length) a = Arrays.copyOf(a, n * 2);
            a[n++] = x;
        }
    }
}
