package org.attn4j.models.tokenizer.bpe;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE tokenizer (GPT-2's scheme, also Llama 3's and Qwen's with other pre-tokenizers).
 *
 * <p>Encoding: optional NFC normalisation; added (special) tokens are cut out of the text first and
 * map to their ids; each stretch of text between them (given a leading space first if
 * {@code addPrefixSpace} and it has none) is split by the {@link PreTokenizer}; each piece is turned into UTF-8
 * bytes, each byte into its single-byte token ({@link ByteLevel}), and then adjacent tokens are
 * merged, always the pair of lowest merge rank first, every occurrence of it left to right, until no
 * ranked pair is left (GPT-2's {@code bpe()}). Decoding concatenates the tokens' bytes and reads
 * them as UTF-8, so {@code decode(encode(s)) = s} for any string without lone surrogates, and
 * {@link #decodeBytes}({@link #encodeBytes}(b)) = b for any bytes, valid UTF-8 or not.
 *
 * <p>The vocabulary should hold all 256 single-byte tokens (text needing a missing one is refused
 * with an error naming the byte), and every merge {@code a b} must have
 * {@code a}, {@code b} and {@code ab} in it; the ids may be any distinct non-negative integers.
 * Immutable and thread-safe (the piece cache is per thread).
 */
public final class ByteLevelBpe implements org.attn4j.models.tokenizer.Tokenizer {

    /**
     * A token added on top of the BPE vocabulary (such as {@code <|endoftext|>}): matched verbatim in
     * the text before pre-tokenisation, never split or merged.
     */
    public record AddedToken(int id, String content, boolean special) {
        public AddedToken {
            if (id < 0) throw new IllegalArgumentException("id: expected >= 0, got " + id);
            if (content == null || content.isEmpty()) throw new IllegalArgumentException("content: expected a non-empty string");
        }
    }

    private final String[] tokens;               // by id (null where no token has that id)
    private final Map<String, Integer> ids;      // byte-level string -> id
    private final List<String[]> merges;         // in rank order
    private final Map<Long, Integer> mergeRank;  // (left id, right id) -> rank
    private final int[] mergeLeft, mergeRight, mergeResult; // by rank: the pair's ids and the merged id
    private final List<AddedToken> added;
    private final PreTokenizer preTokenizer;
    private final boolean addPrefixSpace, nfc, ignoreMerges;
    private final int[] byteId = new int[256];
    private final ThreadLocal<Map<String, int[]>> cache = ThreadLocal.withInitial(HashMap::new);
    private static final int CACHE_LIMIT = 1 << 16;

    /**
     * @param vocab          byte-level token strings and their ids
     * @param merges         the merges in rank order (rank 0 first), each {@code {left, right}}
     * @param added          added tokens (ids outside {@code vocab}'s, or equal to the id of the same string there)
     * @param preTokenizer   the split before BPE
     * @param addPrefixSpace put a space before each stretch of text (between added tokens) that does not start with one (Hugging Face's ByteLevel option)
     * @param nfc            NFC-normalise text before anything else
     */
    public ByteLevelBpe(Map<String, Integer> vocab, List<String[]> merges, List<AddedToken> added,
                        PreTokenizer preTokenizer, boolean addPrefixSpace, boolean nfc) {
        this(vocab, merges, added, preTokenizer, addPrefixSpace, nfc, false);
    }

    /**
     * As above, with {@code ignoreMerges}: a piece that is itself in the vocabulary is that one
     * token, whatever the merges would make of it (Hugging Face's {@code ignore_merges}, set by
     * Llama 3, whose vocabulary holds words the merges cannot reach).
     */
    public ByteLevelBpe(Map<String, Integer> vocab, List<String[]> merges, List<AddedToken> added,
                        PreTokenizer preTokenizer, boolean addPrefixSpace, boolean nfc, boolean ignoreMerges) {
        if (vocab == null || vocab.isEmpty()) throw new IllegalArgumentException("vocab: expected a non-empty vocabulary");
        if (preTokenizer == null) throw new IllegalArgumentException("preTokenizer: expected one, got null");
        int maxId = -1;
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (e.getValue() == null || e.getValue() < 0) throw new IllegalArgumentException("vocab: token '" + e.getKey() + "' has a bad id " + e.getValue());
            maxId = Math.max(maxId, e.getValue());
        }
        for (AddedToken a : added) maxId = Math.max(maxId, a.id());
        this.tokens = new String[maxId + 1];
        this.ids = new HashMap<>(vocab);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (tokens[e.getValue()] != null) throw new IllegalArgumentException("vocab: id " + e.getValue() + " is given to both '" + tokens[e.getValue()] + "' and '" + e.getKey() + "'");
            tokens[e.getValue()] = e.getKey();
        }
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.charOf(b)));
            // A vocabulary may lack rare bytes (StarCoder's has no token for C0, C1 and F1..FF); text needing one is refused when encoded.
            byteId[b] = id == null ? -1 : id;
        }
        this.merges = new ArrayList<>(merges.size());
        this.mergeRank = new HashMap<>(merges.size() * 2);
        this.mergeLeft = new int[merges.size()];
        this.mergeRight = new int[merges.size()];
        this.mergeResult = new int[merges.size()];
        for (int r = 0; r < merges.size(); r++) {
            String[] m = merges.get(r);
            if (m == null || m.length != 2) throw new IllegalArgumentException("merges[" + r + "]: expected a pair of tokens");
            Integer a = vocab.get(m[0]), b = vocab.get(m[1]), ab = vocab.get(m[0] + m[1]);
            if (a == null || b == null || ab == null) {
                throw new IllegalArgumentException("merges[" + r + "]: '" + m[0] + " " + m[1] + "' needs '" + (a == null ? m[0] : b == null ? m[1] : m[0] + m[1]) + "' in the vocabulary");
            }
            // A repeated pair keeps its first (lowest) rank, as in GPT-2's dict(zip(merges, range)).
            mergeRank.putIfAbsent(pair(a, b), r);
            mergeLeft[r] = a;
            mergeRight[r] = b;
            mergeResult[r] = ab;
            this.merges.add(new String[] {m[0], m[1]});
        }
        List<AddedToken> sorted = new ArrayList<>(added);
        for (AddedToken a : sorted) {
            String existing = tokens[a.id()];
            if (existing != null && !existing.equals(a.content())) {
                throw new IllegalArgumentException("added: id " + a.id() + " of '" + a.content() + "' already belongs to '" + existing + "'");
            }
            tokens[a.id()] = a.content();
        }
        // Longest first, so that of two added tokens starting at the same place the longer wins.
        sorted.sort((x, y) -> Integer.compare(y.content().length(), x.content().length()));
        this.added = Collections.unmodifiableList(sorted);
        this.preTokenizer = preTokenizer;
        this.addPrefixSpace = addPrefixSpace;
        this.nfc = nfc;
        this.ignoreMerges = ignoreMerges;
    }

    /** GPT-2's tokenizer shape: GPT-2's pre-tokenizer, no prefix space, no normalisation. */
    public static ByteLevelBpe gpt2Style(Map<String, Integer> vocab, List<String[]> merges, List<AddedToken> added) {
        return new ByteLevelBpe(vocab, merges, added, RegexPreTokenizer.GPT2, false, false);
    }

    private static long pair(int a, int b) { return ((long) a << 32) | (b & 0xFFFFFFFFL); }

    // ------------------------------------------------------------------ encode

    /** The ids of {@code text}: added tokens matched verbatim, the rest byte-level BPE. */
    public int[] encode(String text) { return encode(text, true); }

    /** The ids of {@code text}; added tokens are matched verbatim only with {@code parseSpecial}. */
    @Override
    public int[] encode(String text, boolean parseSpecial) {
        if (text == null) throw new IllegalArgumentException("text: expected a string, got null");
        if (nfc) text = Normalizer.normalize(text, Normalizer.Form.NFC);
        IntList out = new IntList(text.length() / 3 + 4);
        if (!parseSpecial) {
            if (!text.isEmpty()) encodeText(text, true, out);
            return out.toArray();
        }
        int from = 0;
        while (from < text.length()) {
            int at = text.length();
            AddedToken hit = null;
            for (AddedToken a : added) {
                int i = text.indexOf(a.content(), from);
                if (i >= 0 && i < at) {
                    at = i;
                    hit = a;
                }
            }
            // Each stretch between added tokens is pre-tokenized on its own, prefix space included (as Hugging Face does).
            if (at > from) encodeText(text.substring(from, at), true, out);
            if (hit == null) break;
            out.add(hit.id());
            from = at + hit.content().length();
        }
        return out.toArray();
    }

    /**
     * The ids of arbitrary bytes, without added-token matching: maximal runs of valid UTF-8 are
     * pre-tokenized and merged as text; each byte that is not part of valid UTF-8 is a piece of its own.
     */
    public int[] encodeBytes(byte[] bytes) {
        IntList out = new IntList(bytes.length / 3 + 4);
        int i = 0, runStart = 0;
        boolean first = true;
        while (i < bytes.length) {
            int n = utf8Length(bytes, i);
            if (n > 0) {
                i += n;
                continue;
            }
            if (i > runStart) {
                encodeText(new String(bytes, runStart, i - runStart, StandardCharsets.UTF_8), first, out);
                first = false;
            }
            out.add(byteToken(bytes[i]));
            first = false;
            runStart = ++i;
        }
        if (i > runStart) encodeText(new String(bytes, runStart, i - runStart, StandardCharsets.UTF_8), first, out);
        return out.toArray();
    }

    private void encodeText(String text, boolean first, IntList out) {
        if (first && addPrefixSpace && !text.startsWith(" ")) text = " " + text;
        Map<String, int[]> memo = cache.get();
        for (String piece : preTokenizer.split(text)) {
            int[] ids = memo.get(piece);
            if (ids == null) {
                ids = bpe(piece.getBytes(StandardCharsets.UTF_8));
                if (memo.size() >= CACHE_LIMIT) memo.clear();
                memo.put(piece, ids);
            }
            out.addAll(ids);
        }
    }

    /** BPE of one piece: start from single bytes, merge the lowest-ranked pair everywhere, repeat. */
    int[] bpe(byte[] piece) {
        int n = piece.length;
        int[] sym = new int[n];
        if (ignoreMerges) {
            Integer whole = ids.get(ByteLevel.encode(piece));
            if (whole != null) return new int[] {whole};
        }
        for (int i = 0; i < n; i++) sym[i] = byteToken(piece[i]);
        while (n > 1) {
            int best = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < n; i++) {
                Integer r = mergeRank.get(pair(sym[i], sym[i + 1]));
                if (r != null && r < best) best = r;
            }
            if (best == Integer.MAX_VALUE) break;
            int a = mergeLeft[best], b = mergeRight[best], merged = mergeResult[best];
            int w = 0;
            for (int i = 0; i < n; i++) {
                if (i + 1 < n && sym[i] == a && sym[i + 1] == b) {
                    sym[w++] = merged;
                    i++;
                } else {
                    sym[w++] = sym[i];
                }
            }
            n = w;
        }
        return Arrays.copyOf(sym, n);
    }

    private int byteToken(byte b) {
        int id = byteId[b & 0xFF];
        if (id < 0) throw new IllegalArgumentException("text: byte 0x" + String.format("%02X", b & 0xFF) + " has no token in this vocabulary");
        return id;
    }

    /** Length of the valid UTF-8 sequence starting at {@code i} (1..4), or 0 if none starts there. */
    static int utf8Length(byte[] b, int i) {
        int c = b[i] & 0xFF;
        if (c < 0x80) return 1;
        int n, min;
        if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
        else return 0;
        if (i + n > b.length) return 0;
        int cp = c & (0x3F >> (n - 1));
        for (int k = 1; k < n; k++) {
            int cont = b[i + k] & 0xFF;
            if ((cont & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (cont & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        return n;
    }

    // ------------------------------------------------------------------ decode

    /** The bytes of {@code ids} concatenated (an added token gives its UTF-8). Throws IllegalArgumentException naming an unknown id. */
    public byte[] decodeBytes(int[] ids) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(ids.length * 4);
        for (int k = 0; k < ids.length; k++) {
            int id = ids[k];
            String t = id >= 0 && id < tokens.length ? tokens[id] : null;
            if (t == null) throw new IllegalArgumentException("ids[" + k + "]: no token has id " + id + " (vocabulary size " + vocabSize() + ")");
            byte[] b = isAddedId(id) ? t.getBytes(StandardCharsets.UTF_8) : ByteLevel.decode(t);
            out.write(b, 0, b.length);
        }
        return out.toByteArray();
    }

    /** {@link #decodeBytes} read as UTF-8 (malformed bytes become U+FFFD). */
    @Override
    public String decode(int[] ids) { return new String(decodeBytes(ids), StandardCharsets.UTF_8); }

    private boolean isAddedId(int id) {
        for (AddedToken a : added) if (a.id() == id) return true;
        return false;
    }

    // ------------------------------------------------------------------ inspection

    /** One more than the largest id (the size an embedding table needs). */
    @Override
    public int vocabSize() { return tokens.length; }

    /** The token string of {@code id} (byte-level characters, or an added token's content), or null. */
    public String token(int id) { return id >= 0 && id < tokens.length ? tokens[id] : null; }

    /** The id of a byte-level token string or added token, or −1. */
    public int id(String token) {
        for (AddedToken a : added) if (a.content().equals(token)) return a.id();
        Integer id = ids.get(token);
        return id == null ? -1 : id;
    }

    /** The id of the single-byte token of byte {@code b}. */
    public int byteId(int b) { return byteId[b & 0xFF]; }

    /** The BPE vocabulary (without added tokens), in id order. */
    public Map<String, Integer> vocab() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int id = 0; id < tokens.length; id++) {
            if (tokens[id] != null && ids.containsKey(tokens[id]) && ids.get(tokens[id]) == id) m.put(tokens[id], id);
        }
        return m;
    }

    /** The merges in rank order, each {@code {left, right}} (copies). */
    public List<String[]> merges() {
        List<String[]> out = new ArrayList<>(merges.size());
        for (String[] m : merges) out.add(m.clone());
        return out;
    }

    /** The added tokens, in id order. */
    public List<AddedToken> addedTokens() {
        List<AddedToken> out = new ArrayList<>(added);
        out.sort((x, y) -> Integer.compare(x.id(), y.id()));
        return out;
    }

    public PreTokenizer preTokenizer() { return preTokenizer; }

    public boolean addPrefixSpace() { return addPrefixSpace; }

    public boolean nfc() { return nfc; }

    /** Whether a piece found whole in the vocabulary skips the merges. */
    public boolean ignoreMerges() { return ignoreMerges; }

    /** A growable int array. */
    private static final class IntList {
        int[] a;
        int n;

        IntList(int cap) { a = new int[Math.max(cap, 4)]; }

        void add(int x) {
            if (n == a.length) a = Arrays.copyOf(a, a.length * 2);
            a[n++] = x;
        }

        void addAll(int[] xs) {
            if (n + xs.length > a.length) a = Arrays.copyOf(a, Math.max(a.length * 2, n + xs.length));
            System.arraycopy(xs, 0, a, n, xs.length);
            n += xs.length;
        }

        int[] toArray() { return Arrays.copyOf(a, n); }
    }
}
