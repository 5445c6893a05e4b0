package org.attn4j.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A WordPiece tokenizer for BERT-family models, configured from a Hugging Face {@code tokenizer.json}, producing the
 * same ids as the Hugging Face {@code tokenizers} library for the supported pipeline:
 * <ul>
 *   <li>added tokens (e.g. {@code [MASK]}, {@code [SEP]}) written literally in the input are matched first,
 *       leftmost-longest, and kept whole;</li>
 *   <li>normalizer {@code BertNormalizer} (or none): clean text, spaces around CJK ideographs, strip accents, lowercase,
 *       as its options say ({@code strip_accents: null} follows {@code lowercase});</li>
 *   <li>pre-tokenizer {@code BertPreTokenizer}: split on whitespace and isolate every punctuation character;</li>
 *   <li>model {@code WordPiece}: greedy longest-match-first with the continuation prefix; a word longer than
 *       {@code max_input_chars_per_word} code points, or one that cannot be covered, becomes a single unknown token;</li>
 *   <li>post-processor {@code TemplateProcessing} or {@code BertProcessing} (or none: {@code [CLS] A [SEP]} and
 *       {@code [CLS] A [SEP] B [SEP]} with type ids 0/1).</li>
 * </ul>
 * The file's own {@code padding} and {@code truncation} settings are ignored: callers pass the maximum length to each
 * call, and pad with {@link #batch(List)}. Instances are immutable and thread-safe.
 */
public final class WordPieceTokenizer {

    /** Classpath resource of the embedded all-MiniLM-L6-v2 tokenizer. */
    public static final String MINILM_RESOURCE = "all-minilm-l6-v2-tokenizer.json";

    private final Map<String, Integer> modelVocab; // the WordPiece vocabulary
    private final Map<String, Integer> vocab;      // model vocabulary plus added tokens
    private final String[] idToToken;
    private final String unkToken;
    private final int unkId;
    private final String prefix;
    private final int maxInputChars;
    private final int maxWordTokenChars;           // longest vocabulary entry (UTF-16 units), bounds the greedy search
    private final int padId;

    private final boolean normalize, cleanText, chineseChars, stripAccents, lowercase;

    private final AddedToken[] rawAdded;           // matched against the raw input
    private final AddedToken[] normalizedAdded;    // matched against normalized text

    private final Piece[] single;
    private final Piece[] pair;
    private final int singleSpecials;
    private final int pairSpecials;

    private record AddedToken(String content, int id) {}

    /** One element of a post-processing template: special tokens, or sequence 0 (A) / 1 (B). */
    private record Piece(int sequence, int[] ids, String[] tokens, int typeId) {}

    private WordPieceTokenizer(JsonNode root) {
        JsonNode model = root.path("model");
        String modelType = model.path("type").asText(null);
        if (model.isMissingNode() || model.isNull()) {
            throw new IllegalArgumentException("tokenizer.json has no model section; expected a WordPiece model");
        }
        if (modelType == null) { // very old files omit the type; accept what looks like WordPiece
            modelType = model.has("continuing_subword_prefix") && model.has("max_input_chars_per_word") ? "WordPiece" : "<none>";
        }
        if (!"WordPiece".equals(modelType)) {
            throw new IllegalArgumentException("tokenizer.json: expected a WordPiece model, found model type '" + modelType + "'");
        }
        JsonNode vocabNode = model.path("vocab");
        if (!vocabNode.isObject() || vocabNode.isEmpty()) {
            throw new IllegalArgumentException("tokenizer.json: WordPiece model has no vocab object");
        }
        modelVocab = new HashMap<>(vocabNode.size() * 2);
        int maxId = -1;
        int longest = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            int id = e.getValue().asInt(-1);
            if (id < 0) {
                throw new IllegalArgumentException("tokenizer.json: bad id for vocab entry '" + e.getKey() + "': " + e.getValue());
            }
            modelVocab.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
            longest = Math.max(longest, e.getKey().length());
        }
        unkToken = model.path("unk_token").asText("[UNK]");
        prefix = model.path("continuing_subword_prefix").asText("##");
        maxInputChars = model.path("max_input_chars_per_word").asInt(100);
        maxWordTokenChars = longest;
        vocab = new HashMap<>(modelVocab);

        List<AddedToken> raw = new ArrayList<>();
        List<AddedToken> norm = new ArrayList<>();
        for (JsonNode t : root.path("added_tokens")) {
            String content = t.path("content").asText("");
            int id = t.path("id").asInt(-1);
            if (content.isEmpty() || id < 0) {
                continue;
            }
            vocab.putIfAbsent(content, id);
            maxId = Math.max(maxId, id);
            (t.path("normalized").asBoolean(false) ? norm : raw).add(new AddedToken(content, id));
        }
        rawAdded = raw.toArray(AddedToken[]::new);
        normalizedAdded = norm.toArray(AddedToken[]::new);

        idToToken = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            if (idToToken[e.getValue()] == null || modelVocab.containsKey(e.getKey())) {
                idToToken[e.getValue()] = e.getKey();
            }
        }
        Integer unk = modelVocab.get(unkToken);
        if (unk == null) {
            throw new IllegalArgumentException("tokenizer.json: unk_token '" + unkToken + "' is not in the vocabulary");
        }
        unkId = unk;
        Integer pad = vocab.get("[PAD]");
        padId = pad != null ? pad : root.path("padding").path("pad_id").asInt(0);

        JsonNode n = root.path("normalizer");
        if (n.isMissingNode() || n.isNull()) {
            normalize = cleanText = chineseChars = stripAccents = lowercase = false;
        } else if ("BertNormalizer".equals(n.path("type").asText())) {
            normalize = true;
            cleanText = n.path("clean_text").asBoolean(true);
            chineseChars = n.path("handle_chinese_chars").asBoolean(true);
            lowercase = n.path("lowercase").asBoolean(true);
            JsonNode sa = n.path("strip_accents");
            stripAccents = sa.isBoolean() ? sa.asBoolean() : lowercase;
        } else {
            throw new IllegalArgumentException("tokenizer.json: unsupported normalizer type '" + n.path("type").asText()
                    + "' (supported: BertNormalizer or none)");
        }
        JsonNode p = root.path("pre_tokenizer");
        if (!"BertPreTokenizer".equals(p.path("type").asText(null))) {
            throw new IllegalArgumentException("tokenizer.json: unsupported pre_tokenizer "
                    + (p.isMissingNode() || p.isNull() ? "<none>" : "type '" + p.path("type").asText() + "'")
                    + " (supported: BertPreTokenizer)");
        }

        JsonNode post = root.path("post_processor");
        String postType = post.isMissingNode() || post.isNull() ? "<none>" : post.path("type").asText();
        switch (postType) {
            case "TemplateProcessing" -> {
                single = template(post.path("single"), post.path("special_tokens"));
                pair = template(post.path("pair"), post.path("special_tokens"));
            }
            case "BertProcessing" -> {
                single = bertTemplate(post.path("cls").path(0).asText(), post.path("cls").path(1).asInt(),
                        post.path("sep").path(0).asText(), post.path("sep").path(1).asInt(), false);
                pair = bertTemplate(post.path("cls").path(0).asText(), post.path("cls").path(1).asInt(),
                        post.path("sep").path(0).asText(), post.path("sep").path(1).asInt(), true);
            }
            case "<none>" -> {
                single = bertTemplate("[CLS]", requireId("[CLS]"), "[SEP]", requireId("[SEP]"), false);
                pair = bertTemplate("[CLS]", requireId("[CLS]"), "[SEP]", requireId("[SEP]"), true);
            }
            default -> throw new IllegalArgumentException("tokenizer.json: unsupported post_processor type '" + postType
                    + "' (supported: TemplateProcessing, BertProcessing or none)");
        }
        singleSpecials = specials(single);
        pairSpecials = specials(pair);
    }

    /** The compact form's version; bump it when {@link #writeCompact} changes. */
    private static final int COMPACT_VERSION = 1;

    private WordPieceTokenizer(Map<String, Integer> modelVocab, Map<String, Integer> vocab, String[] idToToken, String unkToken, int unkId,
                               String prefix, int maxInputChars, int maxWordTokenChars, int padId, boolean[] flags,
                               AddedToken[] rawAdded, AddedToken[] normalizedAdded, Piece[] single, Piece[] pair) {
        this.modelVocab = modelVocab;
        this.vocab = vocab;
        this.idToToken = idToToken;
        this.unkToken = unkToken;
        this.unkId = unkId;
        this.prefix = prefix;
        this.maxInputChars = maxInputChars;
        this.maxWordTokenChars = maxWordTokenChars;
        this.padId = padId;
        this.normalize = flags[0];
        this.cleanText = flags[1];
        this.chineseChars = flags[2];
        this.stripAccents = flags[3];
        this.lowercase = flags[4];
        this.rawAdded = rawAdded;
        this.normalizedAdded = normalizedAdded;
        this.single = single;
        this.pair = pair;
        this.singleSpecials = specials(single);
        this.pairSpecials = specials(pair);
    }

    /**
     * Writes this tokenizer's whole state in a compact binary form that {@link #readCompact} turns back into an
     * equal tokenizer without a JSON parser (a model cache stores it: parsing {@code tokenizer.json} costs about
     * half a second of a cold start).
     */
    public void writeCompact(DataOutput out) throws IOException {
        out.writeInt(COMPACT_VERSION);
        writeMap(out, modelVocab, null);
        writeMap(out, vocab, modelVocab); // only the added tokens that are not in the model vocabulary
        out.writeInt(idToToken.length);
        for (String t : idToToken) {
            out.writeBoolean(t != null);
            if (t != null) out.writeUTF(t);
        }
        out.writeUTF(unkToken);
        out.writeInt(unkId);
        out.writeUTF(prefix);
        out.writeInt(maxInputChars);
        out.writeInt(maxWordTokenChars);
        out.writeInt(padId);
        for (boolean b : new boolean[] {normalize, cleanText, chineseChars, stripAccents, lowercase}) out.writeBoolean(b);
        for (AddedToken[] added : new AddedToken[][] {rawAdded, normalizedAdded}) {
            out.writeInt(added.length);
            for (AddedToken a : added) {
                out.writeUTF(a.content());
                out.writeInt(a.id());
            }
        }
        for (Piece[] template : new Piece[][] {single, pair}) {
            out.writeInt(template.length);
            for (Piece p : template) {
                out.writeInt(p.sequence());
                out.writeInt(p.typeId());
                out.writeInt(p.ids() == null ? -1 : p.ids().length);
                if (p.ids() != null) {
                    for (int k = 0; k < p.ids().length; k++) {
                        out.writeInt(p.ids()[k]);
                        out.writeUTF(p.tokens()[k]);
                    }
                }
            }
        }
    }

    /** The tokenizer {@link #writeCompact} wrote; an IOException if the data is not such a form. */
    public static WordPieceTokenizer readCompact(DataInput in) throws IOException {
        int version = in.readInt();
        if (version != COMPACT_VERSION) throw new IOException("compact tokenizer: expected version " + COMPACT_VERSION + ", got " + version);
        Map<String, Integer> modelVocab = readMap(in, null);
        Map<String, Integer> vocab = readMap(in, modelVocab);
        String[] idToToken = new String[count(in)];
        for (int i = 0; i < idToToken.length; i++) idToToken[i] = in.readBoolean() ? in.readUTF() : null;
        String unkToken = in.readUTF();
        int unkId = in.readInt();
        String prefix = in.readUTF();
        int maxInputChars = in.readInt(), maxWordTokenChars = in.readInt(), padId = in.readInt();
        boolean[] flags = new boolean[5];
        for (int i = 0; i < flags.length; i++) flags[i] = in.readBoolean();
        AddedToken[][] added = new AddedToken[2][];
        for (int k = 0; k < 2; k++) {
            added[k] = new AddedToken[count(in)];
            for (int i = 0; i < added[k].length; i++) added[k][i] = new AddedToken(in.readUTF(), in.readInt());
        }
        Piece[][] templates = new Piece[2][];
        for (int k = 0; k < 2; k++) {
            templates[k] = new Piece[count(in)];
            for (int i = 0; i < templates[k].length; i++) {
                int sequence = in.readInt(), typeId = in.readInt(), n = in.readInt();
                int[] ids = n < 0 ? null : new int[n];
                String[] tokens = n < 0 ? null : new String[n];
                for (int j = 0; j < n; j++) {
                    ids[j] = in.readInt();
                    tokens[j] = in.readUTF();
                }
                templates[k][i] = new Piece(sequence, ids, tokens, typeId);
            }
        }
        return new WordPieceTokenizer(modelVocab, vocab, idToToken, unkToken, unkId, prefix, maxInputChars, maxWordTokenChars, padId,
                flags, added[0], added[1], templates[0], templates[1]);
    }

    /** Writes the entries of {@code map} whose key {@code base} (may be null) does not hold. */
    private static void writeMap(DataOutput out, Map<String, Integer> map, Map<String, Integer> base) throws IOException {
        List<Map.Entry<String, Integer>> entries = new ArrayList<>();
        for (Map.Entry<String, Integer> e : map.entrySet()) if (base == null || !base.containsKey(e.getKey())) entries.add(e);
        out.writeInt(entries.size());
        for (Map.Entry<String, Integer> e : entries) {
            out.writeUTF(e.getKey());
            out.writeInt(e.getValue());
        }
    }

    /** A map written by {@link #writeMap}: {@code base}'s entries (if any) plus the ones read. */
    private static Map<String, Integer> readMap(DataInput in, Map<String, Integer> base) throws IOException {
        int n = count(in);
        Map<String, Integer> map = new HashMap<>(2 * (n + (base == null ? 0 : base.size())));
        if (base != null) map.putAll(base);
        for (int i = 0; i < n; i++) map.put(in.readUTF(), in.readInt());
        return map;
    }

    private static int count(DataInput in) throws IOException {
        int n = in.readInt();
        if (n < 0 || n > 50_000_000) throw new IOException("compact tokenizer: bad count " + n);
        return n;
    }

    private int requireId(String token) {
        Integer id = vocab.get(token);
        if (id == null) {
            throw new IllegalArgumentException("tokenizer.json: no post_processor and no '" + token + "' token in the vocabulary");
        }
        return id;
    }

    private static Piece[] bertTemplate(String cls, int clsId, String sep, int sepId, boolean pair) {
        Piece c = new Piece(-1, new int[] {clsId}, new String[] {cls}, 0);
        Piece s0 = new Piece(-1, new int[] {sepId}, new String[] {sep}, 0);
        if (!pair) {
            return new Piece[] {c, new Piece(0, null, null, 0), s0};
        }
        return new Piece[] {c, new Piece(0, null, null, 0), s0, new Piece(1, null, null, 1),
                new Piece(-1, new int[] {sepId}, new String[] {sep}, 1)};
    }

    private static Piece[] template(JsonNode items, JsonNode specialTokens) {
        if (!items.isArray()) {
            throw new IllegalArgumentException("tokenizer.json: TemplateProcessing template is not an array: " + items);
        }
        List<Piece> out = new ArrayList<>();
        for (JsonNode item : items) {
            if (item.has("Sequence")) {
                JsonNode s = item.get("Sequence");
                String which = s.path("id").asText();
                int seq = switch (which) {
                    case "A" -> 0;
                    case "B" -> 1;
                    default -> throw new IllegalArgumentException("tokenizer.json: unknown template sequence '" + which + "'");
                };
                out.add(new Piece(seq, null, null, s.path("type_id").asInt(0)));
            } else if (item.has("SpecialToken")) {
                JsonNode s = item.get("SpecialToken");
                String name = s.path("id").asText();
                JsonNode def = specialTokens.path(name);
                if (!def.path("ids").isArray() || def.path("ids").size() != def.path("tokens").size()) {
                    throw new IllegalArgumentException("tokenizer.json: template special token '" + name + "' is not defined");
                }
                int[] ids = new int[def.path("ids").size()];
                String[] toks = new String[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = def.path("ids").get(i).asInt();
                    toks[i] = def.path("tokens").get(i).asText();
                }
                out.add(new Piece(-1, ids, toks, s.path("type_id").asInt(0)));
            } else {
                throw new IllegalArgumentException("tokenizer.json: unknown template item " + item);
            }
        }
        return out.toArray(Piece[]::new);
    }

    private static int specials(Piece[] template) {
        int n = 0;
        for (Piece p : template) {
            if (p.sequence < 0) {
                n += p.ids.length;
            }
        }
        return n;
    }

    // ---------------------------------------------------------------- factories

    /** Reads a Hugging Face {@code tokenizer.json} (UTF-8 JSON) from {@code in}; the stream is not closed. */
    public static WordPieceTokenizer fromJson(InputStream in) throws IOException {
        return new WordPieceTokenizer(new ObjectMapper().readTree(in));
    }

    /** Reads a Hugging Face {@code tokenizer.json} file. */
    public static WordPieceTokenizer fromJson(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path)) {
            return fromJson(in);
        }
    }

    /** The tokenizer of the embedded all-MiniLM-L6-v2 model (classpath resource {@value #MINILM_RESOURCE}), loaded once. */
    public static WordPieceTokenizer embeddedMiniLm() {
        return MiniLmHolder.INSTANCE;
    }

    private static final class MiniLmHolder {
        static final WordPieceTokenizer INSTANCE = load();

        private static WordPieceTokenizer load() {
            try (InputStream in = WordPieceTokenizer.class.getClassLoader().getResourceAsStream(MINILM_RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException("classpath resource " + MINILM_RESOURCE + " not found");
                }
                return fromJson(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + MINILM_RESOURCE, e);
            }
        }
    }

    // ---------------------------------------------------------------- public API

    /**
     * Encodes one text as {@code [CLS] tokens [SEP]} (per the file's template), keeping the first tokens so that the
     * result, special tokens included, has at most {@code maxLength} tokens.
     *
     * @throws IllegalArgumentException if {@code maxLength} is smaller than the number of special tokens (2 for BERT)
     */
    public Encoding encode(String text, int maxLength) {
        if (maxLength < singleSpecials) {
            throw new IllegalArgumentException("maxLength must be >= " + singleSpecials + " (room for the special tokens), got " + maxLength);
        }
        Tokens a = tokenize(text);
        int budget = maxLength - singleSpecials;
        int untruncated = a.size() + singleSpecials;
        return assemble(single, a, Math.min(a.size(), budget), null, 0, untruncated);
    }

    /**
     * Encodes a pair as {@code [CLS] a [SEP] b [SEP]} (per the file's template), type ids 0 for the first part and 1 for
     * the second. If too long, tokens are removed from the end of the longer part first ("longest_first", like
     * Hugging Face): when both parts exceed half the room, each keeps half, the second part getting the odd token.
     *
     * @throws IllegalArgumentException if {@code maxLength} is smaller than the number of special tokens (3 for BERT)
     */
    public Encoding encodePair(String a, String b, int maxLength) {
        if (maxLength < pairSpecials) {
            throw new IllegalArgumentException("maxLength must be >= " + pairSpecials + " for a pair (room for the special tokens), got " + maxLength);
        }
        Tokens ta = tokenize(a);
        Tokens tb = tokenize(b);
        int budget = maxLength - pairSpecials;
        int na = ta.size();
        int nb = tb.size();
        int untruncated = na + nb + pairSpecials;
        if (na + nb > budget) {
            boolean swap = na > nb;
            int shortLen = swap ? nb : na;
            int longLen;
            if (shortLen > budget) {
                longLen = shortLen;
            } else {
                longLen = Math.max(shortLen, budget - shortLen);
            }
            if (shortLen + longLen > budget) {
                shortLen = budget / 2;
                longLen = shortLen + budget % 2;
            }
            int keepA = swap ? longLen : shortLen;
            int keepB = swap ? shortLen : longLen;
            na = Math.min(na, keepA);
            nb = Math.min(nb, keepB);
        }
        return assemble(pair, ta, na, tb, nb, untruncated);
    }

    /** Pads encodings to the longest with {@link #padId()}; see {@link Batch}. */
    public Batch batch(List<Encoding> encodings) {
        return Batch.of(encodings, padId);
    }

    /** Encodes each text with {@link #encode(String, int)} and pads them into one {@link Batch}. */
    public Batch encodeBatch(List<String> texts, int maxLength) {
        List<Encoding> out = new ArrayList<>(texts.size());
        for (String t : texts) {
            out.add(encode(t, maxLength));
        }
        return batch(out);
    }

    /** Number of ids: one more than the largest id of the vocabulary and the added tokens. */
    public int vocabSize() { return idToToken.length; }

    /** Id used to pad batches: the {@code [PAD]} token's, else the file's padding id, else 0. */
    public int padId() { return padId; }

    /** Id of the unknown token. */
    public int unkId() { return unkId; }

    /**
     * The token string of {@code id}.
     *
     * @throws IllegalArgumentException if {@code id} is outside {@code [0, vocabSize())} or unused
     */
    public String token(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new IllegalArgumentException("token id " + id + " is not in the vocabulary (size " + idToToken.length + ")");
        }
        return idToToken[id];
    }

    /** The id of a vocabulary or added token (exact string, no normalization), if it exists. */
    public OptionalInt id(String token) {
        Integer id = vocab.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /**
     * The tokens of {@code text} without special tokens and without truncation, as strings ({@code ##} marks
     * continuations). Useful for inspection.
     */
    public List<String> tokenizeToStrings(String text) {
        Tokens t = tokenize(text);
        List<String> out = new ArrayList<>(t.size());
        for (int i = 0; i < t.size(); i++) {
            out.add(idToToken[t.ids[i]]);
        }
        return out;
    }

    // ---------------------------------------------------------------- pipeline

    /** Growable id list. */
    private static final class Tokens {
        int[] ids = new int[16];
        int size;

        void add(int id) {
            if (size == ids.length) {
                ids = java.util.Arrays.copyOf(ids, size * 2);
            }
            ids[size++] = id;
        }

        int size() { return size; }
    }

    private Encoding assemble(Piece[] template, Tokens a, int na, Tokens b, int nb, int untruncated) {
        int total = 0;
        for (Piece p : template) {
            total += p.sequence < 0 ? p.ids.length : p.sequence == 0 ? na : nb;
        }
        int[] ids = new int[total];
        int[] types = new int[total];
        int[] mask = new int[total];
        String[] toks = new String[total];
        int k = 0;
        for (Piece p : template) {
            if (p.sequence < 0) {
                for (int i = 0; i < p.ids.length; i++, k++) {
                    ids[k] = p.ids[i];
                    toks[k] = p.tokens[i];
                    types[k] = p.typeId;
                }
            } else {
                Tokens src = p.sequence == 0 ? a : b;
                int n = p.sequence == 0 ? na : nb;
                for (int i = 0; i < n; i++, k++) {
                    ids[k] = src.ids[i];
                    toks[k] = idToToken[src.ids[i]];
                    types[k] = p.typeId;
                }
            }
        }
        java.util.Arrays.fill(mask, 1);
        return new Encoding(ids, types, mask, toks, untruncated);
    }

    /** Full pipeline without special tokens: added tokens, normalization, pre-tokenization, WordPiece. */
    private Tokens tokenize(String text) {
        Tokens out = new Tokens();
        StringBuilder scratch = new StringBuilder();
        splitOnAdded(text, rawAdded, (segment, addedId) -> {
            if (addedId >= 0) {
                out.add(addedId);
                return;
            }
            String normalized = normalize ? normalize(segment) : segment;
            splitOnAdded(normalized, normalizedAdded, (seg, id) -> {
                if (id >= 0) {
                    out.add(id);
                } else {
                    preTokenize(seg, out, scratch);
                }
            });
        });
        return out;
    }

    private interface SegmentSink {
        /** A plain segment ({@code addedId < 0}) or a matched added token. */
        void accept(String segment, int addedId);
    }

    /** Splits {@code text} on leftmost-longest occurrences of the added tokens. */
    private static void splitOnAdded(String text, AddedToken[] added, SegmentSink sink) {
        if (added.length == 0) {
            sink.accept(text, -1);
            return;
        }
        int start = 0;
        int i = 0;
        int n = text.length();
        while (i < n) {
            AddedToken best = null;
            for (AddedToken t : added) {
                if (text.startsWith(t.content, i) && (best == null || t.content.length() > best.content.length())) {
                    best = t;
                }
            }
            if (best == null) {
                i++;
                continue;
            }
            if (i > start) {
                sink.accept(text.substring(start, i), -1);
            }
            sink.accept(best.content, best.id);
            i += best.content.length();
            start = i;
        }
        if (start < n) {
            sink.accept(text.substring(start), -1);
        }
    }

    /** BertNormalizer, step for step as Hugging Face applies it: clean, CJK spacing, strip accents, lowercase. */
    private String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cleanText) {
                if (cp == 0 || cp == 0xFFFD || BertChars.isControl(cp)) {
                    continue;
                }
                if (BertChars.isWhitespace(cp)) {
                    cp = ' ';
                }
            }
            if (chineseChars && BertChars.isChinese(cp)) {
                sb.append(' ').appendCodePoint(cp).append(' ');
            } else {
                sb.appendCodePoint(cp);
            }
        }
        String s = sb.toString();
        if (stripAccents) {
            String nfd = Normalizer.normalize(s, Normalizer.Form.NFD);
            sb.setLength(0);
            for (int i = 0; i < nfd.length(); ) {
                int cp = nfd.codePointAt(i);
                i += Character.charCount(cp);
                if (!BertChars.isNonSpacingMark(cp)) {
                    sb.appendCodePoint(cp);
                }
            }
            s = sb.toString();
        }
        if (lowercase) {
            sb.setLength(0);
            for (int i = 0; i < s.length(); ) {
                int cp = s.codePointAt(i);
                i += Character.charCount(cp);
                BertChars.appendLowerCase(sb, cp);
            }
            s = sb.toString();
        }
        return s;
    }

    /** BertPreTokenizer: whitespace ends a word, punctuation is a word of its own; then WordPiece on each word. */
    private void preTokenize(String text, Tokens out, StringBuilder word) {
        word.setLength(0);
        int wordCps = 0;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (BertChars.isWhitespace(cp)) {
                if (wordCps > 0) {
                    wordPiece(word.toString(), wordCps, out);
                    word.setLength(0);
                    wordCps = 0;
                }
            } else if (BertChars.isPunctuation(cp)) {
                if (wordCps > 0) {
                    wordPiece(word.toString(), wordCps, out);
                    word.setLength(0);
                    wordCps = 0;
                }
                wordPiece(Character.toString(cp), 1, out);
            } else {
                word.appendCodePoint(cp);
                wordCps++;
            }
        }
        if (wordCps > 0) {
            wordPiece(word.toString(), wordCps, out);
            word.setLength(0);
        }
    }

    /** Greedy longest-match-first over code point boundaries; an uncoverable or over-long word is one unknown token. */
    private void wordPiece(String word, int codePoints, Tokens out) {
        if (codePoints > maxInputChars) {
            out.add(unkId);
            return;
        }
        int mark = out.size;
        int start = 0;
        int n = word.length();
        while (start < n) {
            int end = Math.min(n, start + maxWordTokenChars);
            if (end < n && Character.isLowSurrogate(word.charAt(end)) && Character.isHighSurrogate(word.charAt(end - 1))) {
                end--; // never split a surrogate pair
            }
            Integer found = null;
            while (end > start) {
                String sub = word.substring(start, end);
                found = modelVocab.get(start > 0 ? prefix + sub : sub);
                if (found != null) {
                    break;
                }
                end--;
                if (end > start && Character.isLowSurrogate(word.charAt(end)) && Character.isHighSurrogate(word.charAt(end - 1))) {
                    end--;
                }
            }
            if (found == null) {
                out.size = mark;
                out.add(unkId);
                return;
            }
            out.add(found);
            start = end;
        }
    }
}
