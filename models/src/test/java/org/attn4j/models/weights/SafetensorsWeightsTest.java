package org.attn4j.models.weights;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.attn4j.models.bert.BertConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWeightsTest {
    private static final BertConfig TINY = new BertConfig(8, 2, 2, 16, 12, 20, 2, 1e-7, BertConfig.Pooling.CLS);
    private static final Pattern LINEAR = Pattern.compile(".*\\.(query|key|value|dense)\\.weight$");

    /** One tensor to write: HF name, dtype, HF shape, the values as stored (row-major in the HF shape). */
    record Entry(String name, String dtype, int[] shape, float[] values) {}

    @Test
    void tinyBertRoundTrips(@TempDir Path dir) throws IOException {
        Random rnd = new Random(42);
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, float[]> expectedCanonical = new LinkedHashMap<>();
        for (BertWeights.Named n : BertWeights.expected(TINY)) {
            int[] canon = n.shape();
            boolean linear = LINEAR.matcher(n.name()).matches();
            int[] hf = linear ? new int[] {canon[1], canon[0]} : canon;
            float[] v = new float[Arrays.stream(hf).reduce(1, (a, b) -> a * b)];
            String dtype = n.name().equals("embeddings.LayerNorm.weight") ? "F16"
                    : n.name().equals("encoder.layer.1.output.dense.bias") ? "BF16" : "F32";
            for (int i = 0; i < v.length; i++) {
                // F16/BF16 get values they represent exactly
                v[i] = dtype.equals("F32") ? (float) rnd.nextGaussian() : (rnd.nextInt(64) - 32) / 8f;
            }
            entries.put("bert." + n.name(), new Entry("bert." + n.name(), dtype, hf, v));
            expectedCanonical.put(n.name(), linear ? transpose(v, hf[0], hf[1]) : v);
        }
        writeSafetensors(dir.resolve("model.safetensors"), entries.values(), true);
        Files.writeString(dir.resolve("config.json"), config(TINY));

        SafetensorsWeights.Loaded loaded = SafetensorsWeights.read(dir, BertConfig.Pooling.CLS);
        assertEquals(TINY, loaded.config());
        ModelWeights w = loaded.weights();
        assertEquals(expectedCanonical.keySet(), w.names(), "position_ids (I64) skipped, bert. stripped");
        for (BertWeights.Named n : BertWeights.expected(TINY)) {
            assertArrayEquals(n.shape(), w.get(n.name()).shape(), n.name());
            assertArrayEquals(expectedCanonical.get(n.name()), w.get(n.name()).toArray(), n.name());
        }
        // spot check of the transpose: canonical [in, out][i][o] == HF [out, in][o][i]
        Entry q = entries.get("bert.encoder.layer.1.attention.self.query.weight");
        assertEquals(q.values()[3 * 8 + 5], w.get("encoder.layer.1.attention.self.query.weight").get(5, 3));
        Entry inter = entries.get("bert.encoder.layer.0.intermediate.dense.weight"); // HF [16, 8]
        assertEquals(inter.values()[11 * 8 + 2], w.get("encoder.layer.0.intermediate.dense.weight", 8, 16).get(2, 11));
    }

    @Test
    void configDefaultsAndErrors(@TempDir Path dir) throws IOException {
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, config(TINY).replace("\"layer_norm_eps\": 1.0E-7,", ""));
        assertEquals(1e-12, SafetensorsWeights.readConfig(cfg, BertConfig.Pooling.MEAN).layerNormEps());
        Files.writeString(cfg, config(TINY).replace("\"num_attention_heads\": 2,", ""));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsWeights.readConfig(cfg, BertConfig.Pooling.MEAN));
        assertEquals(cfg + ": missing 'num_attention_heads'", e.getMessage());
        Files.writeString(cfg, "{ not json");
        e = assertThrows(IllegalArgumentException.class, () -> SafetensorsWeights.readConfig(cfg, BertConfig.Pooling.MEAN));
        assertTrue(e.getMessage().startsWith(cfg + ": not valid JSON"), e.getMessage());
        Files.writeString(cfg, config(TINY).replace("\"num_attention_heads\": 2", "\"num_attention_heads\": 3"));
        e = assertThrows(IllegalArgumentException.class, () -> SafetensorsWeights.readConfig(cfg, BertConfig.Pooling.MEAN));
        assertTrue(e.getMessage().startsWith(cfg + ": BertConfig"), e.getMessage());
    }

    @Test
    void missingConfigOrModelFile(@TempDir Path dir) throws IOException {
        writeSafetensors(dir.resolve("model.safetensors"), java.util.List.of(), false);
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> SafetensorsWeights.read(dir));
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
        Files.delete(dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), config(TINY));
        e = assertThrows(NoSuchFileException.class, () -> SafetensorsWeights.read(dir));
        assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }

    @Test
    void configDisagreeingWithTensorsNamesTheTensor(@TempDir Path dir) throws IOException {
        writeSafetensors(dir.resolve("model.safetensors"), java.util.List.of(new Entry("embeddings.word_embeddings.weight", "F32", new int[] {20, 8}, new float[160])), false);
        Files.writeString(dir.resolve("config.json"), config(TINY));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsWeights.read(dir));
        assertTrue(e.getMessage().contains("missing tensor 'embeddings.position_embeddings.weight'"), e.getMessage());
    }

    @Test
    void badHeaders(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("model.safetensors");
        Files.write(f, new byte[] {1, 2, 3});
        assertBad(f, "too short");
        Files.write(f, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1_000_000).array());
        assertBad(f, "header length 1000000 does not fit a file of 16 bytes");
        Files.write(f, withHeader("{\"a\": [1, 2"));
        assertBad(f, "header is not valid JSON");
        Files.write(f, withHeader("[1, 2]"));
        assertBad(f, "header is not a JSON object");
        Files.write(f, withHeader("{\"w\": {\"dtype\": \"F32\", \"shape\": [2]}}"));
        assertBad(f, "tensor 'w' has no 'data_offsets'");
    }

    @Test
    void badOffsetsAndDtypes(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("model.safetensors");
        Files.write(f, withHeader("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", new byte[8]));
        assertBad(f, "tensor 'w' has data_offsets [0, 16] outside the 8 data bytes");
        Files.write(f, withHeader("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 4]}}", new byte[16]));
        assertBad(f, "data_offsets [8, 4] outside");
        Files.write(f, withHeader("{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", new byte[16]));
        assertBad(f, "tensor 'w' has 16 data bytes but F32 shape [3] needs 12");
        Files.write(f, withHeader("{\"w\": {\"dtype\": \"F8_E4M3\", \"shape\": [4], \"data_offsets\": [0, 4]}}", new byte[4]));
        assertBad(f, "tensor 'w' has unsupported dtype F8_E4M3");
    }

    private static void assertBad(Path f, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SafetensorsWeights.readTensors(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    // ---------------------------------------------------------------- writing the format by hand

    static String config(BertConfig c) {
        return """
                {
                  "architectures": ["BertModel"],
                  "model_type": "bert",
                  "hidden_size": %d,
                  "num_hidden_layers": %d,
                  "num_attention_heads": %d,
                  "intermediate_size": %d,
                  "max_position_embeddings": %d,
                  "vocab_size": %d,
                  "type_vocab_size": %d,
                  "layer_norm_eps": %s,
                  "hidden_act": "gelu"
                }
                """.formatted(c.hidden(), c.layers(), c.heads(), c.intermediate(), c.maxPositions(), c.vocabSize(), c.typeVocabSize(),
                c.layerNormEps());
    }

    static void writeSafetensors(Path file, Iterable<Entry> entries, boolean withExtras) throws IOException {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        StringBuilder json = new StringBuilder("{");
        if (withExtras) json.append("\"__metadata__\": {\"format\": \"pt\"}, ");
        for (Entry e : entries) {
            long begin = data.size();
            ByteBuffer b = ByteBuffer.allocate(e.values().length * (e.dtype().equals("F32") ? 4 : 2)).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : e.values()) {
                switch (e.dtype()) {
                    case "F32" -> b.putFloat(v);
                    case "F16" -> b.putShort(Float.floatToFloat16(v));
                    case "BF16" -> b.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                    default -> throw new AssertionError(e.dtype());
                }
            }
            data.writeBytes(b.array());
            json.append("\"%s\": {\"dtype\": \"%s\", \"shape\": %s, \"data_offsets\": [%d, %d]}, "
                    .formatted(e.name(), e.dtype(), Arrays.toString(e.shape()), begin, data.size()));
        }
        if (withExtras) {
            long begin = data.size();
            ByteBuffer b = ByteBuffer.allocate(8 * 12).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < 12; i++) b.putLong(i);
            data.writeBytes(b.array());
            json.append("\"bert.embeddings.position_ids\": {\"dtype\": \"I64\", \"shape\": [1, 12], \"data_offsets\": [%d, %d]}, "
                    .formatted(begin, data.size()));
        }
        String h = json.toString().replaceAll(", $", "") + "}";
        Files.write(file, withHeader(h + "   ", data.toByteArray())); // trailing spaces pad the header, as writers do for alignment
    }

    static byte[] withHeader(String json, byte[]... data) {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.writeBytes(h);
        for (byte[] d : data) out.writeBytes(d);
        return out.toByteArray();
    }

    static float[] transpose(float[] v, int rows, int cols) {
        float[] t = new float[v.length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = v[r * cols + c];
        return t;
    }
}
