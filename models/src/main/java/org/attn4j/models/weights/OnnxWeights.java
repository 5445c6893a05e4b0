package org.attn4j.models.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.weights.OnnxGraph.Node;
import org.attn4j.models.weights.OnnxGraph.OnnxTensor;

/**
 * Reads a BERT-family encoder exported to ONNX (e.g. by {@code torch.onnx.export} / optimum) into
 * {@link ModelWeights} under canonical names, and derives its {@link BertConfig} from the graph.
 *
 * <p>Named initializers keep their names (minus a {@code bert.} prefix). The linear weights of such exports
 * are usually unnamed ({@code onnx::MatMul_787}, already {@code [in, out]}); each gets its name from the
 * graph: the bias initializer {@code X.bias} added to the MatMul's output gives {@code X.weight}, else the
 * MatMul node's name ({@code /encoder/layer.0/attention/self/query/MatMul} gives
 * {@code encoder.layer.0.attention.self.query.weight}).
 *
 * <p>Heads come from the per-head Reshape's shape constant {@code [.., .., heads, headDim]} (a constant or a
 * Concat of constants), or failing that from the attention score scale {@code 1/sqrt(headDim)} (Div by
 * {@code sqrt(headDim)} or Mul by its inverse). Epsilon comes from the decomposed LayerNorm
 * ({@code Add(ReduceMean(Pow(x - mean, 2)), eps)}) or a LayerNormalization node; 1e-12 if neither is found.
 */
public final class OnnxWeights {
    private OnnxWeights() {}

    /** Classpath resource of the embedded all-MiniLM-L6-v2 model. */
    public static final String EMBEDDED_MINILM = "all-minilm-l6-v2.onnx";
    /** The epsilon used when the graph does not show one (BERT's). */
    public static final double DEFAULT_EPS = 1e-12;

    /**
     * A loaded model.
     *
     * @param weights canonical tensors (they share storage with {@code graph}'s initializers)
     * @param config  derived from the shapes and the graph
     * @param graph   the parsed graph
     * @param origins canonical name to the initializer name it was read from (identical for named initializers)
     */
    public record Loaded(ModelWeights weights, BertConfig config, OnnxGraph graph, Map<String, String> origins) {}

    /** The embedded all-MiniLM-L6-v2 (mean pooling). */
    public static Loaded embeddedMiniLm() throws IOException {
        return readResource(EMBEDDED_MINILM, BertConfig.Pooling.MEAN);
    }

    /** A model from a classpath resource of this class's class loader. */
    public static Loaded readResource(String resource, BertConfig.Pooling pooling) throws IOException {
        ClassLoader cl = OnnxWeights.class.getClassLoader();
        try (InputStream in = cl.getResourceAsStream(resource)) {
            if (in == null) throw new IOException("classpath resource '" + resource + "' not found");
            return read(in, "classpath:" + resource, pooling);
        }
    }

    /** {@link #read(Path, BertConfig.Pooling)} with MEAN pooling (sentence-transformers' default; bge models need CLS). */
    public static Loaded read(Path file) throws IOException {
        return read(file, BertConfig.Pooling.MEAN);
    }

    /**
     * Reads a whole {@code .onnx} file into memory and derives the weights and config. Every overload
     * does the same from a different source; they differ only in where the bytes come from and in
     * the name used in messages (the path, or {@code sourceName}). The pooling is not in the graph,
     * so it is the caller's to say.
     *
     * @throws NoSuchFileException if {@code file} does not exist
     * @throws IOException if it cannot be read
     * @throws IllegalArgumentException naming the file if it is over 2 GiB (external data), is not a
     *     well-formed ONNX model, or lacks a BERT tensor, or the heads or shapes contradict each other
     */
    public static Loaded read(Path file, BertConfig.Pooling pooling) throws IOException {
        if (!Files.exists(file)) throw new NoSuchFileException(file.toString(), null, "ONNX model file not found");
        long size = Files.size(file);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(file + ": " + size + " bytes; ONNX files over 2 GiB (external data) are not supported");
        }
        return read(Files.readAllBytes(file), file.toString(), pooling);
    }

    /** Reads the whole stream (not closed), MEAN pooling; {@code sourceName} names it in messages. */
    public static Loaded read(InputStream in, String sourceName) throws IOException {
        return read(in, sourceName, BertConfig.Pooling.MEAN);
    }

    /** {@link #read(Path, BertConfig.Pooling)} from a stream, read to its end and not closed. */
    public static Loaded read(InputStream in, String sourceName, BertConfig.Pooling pooling) throws IOException {
        return read(in.readAllBytes(), sourceName, pooling);
    }

    /**
     * {@link #read(Path, BertConfig.Pooling)} from the file's bytes. The returned weights share
     * storage with the parsed graph, not with {@code bytes}, which the caller may reuse.
     */
    public static Loaded read(byte[] bytes, String sourceName, BertConfig.Pooling pooling) {
        return fromGraph(OnnxGraph.parse(bytes, sourceName), pooling);
    }

    /** Canonical weights and config of a parsed graph. */
    public static Loaded fromGraph(OnnxGraph graph, BertConfig.Pooling pooling) {
        String src = graph.source();
        Map<String, String> renamed = linearWeightNames(graph);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> origins = new TreeMap<>();
        for (OnnxTensor t : graph.initializers().values()) {
            if (!t.isFloat()) continue; // int64 position_ids, shape constants
            String name = renamed.getOrDefault(t.name(), BertWeights.canonical(t.name()));
            String previous = origins.put(name, t.name());
            if (previous != null) {
                throw new IllegalArgumentException(src + ": initializers '" + previous + "' and '" + t.name() + "' both map to '" + name + "'");
            }
            tensors.put(name, Tensor.of(t.floats(), t.intDims()));
        }
        ModelWeights weights = new ModelWeights(tensors, src);
        int hidden = weights.get("embeddings.word_embeddings.weight").dim(weights.get("embeddings.word_embeddings.weight").rank() - 1);
        int heads = heads(graph, hidden);
        double eps = layerNormEps(graph);
        BertConfig config = BertWeights.deriveConfig(weights, heads, eps, pooling);
        return new Loaded(weights, config, graph, Collections.unmodifiableMap(origins));
    }

    /**
     * Initializer name to canonical name for the weights of MatMul/Gemm nodes. Gemm with {@code transB=1}
     * ([out, in]) is not remapped (it would need a transpose); such models then fail validation by name.
     */
    static Map<String, String> linearWeightNames(OnnxGraph g) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            boolean matmul = n.opType().equals("MatMul");
            boolean gemm = n.opType().equals("Gemm");
            if (!matmul && !gemm) continue;
            if (gemm) {
                OnnxGraph.Attribute tb = n.attributes().get("transB");
                if (tb != null && tb.i() != 0) continue;
            }
            String w = n.input(1);
            OnnxTensor t = g.initializers().get(w);
            if (t == null || !t.isFloat() || t.dims().length != 2) continue;
            String canonical = BertWeights.canonical(w);
            if (canonical.endsWith(".weight") && !w.startsWith("onnx::")) continue; // already named
            String name = null;
            if (gemm && n.inputs().size() > 2) name = biasToWeight(n.input(2));
            if (name == null && n.outputs().size() == 1) {
                for (Node c : g.consumers(n.outputs().get(0))) {
                    if (!c.opType().equals("Add")) continue;
                    for (String in : c.inputs()) {
                        if (g.initializers().containsKey(in)) name = biasToWeight(in);
                    }
                }
            }
            if (name == null) name = fromNodeName(n.name());
            if (name != null) out.put(w, name);
        }
        return out;
    }

    private static String biasToWeight(String bias) {
        String b = BertWeights.canonical(bias);
        return b.endsWith(".bias") ? b.substring(0, b.length() - 5) + ".weight" : null;
    }

    /** {@code /bert/encoder/layer.0/attention/self/query/MatMul} to {@code encoder.layer.0.attention.self.query.weight}. */
    static String fromNodeName(String node) {
        String s = node.startsWith("/") ? node.substring(1) : node;
        int slash = s.lastIndexOf('/');
        if (slash <= 0) return null;
        String op = s.substring(slash + 1);
        if (!op.startsWith("MatMul") && !op.startsWith("Gemm")) return null;
        return BertWeights.canonical(s.substring(0, slash).replace('/', '.')) + ".weight";
    }

    /** Attention heads, from the graph; throws if the graph shows none or contradictory values. */
    static int heads(OnnxGraph g, int hidden) {
        List<Integer> fromReshape = new ArrayList<>();
        List<Integer> fromScale = new ArrayList<>();
        for (Node n : g.nodes()) {
            switch (n.opType()) {
                case "Reshape" -> {
                    long[] shape = shapeConstant(g, n.input(1));
                    if (shape != null && shape.length == 4 && shape[2] > 0 && shape[3] > 0 && shape[2] * shape[3] == hidden) {
                        fromReshape.add((int) shape[2]);
                    }
                }
                case "Div", "Mul" -> {
                    Node mm = g.producer(n.input(0));
                    if (mm == null || !mm.opType().equals("MatMul") || g.constant(mm.input(1)) != null) continue;
                    OnnxTensor c = g.constant(n.input(1));
                    if (c == null || !c.isFloat() || c.count() != 1) continue;
                    double v = c.floats()[0];
                    double d = n.opType().equals("Div") ? v * v : 1.0 / (v * v);
                    long headDim = Math.round(d);
                    if (headDim > 0 && Math.abs(d - headDim) < 1e-3 * headDim && hidden % headDim == 0) {
                        fromScale.add((int) (hidden / headDim));
                    }
                }
                default -> { }
            }
        }
        List<Integer> found = fromReshape.isEmpty() ? fromScale : fromReshape;
        String how = fromReshape.isEmpty() ? "attention score scale 1/sqrt(headDim)" : "per-head Reshape shape [.., .., heads, headDim]";
        if (found.isEmpty()) {
            throw new IllegalArgumentException(g.source() + ": cannot derive the number of attention heads: no Reshape to"
                    + " [.., .., heads, headDim] with heads*headDim=" + hidden + " and no Div/Mul by a sqrt(headDim) scale after Q·K^T");
        }
        int heads = found.get(0);
        for (int h : found) {
            if (h != heads) {
                throw new IllegalArgumentException(g.source() + ": contradictory head counts from the " + how + ": " + heads + " and " + h);
            }
        }
        return heads;
    }

    /** The values of a shape input: a constant, or a Concat whose every part is a constant. */
    private static long[] shapeConstant(OnnxGraph g, String value) {
        OnnxTensor c = g.constant(value);
        if (c != null) return c.longs();
        Node p = g.producer(value);
        if (p == null || !p.opType().equals("Concat")) return null;
        long[] out = new long[p.inputs().size()];
        for (int k = 0; k < out.length; k++) {
            OnnxTensor part = g.constant(p.input(k));
            if (part == null || part.longs() == null || part.longs().length != 1) {
                out[k] = -1; // dynamic (batch, sequence)
            } else {
                out[k] = part.longs()[0];
            }
        }
        return out;
    }

    /** LayerNorm epsilon from the graph, or {@link #DEFAULT_EPS}. */
    static double layerNormEps(OnnxGraph g) {
        List<Float> found = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (n.opType().equals("LayerNormalization")) {
                OnnxGraph.Attribute a = n.attributes().get("epsilon");
                found.add(a == null ? 1e-5f : a.f());
            } else if (n.opType().equals("Add") && n.inputs().size() == 2) {
                for (int k = 0; k < 2; k++) {
                    Node mean = g.producer(n.input(k));
                    if (mean == null || !mean.opType().equals("ReduceMean")) continue;
                    Node pow = g.producer(mean.input(0));
                    if (pow == null || !pow.opType().equals("Pow")) continue;
                    OnnxTensor c = g.constant(n.input(1 - k));
                    if (c != null && c.isFloat() && c.count() == 1) found.add(c.floats()[0]);
                }
            }
        }
        if (found.isEmpty()) return DEFAULT_EPS;
        float eps = found.get(0);
        for (float e : found) {
            if (e != eps) throw new IllegalArgumentException(g.source() + ": LayerNorm epsilons differ within the graph: " + eps + " and " + e);
        }
        if (!(eps > 0)) throw new IllegalArgumentException(g.source() + ": LayerNorm epsilon " + eps + " is not positive");
        // the graph holds a float; report the decimal it was written from (1e-12, not 9.99999996e-13)
        return Double.parseDouble(Float.toString(eps));
    }
}
