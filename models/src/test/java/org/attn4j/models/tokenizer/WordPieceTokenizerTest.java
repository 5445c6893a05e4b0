package org.attn4j.models.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class WordPieceTokenizerTest {

    private static Path tokenizerJson;
    private static HuggingFaceTokenizer hf;
    private static WordPieceTokenizer mine;

    @BeforeAll
    static void setUp() throws IOException {
        tokenizerJson = Files.createTempFile("minilm-tokenizer", ".json");
        try (InputStream in = WordPieceTokenizer.class.getClassLoader().getResourceAsStream(WordPieceTokenizer.MINILM_RESOURCE)) {
            Files.copy(in, tokenizerJson, StandardCopyOption.REPLACE_EXISTING);
        }
        hf = hfTokenizer(-1);
        mine = WordPieceTokenizer.embeddedMiniLm();
    }

    @AfterAll
    static void tearDown() throws IOException {
        if (hf != null) {
            hf.close();
        }
        Files.deleteIfExists(tokenizerJson);
    }

    /** Hugging Face tokenizer on the same file; maxLength < 0: no truncation (the file's 128 is switched off). */
    private static HuggingFaceTokenizer hfTokenizer(int maxLength) throws IOException {
        HuggingFaceTokenizer.Builder b = HuggingFaceTokenizer.builder().optTokenizerPath(tokenizerJson)
                .optAddSpecialTokens(true).optPadding(false);
        if (maxLength < 0) {
            b.optTruncation(false);
        } else {
            b.optTruncation(true).optMaxLength(maxLength);
        }
        return b.build();
    }

    // ---------------------------------------------------------------- parity with Hugging Face

    private static final String[] HAND_WRITTEN = {
        "", " ", "   \t\n  ", "\r\n", "\u00a0\u3000\u2003", "Hello, world!", "hello world", "HELLO WORLD",
        "The quick brown fox jumps over the lazy dog.", "I can't believe it's not butter!", "unaffable", "playing",
        "café", "naïve", "Ångström", "Zürich", "São Paulo", "façade", "coöperate", "Ærøskøbing", "İstanbul ıi", "ΣΑΣ σας ς",
        "straße STRASSE", "ﬁnance ﬂow", "Ａｂｃ１２３ full-width", "ｶﾀｶﾅ half-width",
        "Καλημέρα κόσμε, τι κάνεις;", "Привет, мир! Как дела?", "Ёлка и ёж", "مرحبا بالعالم", "שלום עולם",
        "नमस्ते दुनिया", "สวัสดีชาวโลก", "ສະບາຍດີ", "გამარჯობა", "Բարև", "ሰላም", "வணக்கம்",
        "你好，世界！", "我爱北京天安门。", "中文English混合text", "日本語のテキストです。カタカナとひらがな。", "東京都渋谷区",
        "안녕하세요 세계", "한국어 텍스트입니다.", "𠀀𠀁 𪜀 𫝀 𫠠 𬺰 丽", "㐀㐁 豈 更",
        "😀", "I love 🍕 and 🍣!", "👨‍👩‍👧‍👦 family", "👍🏽 thumbs", "🏳️‍🌈 flag", "❤️‍🔥", "🇺🇸🇯🇵", "🥰🫠🫶🏿",
        "https://www.example.com/path/to/page?query=1&b=2#frag", "mailto:john.doe+tag@example.co.uk", "user@host.org",
        "ftp://files.example.org:21/pub/file-1.2.3.tar.gz", "@mention #hashtag $100 50% 3*4=12 a<b>c a^b `code` x|y ~",
        "def f(x):\n    return x ** 2  # square", "for (int i = 0; i < n; i++) { sum += a[i]; }", "<div class=\"x\">Hi</div>",
        "SELECT * FROM users WHERE id = 42;", "if (a && b || !c) { throw new IllegalStateException(\"boom\"); }",
        "1,234,567.89", "1.234.567,89 €", "3.14159", "10^6", "+1 (555) 123-4567", "2024-01-31T12:34:56Z", "0x7fff_ffff", "1e-12",
        "!!!???...", "...", "—–-", "«quoted» „German“ “curly” ‘single’", "(((nested)))", "a--b__c..d", "¿Qué? ¡Sí!", "•·…‰′″",
        "a\u0000b", "a\u0007b", "tab\tseparated\tvalues", "line1\r\nline2\nline3\rline4", "zero\u200bwidth", "no\u00a0break",
        "\ufeffBOM at start", "soft\u00adhyphen", "a\u200cb\u200dc", "bidi\u202eevil\u202c", "a\u0085b\u000bc\u000cd",
        "\u001c\u001d\u001e\u001f", "\ufffdreplacement\ufffd", "private\ue000use", "e\u0301 combining", "a\u0308\u0304",
        "[CLS] [SEP] [MASK] [PAD] [UNK]", "hello[MASK]world", "[mask] is not special", "[SEP][SEP]", "[[MASK]]",
        "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
        "a".repeat(100), "a".repeat(101), "ab".repeat(60), "é".repeat(100) + " ok", "😀".repeat(101),
        "word ".repeat(50), "ThisIsCamelCaseText", "snake_case_identifier", "kebab-case-identifier", "C++ C# F# .NET",
        "don't won't shouldn't y'all", "U.S.A. e.g. i.e.", "Mr. Smith's dog", "ẞ Ǆ ǅ ǆ", "Ⅻ ① ⑴ ⒜", "™ © ® ℃ ℉",
        "∑∫√∞≠≤≥", "ℌ𝔢𝔩𝔩𝔬 𝐁𝐨𝐥𝐝", "Tiếng Việt có dấu", "Čeština ěščřžýáíé", "Polski: zażółć gęślą jaźń", "Türkçe: ğüşöçı",
    };

    /** Deterministic random strings mixing scripts, punctuation, whitespace, controls and emoji. */
    private static List<String> generated(int count, long seed) {
        int[][] pools = {
            {'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {0x21, 0x2F}, {0x3A, 0x40}, {0x5B, 0x60}, {0x7B, 0x7E},
            {0xC0, 0x17F}, {0x370, 0x3FF}, {0x400, 0x4FF}, {0x590, 0x5FF}, {0x600, 0x6FF}, {0x900, 0x97F},
            {0xE00, 0xE7F}, {0x1E00, 0x1EFF}, {0x2000, 0x206F}, {0x3040, 0x30FF}, {0x4E00, 0x4FFF}, {0xAC00, 0xAD00},
            {0xFF00, 0xFFEF}, {0x1F300, 0x1F64F}, {0x1F900, 0x1F9FF}, {0x20000, 0x20100}, {0x300, 0x36F},
            {0x0, 0x1F}, {0x80, 0xBF}, {0x1D400, 0x1D4FF}, {0xE000, 0xE010},
        };
        String[] words = {"the", "token", "izer", "##ing", "[MASK]", "[SEP]", "embedding", "über", "Straße", "日本",
            "🙂", "\u200d", "\u00a0", "http://x.y/z", "a.b@c.de", " ", "  ", "\t", "\n"};
        Random rnd = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int s = 0; s < count; s++) {
            StringBuilder sb = new StringBuilder();
            int parts = 1 + rnd.nextInt(25);
            for (int p = 0; p < parts; p++) {
                if (rnd.nextInt(4) == 0) {
                    sb.append(words[rnd.nextInt(words.length)]);
                } else {
                    int[] pool = pools[rnd.nextInt(pools.length)];
                    int len = 1 + rnd.nextInt(8);
                    for (int k = 0; k < len; k++) {
                        int cp = pool[0] + rnd.nextInt(pool[1] - pool[0] + 1);
                        if (Character.getType(cp) != Character.UNASSIGNED && !Character.isSurrogate((char) cp)) {
                            sb.appendCodePoint(cp);
                        }
                    }
                }
                if (rnd.nextInt(3) == 0) {
                    sb.append(' ');
                }
            }
            out.add(sb.toString());
        }
        return out;
    }

    private static String longText(int words) {
        String[] vocab = {"attention", "is", "all", "you", "need", "transformer", "encoder", "layers", "multi-head",
            "self-attention", "the", "of", "a", "Zürich", "naïve", "東京", "🚀", "e-mail:", "x@y.z", "1,000", "(see", "below)."};
        Random rnd = new Random(7);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < words; i++) {
            sb.append(vocab[rnd.nextInt(vocab.length)]).append(i % 17 == 16 ? ".\n" : " ");
        }
        return sb.toString();
    }

    private static List<String> corpus() {
        List<String> all = new ArrayList<>(Arrays.asList(HAND_WRITTEN));
        all.addAll(generated(260, 20240531L));
        return all;
    }

    private static void assertSame(String what, ai.djl.huggingface.tokenizers.Encoding expected, Encoding actual) {
        long[] ids = expected.getIds();
        String[] hfTokens = expected.getTokens();
        int n = Math.max(ids.length, actual.length());
        for (int i = 0; i < n; i++) {
            boolean same = i < ids.length && i < actual.length() && ids[i] == actual.ids()[i]
                    && expected.getTypeIds()[i] == actual.typeIds()[i] && expected.getAttentionMask()[i] == actual.attentionMask()[i]
                    && hfTokens[i].equals(actual.tokens()[i]);
            if (!same) {
                fail("mismatch for " + what + " at token " + i + " (lengths hf " + ids.length + ", ours " + actual.length() + ")"
                        + "\n  hf:   " + window(hfTokens, i) + " types " + window(expected.getTypeIds(), i)
                        + "\n  ours: " + window(actual.tokens(), i) + " types " + window(actual.typeIds(), i));
            }
        }
    }

    /** The whole list if short, else the tokens around {@code at}. */
    private static String window(Object[] a, int at) {
        if (a.length <= 64) {
            return Arrays.toString(a);
        }
        int from = Math.max(0, at - 16);
        int to = Math.min(a.length, at + 16);
        return (from > 0 ? "[..." + from + " more, " : "[") + String.join(", ", Arrays.stream(a, from, to).map(String::valueOf).toList())
                + (to < a.length ? ", ..." + (a.length - to) + " more]" : "]");
    }

    private static String window(long[] a, int at) {
        return window(Arrays.stream(a).boxed().toArray(), at);
    }

    private static String window(int[] a, int at) {
        return window(Arrays.stream(a).boxed().toArray(), at);
    }

    private static String show(String s) {
        StringBuilder sb = new StringBuilder("\"");
        s.codePoints().limit(80).forEach(cp -> {
            if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || Character.getType(cp) == Character.FORMAT) {
                sb.append(String.format("\\u%04x", cp));
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.append(s.codePointCount(0, s.length()) > 80 ? "...\"" : "\"").toString();
    }

    @Test
    void corpusMatchesHuggingFace() {
        List<String> corpus = corpus();
        assertTrue(corpus.size() >= 300, "corpus has " + corpus.size() + " strings");
        for (String text : corpus) {
            assertSame(show(text), hf.encode(text), mine.encode(text, 512));
        }
    }

    @Test
    void longTextTruncatedAt512MatchesHuggingFace() throws IOException {
        String text = longText(2000);
        ai.djl.huggingface.tokenizers.Encoding full = hf.encode(text);
        Encoding ours = mine.encode(text, 512);
        assertEquals(512, ours.length());
        assertTrue(ours.truncated());
        assertEquals(full.getIds().length, ours.untruncatedLength());
        try (HuggingFaceTokenizer hf512 = hfTokenizer(512)) {
            assertSame("2,000-word text at 512", hf512.encode(text), ours);
        }
        long[] first = Arrays.copyOf(full.getIds(), 511); // untruncated HF ids: the first 511 agree, then our [SEP]
        for (int i = 0; i < 511; i++) {
            assertEquals(first[i], ours.ids()[i], "id " + i);
        }
        assertEquals(mine.id("[SEP]").orElseThrow(), ours.ids()[511]);
    }

    private static final String[][] PAIRS = {
        {"How old are you?", "I am six years old."},
        {"What is the capital of France?", "Paris is the capital and most populous city of France."},
        {"", "only the second"},
        {"only the first", ""},
        {"", ""},
        {"Zürich café naïve", "東京 タワー 🗼"},
        {"short", "a much much longer second sentence with quite a few more words in it, really"},
        {"a much much longer first sentence with quite a few more words in it, really", "short"},
        {"equal length one two three", "four five six seven eight"},
        {"[MASK] token inside", "and a [SEP] in the second"},
        {"e-mail me at a@b.co", "https://example.com/?q=1"},
        {"Привет мир", "مرحبا بالعالم"},
        {longText(300), longText(200)},
    };

    @Test
    void pairsMatchHuggingFace() throws IOException {
        for (String[] p : PAIRS) { // untruncated
            assertSame("pair " + show(p[0]) + " / " + show(p[1]), hf.encode(p[0], p[1]), mine.encodePair(p[0], p[1], 100_000));
        }
        for (int max : new int[] {3, 4, 5, 8, 9, 12, 17, 128, 512}) {
            try (HuggingFaceTokenizer t = hfTokenizer(max)) {
                for (String[] p : PAIRS) {
                    Encoding ours = mine.encodePair(p[0], p[1], max);
                    assertSame("pair at " + max + " " + show(p[0]) + " / " + show(p[1]), t.encode(p[0], p[1]), ours);
                    assertEquals(hf.encode(p[0], p[1]).getIds().length, ours.untruncatedLength());
                }
                for (String s : HAND_WRITTEN) {
                    assertSame("single at " + max + " " + show(s), t.encode(s), mine.encode(s, max));
                }
            }
        }
    }

    /** Every assigned code point (private use and CJK ideographs sampled), inside a word and alone. */
    @Test
    void everyCodePointMatchesHuggingFace() {
        List<String> texts = new ArrayList<>();
        for (int cp = 1; cp <= Character.MAX_CODE_POINT; cp++) {
            int type = Character.getType(cp);
            if (type == Character.UNASSIGNED || type == Character.SURROGATE
                    || (type == Character.PRIVATE_USE && cp > 0xE0FF)
                    || (Character.isIdeographic(cp) && cp > 0x3000 && cp % 16 != 0)) {
                continue;
            }
            String c = Character.toString(cp);
            texts.add("q" + c + "q " + c + " Q" + c);
        }
        assertTrue(texts.size() > 50_000, "swept " + texts.size());
        for (int off = 0; off < texts.size(); off += 4096) {
            List<String> chunk = texts.subList(off, Math.min(texts.size(), off + 4096));
            ai.djl.huggingface.tokenizers.Encoding[] expected = hf.batchEncode(chunk);
            for (int i = 0; i < chunk.size(); i++) {
                String t = chunk.get(i);
                assertSame("U+" + Integer.toHexString(t.codePointAt(1)).toUpperCase() + " " + show(t), expected[i], mine.encode(t, 512));
            }
        }
    }

    // ---------------------------------------------------------------- hand-computed expectations

    /** A tiny BERT-style tokenizer.json. */
    private static WordPieceTokenizer tiny(int maxInputChars) throws IOException {
        String[] vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "aff", "able", "play",
            "##ing", "##in", "##g", "a", "##a", "!", "cafe", "hello", "world", "##s", "x", "u", "##n"};
        StringBuilder v = new StringBuilder();
        for (int i = 0; i < vocab.length; i++) {
            v.append(i == 0 ? "" : ",").append('"').append(vocab[i]).append("\":").append(i);
        }
        String json = """
            {"version":"1.0","truncation":{"max_length":4},"padding":null,
             "added_tokens":[{"id":0,"content":"[PAD]","normalized":false,"special":true},
                             {"id":1,"content":"[UNK]","normalized":false,"special":true},
                             {"id":2,"content":"[CLS]","normalized":false,"special":true},
                             {"id":3,"content":"[SEP]","normalized":false,"special":true},
                             {"id":4,"content":"[MASK]","normalized":false,"special":true}],
             "normalizer":{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
             "pre_tokenizer":{"type":"BertPreTokenizer"},
             "post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",2]},
             "decoder":{"type":"WordPiece","prefix":"##","cleanup":true},
             "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":%d,
                      "vocab":{%s}}}
            """.formatted(maxInputChars, v);
        return WordPieceTokenizer.fromJson(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void greedyLongestMatchWithContinuations() throws IOException {
        WordPieceTokenizer t = tiny(100);
        assertEquals(List.of("un", "##aff", "##able"), t.tokenizeToStrings("unaffable"));
        assertEquals(List.of("play", "##ing"), t.tokenizeToStrings("playing"));   // ##ing beats ##in + ##g
        assertEquals(List.of("play", "##in"), t.tokenizeToStrings("playin"));
        assertEquals(List.of("a", "##a", "##a"), t.tokenizeToStrings("aaa"));
        assertEquals(List.of("cafe", "!", "hello", "##s"), t.tokenizeToStrings("CAFÉ!Hellos"));
        Encoding e = t.encode("Hello world!", 16);
        assertArrayEquals(new int[] {2, 18, 19, 16, 3}, e.ids());
        assertArrayEquals(new String[] {"[CLS]", "hello", "world", "!", "[SEP]"}, e.tokens());
        assertArrayEquals(new int[] {0, 0, 0, 0, 0}, e.typeIds());
        assertArrayEquals(new int[] {1, 1, 1, 1, 1}, e.attentionMask());
        assertFalse(e.truncated());
        assertEquals(5, e.untruncatedLength());
    }

    @Test
    void unknownWords() throws IOException {
        WordPieceTokenizer wide = tiny(100);
        assertEquals(List.of("[UNK]"), wide.tokenizeToStrings("unaffz"));     // no cover: the whole word is one [UNK]
        assertEquals(List.of("[UNK]", "hello"), wide.tokenizeToStrings("zzz hello"));
        WordPieceTokenizer t = tiny(5);
        assertEquals(List.of("hello"), t.tokenizeToStrings("hello"));          // 5 code points: allowed
        assertEquals(List.of("[UNK]"), t.tokenizeToStrings("helloo"));         // 6 > max_input_chars_per_word
        assertEquals(List.of("[UNK]", "!"), t.tokenizeToStrings("playing!"));  // 7 > 5
        assertEquals(List.of("[UNK]"), t.tokenizeToStrings("😀"));
        assertEquals(List.of("a", "[MASK]", "a"), t.tokenizeToStrings("a[MASK]a"));
        assertEquals(List.of(), t.tokenizeToStrings(" \u200b\u0000 "));
    }

    @Test
    void truncationAndPairs() throws IOException {
        WordPieceTokenizer t = tiny(100);
        Encoding e = t.encode("hello world hello world", 4);   // the file's own max_length is ignored: we pass 4
        assertArrayEquals(new String[] {"[CLS]", "hello", "world", "[SEP]"}, e.tokens());
        assertTrue(e.truncated());
        assertEquals(6, e.untruncatedLength());
        assertArrayEquals(new String[] {"[CLS]", "[SEP]"}, t.encode("hello", 2).tokens());

        Encoding p = t.encodePair("hello world", "cafe", 16);
        assertArrayEquals(new String[] {"[CLS]", "hello", "world", "[SEP]", "cafe", "[SEP]"}, p.tokens());
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1}, p.typeIds());
        // longest_first: room 9 - 3 = 6; a has 6, b has 2 -> a keeps 4, b keeps 2
        Encoding q = t.encodePair("hello world hello world x x", "cafe cafe", 9);
        assertArrayEquals(new String[] {"[CLS]", "hello", "world", "hello", "world", "[SEP]", "cafe", "cafe", "[SEP]"}, q.tokens());
        assertEquals(11, q.untruncatedLength());
        // both long: room 5 -> first keeps 2, second keeps 3
        Encoding r = t.encodePair("x x x x x x", "a a a a a a a", 8);
        assertArrayEquals(new String[] {"[CLS]", "x", "x", "[SEP]", "a", "a", "a", "[SEP]"}, r.tokens());
        assertArrayEquals(new int[] {0, 0, 0, 0, 1, 1, 1, 1}, r.typeIds());
    }

    @Test
    void batchPadsWithPadId() {
        Batch b = mine.encodeBatch(List.of("hello world", "hi"), 512);
        assertEquals(0, mine.padId());
        assertArrayEquals(new int[] {4, 3}, b.lengths());
        assertArrayEquals(new int[] {101, 7592, 2088, 102}, b.ids()[0]);
        assertArrayEquals(new int[] {101, 7632, 102, 0}, b.ids()[1]);
        assertArrayEquals(new int[] {1, 1, 1, 0}, b.attentionMask()[1]);
        assertEquals(2, b.rows());
        assertEquals(4, b.width());
    }

    @Test
    void vocabularyLookups() {
        assertEquals(30522, mine.vocabSize());
        assertEquals("[CLS]", mine.token(101));
        assertEquals(102, mine.id("[SEP]").orElseThrow());
        assertTrue(mine.id("no-such-token").isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mine.token(30522));
        assertTrue(e.getMessage().startsWith("token id 30522 is not in the vocabulary (size 30522)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> mine.token(-1));
        assertTrue(e.getMessage().startsWith("token id -1 "), e.getMessage());
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void maxLengthTooSmall() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mine.encode("hi", 1));
        assertTrue(e.getMessage().contains("maxLength"), e.getMessage());
        IllegalArgumentException p = assertThrows(IllegalArgumentException.class, () -> mine.encodePair("a", "b", 2));
        assertTrue(p.getMessage().contains("maxLength"), p.getMessage());
    }

    @Test
    void rejectsNonWordPieceModels() {
        String bpe = """
            {"version":"1.0","normalizer":null,"pre_tokenizer":{"type":"ByteLevel"},
             "model":{"type":"BPE","vocab":{"a":0},"merges":[]}}
            """;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WordPieceTokenizer.fromJson(new ByteArrayInputStream(bpe.getBytes(StandardCharsets.UTF_8))));
        assertTrue(e.getMessage().contains("WordPiece") && e.getMessage().contains("BPE"), e.getMessage());
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
                () -> WordPieceTokenizer.fromJson(new ByteArrayInputStream("{}".getBytes(StandardCharsets.UTF_8))));
        assertTrue(none.getMessage().contains("WordPiece"), none.getMessage());
    }
}
