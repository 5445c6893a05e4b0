package org.attn4j.models.tokenizer.spm;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.attn4j.models.tokenizer.Tokenizer;

/**
 * SentencePiece-style BPE, as in Llama 2 (llama.cpp's {@code llama} tokenizer model,
 * Hugging Face's {@code LlamaTokenizer}): pieces with scores instead of a merge list.
 *
 * <p>Encoding a stretch of text (between special tokens): a space is put in front (the "dummy
 * prefix"), every space becomes {@code ▁} (U+2581), the text is split into characters, and then,
 * repeatedly, of all adjacent pairs whose concatenation is a normal piece, the one whose piece has
 * the highest score is merged (the leftmost on a tie), until no pair is a piece. A character left
 * over that is not a piece becomes its UTF-8 bytes as the byte pieces {@code <0xXX>} (byte
 * fallback), or the unknown piece when there are none.
 *
 * <p>Decoding joins the pieces, turns {@code ▁} back into spaces and byte pieces into bytes, reads
 * the bytes as UTF-8 and drops the one leading space the dummy prefix added. So
 * {@code decode(encode(s, false)) = s} for every string without lone surrogates.
 */
public final class SentencePieceBpe implements Tokenizer {

    /** Piece kinds, numbered as in GGUF's {@code tokenizer.ggml.token_type}. */
    public enum Kind { UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE }

    private static final char SPACE = '\u2581';

    private final String[] pieces;
    private final float[] scores;
    private final Kind[] kinds;
    private final Map<String, Integer> mergeable = new HashMap<>(); // normal and user-defined pieces
    private final int[] byteId = new int[256];
    private final int unknownId;
    private final boolean addDummyPrefix;
    private final List<String> specials; // matched verbatim with parseSpecial, longest first
    private final Map<String, Integer> specialIds = new HashMap<>();

    /**
     * @param pieces         the pieces by id
     * @param scores         their scores (higher merges first), one per piece
     * @param kinds          their kinds, one per piece
     * @param addDummyPrefix put a space in front of each stretch of text (Llama 2 does)
     */
    public SentencePieceBpe(String[] pieces, float[] scores, Kind[] kinds, boolean addDummyPrefix) {
        if (pieces == null || pieces.length == 0) throw new IllegalArgumentException("pieces: expected a non-empty vocabulary");
        if (scores == null || scores.length != pieces.length) throw new IllegalArgumentException("scores: expected " + pieces.length + " scores, got " + (scores == null ? "null" : scores.length));
        if (kinds == null || kinds.length != pieces.length) throw new IllegalArgumentException("kinds: expected " + pieces.length + " kinds, got " + (kinds == null ? "null" : kinds.length));
        this.pieces = pieces.clone();
        this.scores = scores.clone();
        this.kinds = kinds.clone();
        Arrays.fill(byteId, -1);
        int unk = -1;
        List<String> sp = new ArrayList<>();
        for (int id = 0; id < pieces.length; id++) {
            String p = pieces[id];
            if (p == null) throw new IllegalArgumentException("pieces[" + id + "]: expected a string, got null");
            switch (kinds[id]) {
                case NORMAL, USER_DEFINED -> mergeable.putIfAbsent(p, id);
                case BYTE -> {
                    if (p.length() != 6 || !p.startsWith("<0x") || !p.endsWith(">")) throw new IllegalArgumentException("pieces[" + id + "]: a byte piece must read <0xXX>, got '" + p + "'");
                    byteId[Integer.parseInt(p.substring(3, 5), 16)] = id;
                }
                case UNKNOWN -> { if (unk < 0) unk = id; }
                default -> { }
            }
            if (kinds[id] == Kind.CONTROL || kinds[id] == Kind.USER_DEFINED || kinds[id] == Kind.UNKNOWN) {
                if (!p.isEmpty() && specialIds.putIfAbsent(p, id) == null) sp.add(p);
            }
        }
        sp.sort((a, b) -> Integer.compare(b.length(), a.length()));
        this.specials = Collections.unmodifiableList(sp);
        this.unknownId = unk;
        this.addDummyPrefix = addDummyPrefix;
    }

    @Override
    public int vocabSize() { return pieces.length; }

    /** The piece with id {@code id}. */
    public String piece(int id) { return pieces[id]; }

    /** The kind of piece {@code id}. */
    public Kind kind(int id) { return kinds[id]; }

    // ------------------------------------------------------------------ encode

    @Override
    public int[] encode(String text, boolean parseSpecial) {
        if (text == null) throw new IllegalArgumentException("text: expected a string, got null");
        List<Integer> out = new ArrayList<>();
        int from = 0;
        while (from < text.length()) {
            int at = text.length();
            String hit = null;
            if (parseSpecial) {
                for (String s : specials) {
                    int i = text.indexOf(s, from);
                    if (i >= 0 && i < at) {
                        at = i;
                        hit = s;
                    }
                }
            }
            if (at > from) encodeText(text.substring(from, at), out);
            if (hit == null) break;
            out.add(specialIds.get(hit));
            from = at + hit.length();
        }
        int[] ids = new int[out.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = out.get(i);
        return ids;
    }

    /** A candidate merge of the symbols at {@code left} and {@code right}, valid while their lengths still add to {@code length}. */
    private record Bigram(int left, int right, float score, int length) {}

    private void encodeText(String raw, List<Integer> out) {
        String text = ((addDummyPrefix ? " " : "") + raw).replace(' ', SPACE);
        // Symbols: one per code point, as a doubly linked list over [start, start+len) of text.
        int n = text.codePointCount(0, text.length());
        int[] start = new int[n], len = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0, at = 0; i < n; i++) {
            start[i] = at;
            len[i] = Character.charCount(text.codePointAt(at));
            at += len[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // Highest score first; on a tie, the leftmost pair (as llama.cpp's and SentencePiece's queues order them).
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score() != b.score() ? Float.compare(b.score(), a.score()) : Integer.compare(a.left(), b.left()));
        for (int i = 0; i + 1 < n; i++) offer(queue, text, start, len, i, i + 1);
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            if (len[b.left()] == 0 || len[b.right()] == 0 || len[b.left()] + len[b.right()] != b.length()) continue; // stale
            len[b.left()] += len[b.right()];
            len[b.right()] = 0;
            next[b.left()] = next[b.right()];
            if (next[b.right()] >= 0) prev[next[b.right()]] = b.left();
            if (prev[b.left()] >= 0) offer(queue, text, start, len, prev[b.left()], b.left());
            if (next[b.left()] >= 0) offer(queue, text, start, len, b.left(), next[b.left()]);
        }
        for (int i = n == 0 ? -1 : 0; i >= 0; i = next[i]) {
            String sym = text.substring(start[i], start[i] + len[i]);
            Integer id = mergeable.get(sym);
            if (id != null) {
                out.add(id);
                continue;
            }
            for (byte x : sym.getBytes(StandardCharsets.UTF_8)) {
                int b = byteId[x & 0xFF];
                if (b >= 0) out.add(b);
                else if (unknownId >= 0) out.add(unknownId);
                else throw new IllegalArgumentException("text: '" + sym + "' is not in the vocabulary, which has neither byte pieces nor an unknown piece");
            }
        }
    }

    private void offer(PriorityQueue<Bigram> q, String text, int[] start, int[] len, int left, int right) {
        String merged = text.substring(start[left], start[right] + len[right]);
        Integer id = mergeable.get(merged);
        if (id != null && kinds[id] == Kind.NORMAL) q.add(new Bigram(left, right, scores[id], merged.length()));
    }

    // ------------------------------------------------------------------ decode

    @Override
    public String decode(int[] ids) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int k = 0; k < ids.length; k++) {
            int id = ids[k];
            if (id < 0 || id >= pieces.length) throw new IllegalArgumentException("ids[" + k + "]: no piece has id " + id + " (vocabulary size " + pieces.length + ")");
            if (kinds[id] == Kind.BYTE) {
                bytes.write(Integer.parseInt(pieces[id].substring(3, 5), 16));
            } else {
                byte[] b = pieces[id].replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
            }
        }
        String s = bytes.toString(StandardCharsets.UTF_8);
        return addDummyPrefix && s.startsWith(" ") ? s.substring(1) : s;
    }
}
