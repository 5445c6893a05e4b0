package org.attn4j.models.embed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.tokenizer.WordPieceTokenizer;
import org.attn4j.models.weights.ModelWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCacheTest {
    private static final List<String> TEXTS = List.of("hello world", "unaffable playing cafe!", "a", "x u n hello hello world world a a a");

    @TempDir Path tmp;

    @Test
    void aCachedModelGivesBitIdenticalEmbeddingsWithoutPreparingAgain() throws IOException {
        AtomicInteger prepared = new AtomicInteger();
        Embedder fresh = ModelCache.load(tmp, "tiny", "src=1", () -> { prepared.incrementAndGet(); return tiny(7); });
        assertEquals(1, prepared.get());
        assertEquals(1, entries().size(), "one entry written");
        Embedder cached = ModelCache.load(tmp, "tiny", "src=1", () -> { prepared.incrementAndGet(); return tiny(7); });
        assertEquals(1, prepared.get(), "the second load must come from the cache");
        assertNotSame(fresh.encoder(), cached.encoder());
        assertEquals(fresh.encoder().config(), cached.encoder().config());
        assertEquals(fresh.name(), cached.name());
        float[][] a = fresh.embed(TEXTS), b = cached.embed(TEXTS);
        for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i], 0f, "text " + i);
        for (String t : TEXTS) assertEquals(fresh.tokenizer().encode(t, 16), cached.tokenizer().encode(t, 16));
        // a different model (other weights) must not be confused with it: the embeddings really differ
        assertFalse(java.util.Arrays.equals(a[0], tiny(8).embed(TEXTS)[0]));
    }

    @Test
    void aChangedModelOrCodeKeyPreparesAgainAndReplacesTheOldEntry() throws IOException {
        AtomicInteger prepared = new AtomicInteger();
        ModelCache.load(tmp, "tiny", "src=1", () -> { prepared.incrementAndGet(); return tiny(7); });
        Path first = entries().get(0);
        Embedder changed = ModelCache.load(tmp, "tiny", "src=2", () -> { prepared.incrementAndGet(); return tiny(8); });
        assertEquals(2, prepared.get());
        assertEquals(1, entries().size(), "the older entry of the same model is removed");
        assertNotEquals(first, entries().get(0));
        Embedder again = ModelCache.load(tmp, "tiny", "src=2", () -> { prepared.incrementAndGet(); return tiny(7); });
        assertEquals(2, prepared.get());
        assertArrayEquals(changed.embed(TEXTS)[1], again.embed(TEXTS)[1], 0f);
    }

    @Test
    void aDirectoryThatCannotBeWrittenOnlyCostsThePreparation() throws IOException {
        Path notADir = Files.writeString(tmp.resolve("plain-file"), "x"); // createDirectories fails under it, even as root
        AtomicInteger prepared = new AtomicInteger();
        for (int i = 0; i < 2; i++) {
            Embedder e = ModelCache.load(notADir.resolve("cache"), "tiny", "src=1", () -> { prepared.incrementAndGet(); return tiny(7); });
            assertArrayEquals(tiny(7).embed(TEXTS)[0], e.embed(TEXTS)[0], 0f);
        }
        assertEquals(2, prepared.get());
        Path ro = Files.createDirectories(tmp.resolve("ro"));
        if (ro.toFile().setWritable(false, false) && !Files.isWritable(ro)) { // a real read-only directory (not when running as root)
            Embedder e = ModelCache.load(ro, "tiny", "src=1", () -> tiny(7));
            assertEquals(4, e.embed(TEXTS).length);
            try (Stream<Path> s = Files.list(ro)) {
                assertEquals(0, s.count());
            }
        }
    }

    @Test
    void aTruncatedOrForeignEntryIsIgnoredAndReplaced() throws IOException {
        ModelCache.load(tmp, "tiny", "src=1", () -> tiny(7));
        Path entry = entries().get(0);
        long size = Files.size(entry);
        try (FileChannel ch = FileChannel.open(entry, StandardOpenOption.WRITE)) {
            ch.truncate(size - 100);
        }
        AtomicInteger prepared = new AtomicInteger();
        Embedder e = ModelCache.load(tmp, "tiny", "src=1", () -> { prepared.incrementAndGet(); return tiny(7); });
        assertEquals(1, prepared.get(), "a truncated entry is not used");
        assertEquals(size, Files.size(entries().get(0)), "and it is rewritten whole");
        assertArrayEquals(tiny(7).embed(TEXTS)[2], e.embed(TEXTS)[2], 0f);

        Files.writeString(entries().get(0), "not a model at all");
        ModelCache.load(tmp, "tiny", "src=1", () -> { prepared.incrementAndGet(); return tiny(7); });
        assertEquals(2, prepared.get(), "a foreign file is not used");
        assertTrue(ModelCache.read(entries().get(0), "another key") == null, "an entry is only read back under its own key");
    }

    @Test
    void theMiniLmTokenizerSurvivesItsCompactForm() throws IOException {
        WordPieceTokenizer t = WordPieceTokenizer.embeddedMiniLm();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        t.writeCompact(new DataOutputStream(bytes));
        WordPieceTokenizer back = WordPieceTokenizer.readCompact(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertEquals(t.vocabSize(), back.vocabSize());
        for (int id = 0; id < t.vocabSize(); id += 97) assertEquals(t.token(id), back.token(id));
        for (String s : List.of("Hello, World!", "[CLS] déjà vu [MASK] naïve café", "北京欢迎你 ありがとう", "unbelievably-long-hyphenated-word",
                "emoji 🙂 and control\u0007chars", "   ", "Ωμέγα ΣΊΣΥΦΟΣ", "x".repeat(150))) {
            assertEquals(t.encode(s, 512), back.encode(s, 512), s);
            assertEquals(t.encodePair(s, "second [SEP] part", 64), back.encodePair(s, "second [SEP] part", 64), s);
        }
    }

    @Test
    void theEmbeddedMiniLmLoadsFromTheCacheWithTheSameEmbeddings() throws IOException {
        String before = System.getProperty("attn4j.cache.dir");
        System.setProperty("attn4j.cache.dir", tmp.toString());
        try {
            Embedder fresh = Embedder.load(Embedder.MINILM);
            assertEquals(1, entries().size());
            Embedder cached = Embedder.load(Embedder.MINILM);
            List<String> texts = List.of("A cat sits on the mat.", "Attention is all you need.");
            float[][] a = fresh.embed(texts), b = cached.embed(texts);
            for (int i = 0; i < a.length; i++) assertArrayEquals(a[i], b[i], 0f);
        } finally {
            if (before == null) System.clearProperty("attn4j.cache.dir");
            else System.setProperty("attn4j.cache.dir", before);
        }
    }

    private List<Path> entries() throws IOException {
        try (Stream<Path> s = Files.list(tmp.resolve("models"))) {
            return s.filter(p -> p.getFileName().toString().endsWith(".a4jm") && !p.getFileName().toString().startsWith(".tmp")).toList();
        }
    }

    /** A random 2-layer BERT (hidden 16, 2 heads) over a tiny WordPiece vocabulary. */
    static Embedder tiny(long seed) throws IOException {
        String[] vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "aff", "able", "play",
            "##ing", "##in", "##g", "a", "##a", "!", "cafe", "hello", "world", "##s", "x", "u", "##n"};
        StringBuilder v = new StringBuilder();
        for (int i = 0; i < vocab.length; i++) v.append(i == 0 ? "" : ",").append('"').append(vocab[i]).append("\":").append(i);
        String json = """
            {"added_tokens":[{"id":0,"content":"[PAD]","normalized":false},{"id":2,"content":"[CLS]","normalized":false},
                             {"id":3,"content":"[SEP]","normalized":false},{"id":4,"content":"[MASK]","normalized":false}],
             "normalizer":{"type":"BertNormalizer","lowercase":true},
             "pre_tokenizer":{"type":"BertPreTokenizer"},
             "model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{%s}}}
            """.formatted(v);
        WordPieceTokenizer tok = WordPieceTokenizer.fromJson(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
        int h = 16, inner = 40, layers = 2, positions = 32;
        BertConfig cfg = new BertConfig(h, layers, 2, inner, positions, vocab.length, 2, 1e-12, BertConfig.Pooling.MEAN);
        Random r = new Random(seed);
        Map<String, Tensor> m = new HashMap<>();
        put(m, r, "embeddings.word_embeddings.weight", vocab.length, h);
        put(m, r, "embeddings.position_embeddings.weight", positions, h);
        put(m, r, "embeddings.token_type_embeddings.weight", 2, h);
        put(m, r, "embeddings.LayerNorm.weight", h);
        put(m, r, "embeddings.LayerNorm.bias", h);
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            for (String n : new String[] {"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"}) {
                put(m, r, p + n + ".weight", h, h);
                put(m, r, p + n + ".bias", h);
            }
            put(m, r, p + "intermediate.dense.weight", h, inner);
            put(m, r, p + "intermediate.dense.bias", inner);
            put(m, r, p + "output.dense.weight", inner, h);
            put(m, r, p + "output.dense.bias", h);
            for (String ln : new String[] {"attention.output.LayerNorm", "output.LayerNorm"}) {
                put(m, r, p + ln + ".weight", h);
                put(m, r, p + ln + ".bias", h);
            }
        }
        return Embedder.of("tiny", new BertEncoder(cfg, new ModelWeights(m, "tiny(seed " + seed + ")")), tok);
    }

    private static void put(Map<String, Tensor> m, Random r, String name, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * 0.3);
        m.put(name, Tensor.of(a, shape));
    }
}
