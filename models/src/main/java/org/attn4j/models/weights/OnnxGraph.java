package org.attn4j.models.weights;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX {@code ModelProto} a weight reader needs: the graph's nodes, initializers,
 * inputs and outputs. Parsed straight from the protobuf wire format by field number with
 * {@link CodedInputStream}; no generated ONNX classes.
 *
 * <p>Float tensors (FLOAT, FLOAT16, DOUBLE) are decoded to {@code float[]}, integer tensors
 * (INT64, INT32) to {@code long[]}; other element types keep their header only. Tensors whose
 * data lives outside the file ({@code external_data}) are rejected.
 */
public final class OnnxGraph {
    /** ONNX TensorProto.DataType values this reader knows. */
    public static final int FLOAT = 1, INT32 = 6, INT64 = 7, FLOAT16 = 10, DOUBLE = 11;

    /** A tensor: an initializer or a Constant node's value. Exactly one of floats/longs is non-null for supported types. */
    public record OnnxTensor(String name, int dataType, long[] dims, float[] floats, long[] longs) {
        public long count() {
            long n = 1;
            for (long d : dims) n *= d;
            return n;
        }

        public int[] intDims() {
            int[] s = new int[dims.length];
            for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(dims[i]);
            return s;
        }

        public boolean isFloat() { return floats != null; }
        public boolean isInteger() { return longs != null; }

        /** The values as doubles, whatever the numeric type (null for unsupported types). */
        public double[] asDoubles() {
            if (floats != null) {
                double[] d = new double[floats.length];
                for (int i = 0; i < d.length; i++) d[i] = floats[i];
                return d;
            }
            if (longs != null) return Arrays.stream(longs).asDoubleStream().toArray();
            return null;
        }

        @Override
        public String toString() {
            return "OnnxTensor[" + name + ", type " + dataType + ", dims " + Arrays.toString(dims) + "]";
        }
    }

    /** A node attribute; only the fields matching its kind are meaningful. */
    public record Attribute(String name, int type, float f, long i, String s, OnnxTensor t, float[] floats, long[] ints) {}

    /** A graph node. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs, Map<String, Attribute> attributes) {
        public String input(int k) { return k < inputs.size() ? inputs.get(k) : ""; }
    }

    private final String source;
    private final long irVersion;
    private final long opsetVersion;
    private final String producer;
    private final String graphName;
    private final List<Node> nodes;
    private final Map<String, OnnxTensor> initializers;
    private final List<String> inputs;
    private final List<String> outputs;
    private final Map<String, Node> producers = new HashMap<>();
    private final Map<String, List<Node>> consumers = new HashMap<>();

    private OnnxGraph(String source, long irVersion, long opsetVersion, String producer, String graphName, List<Node> nodes,
                      Map<String, OnnxTensor> initializers, List<String> inputs, List<String> outputs) {
        this.source = source;
        this.irVersion = irVersion;
        this.opsetVersion = opsetVersion;
        this.producer = producer;
        this.graphName = graphName;
        this.nodes = Collections.unmodifiableList(nodes);
        this.initializers = Collections.unmodifiableMap(initializers);
        this.inputs = Collections.unmodifiableList(inputs);
        this.outputs = Collections.unmodifiableList(outputs);
        for (Node n : nodes) {
            for (String o : n.outputs()) producers.put(o, n);
            for (String i : n.inputs()) if (!i.isEmpty()) consumers.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
        }
    }

    public String source() { return source; }
    public long irVersion() { return irVersion; }
    /** Version of the default ("" / "ai.onnx") operator set, or 0 if none is declared. */
    public long opsetVersion() { return opsetVersion; }
    public String producer() { return producer; }
    public String graphName() { return graphName; }
    public List<Node> nodes() { return nodes; }
    /** Initializers by name, in file order. */
    public Map<String, OnnxTensor> initializers() { return initializers; }
    /** Names of the graph inputs that are not initializers. */
    public List<String> inputs() { return inputs; }
    public List<String> outputs() { return outputs; }

    /** The node that produces {@code value}, or null (a graph input or an initializer). */
    public Node producer(String value) { return producers.get(value); }

    /** The nodes that read {@code value}. */
    public List<Node> consumers(String value) { return consumers.getOrDefault(value, List.of()); }

    /**
     * The constant behind {@code value}: an initializer, or the {@code value} tensor of the Constant node
     * producing it (also through Identity, Unsqueeze and Cast of a constant); null if it is computed.
     */
    public OnnxTensor constant(String value) {
        for (int hop = 0; hop < 8 && value != null; hop++) {
            OnnxTensor t = initializers.get(value);
            if (t != null) return t;
            Node p = producers.get(value);
            if (p == null) return null;
            switch (p.opType()) {
                case "Constant" -> {
                    Attribute a = p.attributes().get("value");
                    if (a != null && a.t() != null) return a.t();
                    a = p.attributes().get("value_float");
                    if (a != null) return new OnnxTensor(value, FLOAT, new long[0], new float[] {a.f()}, null);
                    a = p.attributes().get("value_int");
                    if (a != null) return new OnnxTensor(value, INT64, new long[0], null, new long[] {a.i()});
                    a = p.attributes().get("value_ints");
                    if (a != null && a.ints() != null) return new OnnxTensor(value, INT64, new long[] {a.ints().length}, null, a.ints());
                    return null;
                }
                case "Identity", "Unsqueeze", "Cast" -> value = p.input(0); // values unchanged (shape aside)
                default -> { return null; }
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ parsing

    /**
     * Parses an ONNX model held in {@code bytes}. The float data is copied out, so the array can be dropped afterwards.
     *
     * @throws IllegalArgumentException naming {@code source} if the bytes are not a well-formed ONNX model
     */
    public static OnnxGraph parse(byte[] bytes, String source) {
        try {
            return new Parser(bytes, source).model();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(source + ": truncated or corrupt ONNX file (" + bytes.length + " bytes): " + e.getMessage(), e);
        } catch (IOException e) {
            throw new IllegalArgumentException(source + ": cannot parse ONNX file: " + e.getMessage(), e);
        } catch (ArithmeticException | NegativeArraySizeException e) {
            throw new IllegalArgumentException(source + ": corrupt ONNX file: a size does not fit (" + e.getMessage() + ")", e);
        }
    }

    private static final class Parser {
        private final byte[] bytes;
        private final String source;
        private final CodedInputStream in;

        Parser(byte[] bytes, String source) {
            this.bytes = bytes;
            this.source = source;
            this.in = CodedInputStream.newInstance(bytes);
        }

        private IllegalArgumentException bad(String what) {
            return new IllegalArgumentException(source + ": not a valid ONNX model: " + what);
        }

        /** Reads the length of a length-delimited field and narrows the stream to it; returns the old limit. */
        private int enter() throws IOException {
            int len = in.readRawVarint32();
            if (len < 0) throw bad("negative length " + len + " at byte " + in.getTotalBytesRead());
            return in.pushLimit(len);
        }

        private static boolean is(int tag, int wireType) {
            return WireFormat.getTagWireType(tag) == wireType;
        }

        OnnxGraph model() throws IOException {
            long ir = -1, opset = 0;
            String producer = "";
            GraphParts graph = null;
            int tag;
            while ((tag = in.readTag()) != 0) {
                int field = WireFormat.getTagFieldNumber(tag);
                if (field == 1 && is(tag, WireFormat.WIRETYPE_VARINT)) {
                    ir = in.readInt64();
                } else if (field == 2 && is(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                    producer = in.readString();
                } else if (field == 7 && is(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                    int old = enter();
                    graph = graph();
                    in.popLimit(old);
                } else if (field == 8 && is(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                    int old = enter();
                    String domain = "";
                    long version = 0;
                    int t;
                    while ((t = in.readTag()) != 0) {
                        int f = WireFormat.getTagFieldNumber(t);
                        if (f == 1 && is(t, WireFormat.WIRETYPE_LENGTH_DELIMITED)) domain = in.readString();
                        else if (f == 2 && is(t, WireFormat.WIRETYPE_VARINT)) version = in.readInt64();
                        else in.skipField(t);
                    }
                    in.popLimit(old);
                    if (domain.isEmpty() || domain.equals("ai.onnx")) opset = version;
                } else {
                    in.skipField(tag);
                }
            }
            if (graph == null) {
                throw bad("no graph (ModelProto field 7) in " + bytes.length + " bytes" + (ir < 0 ? " and no ir_version; is this an ONNX file?" : ""));
            }
            List<String> realInputs = new ArrayList<>();
            for (String i : graph.inputs) if (!graph.initializers.containsKey(i)) realInputs.add(i);
            return new OnnxGraph(source, ir, opset, producer, graph.name, graph.nodes, graph.initializers, realInputs, graph.outputs);
        }

        private static final class GraphParts {
            String name = "";
            final List<Node> nodes = new ArrayList<>();
            final Map<String, OnnxTensor> initializers = new LinkedHashMap<>();
            final List<String> inputs = new ArrayList<>();
            final List<String> outputs = new ArrayList<>();
        }

        private GraphParts graph() throws IOException {
            GraphParts g = new GraphParts();
            int tag;
            while ((tag = in.readTag()) != 0) {
                int field = WireFormat.getTagFieldNumber(tag);
                if (!is(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                    in.skipField(tag);
                    continue;
                }
                switch (field) {
                    case 1 -> {
                        int old = enter();
                        g.nodes.add(node());
                        in.popLimit(old);
                    }
                    case 2 -> g.name = in.readString();
                    case 5 -> {
                        int old = enter();
                        OnnxTensor t = tensor();
                        in.popLimit(old);
                        g.initializers.put(t.name(), t);
                    }
                    case 11, 12 -> {
                        int old = enter();
                        String name = valueInfoName();
                        in.popLimit(old);
                        (field == 11 ? g.inputs : g.outputs).add(name);
                    }
                    default -> in.skipField(tag);
                }
            }
            return g;
        }

        /** ValueInfoProto: only its name (field 1). */
        private String valueInfoName() throws IOException {
            String name = "";
            int tag;
            while ((tag = in.readTag()) != 0) {
                if (WireFormat.getTagFieldNumber(tag) == 1 && is(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED)) name = in.readString();
                else in.skipField(tag);
            }
            return name;
        }

        private Node node() throws IOException {
            List<String> inputs = new ArrayList<>(), outputs = new ArrayList<>();
            String name = "", op = "";
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            int tag;
            while ((tag = in.readTag()) != 0) {
                int field = WireFormat.getTagFieldNumber(tag);
                if (!is(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                    in.skipField(tag);
                    continue;
                }
                switch (field) {
                    case 1 -> inputs.add(in.readString());
                    case 2 -> outputs.add(in.readString());
                    case 3 -> name = in.readString();
                    case 4 -> op = in.readString();
                    case 5 -> {
                        int old = enter();
                        Attribute a = attribute();
                        in.popLimit(old);
                        attrs.put(a.name(), a);
                    }
                    default -> in.skipField(tag);
                }
            }
            return new Node(name, op, List.copyOf(inputs), List.copyOf(outputs), Collections.unmodifiableMap(attrs));
        }

        /** AttributeProto: name=1, f=2, i=3, s=4, t=5, floats=7, ints=8, type=20; subgraphs and the rest skipped. */
        private Attribute attribute() throws IOException {
            String name = "", s = null;
            int type = 0;
            float f = 0;
            long i = 0;
            OnnxTensor t = null;
            FloatList floats = null;
            LongList ints = null;
            int tag;
            while ((tag = in.readTag()) != 0) {
                int field = WireFormat.getTagFieldNumber(tag);
                int wt = WireFormat.getTagWireType(tag);
                if (field == 1 && wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) name = in.readString();
                else if (field == 2 && wt == WireFormat.WIRETYPE_FIXED32) f = in.readFloat();
                else if (field == 3 && wt == WireFormat.WIRETYPE_VARINT) i = in.readInt64();
                else if (field == 4 && wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) s = in.readBytes().toStringUtf8();
                else if (field == 5 && wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                    int old = enter();
                    t = tensor();
                    in.popLimit(old);
                } else if (field == 7 && (wt == WireFormat.WIRETYPE_FIXED32 || wt == WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                    if (floats == null) floats = new FloatList();
                    readFloats(wt, floats);
                } else if (field == 8 && (wt == WireFormat.WIRETYPE_VARINT || wt == WireFormat.WIRETYPE_LENGTH_DELIMITED)) {
                    if (ints == null) ints = new LongList();
                    readVarints(wt, ints);
                } else if (field == 20 && wt == WireFormat.WIRETYPE_VARINT) type = in.readInt32();
                else in.skipField(tag);
            }
            return new Attribute(name, type, f, i, s, t, floats == null ? null : floats.toArray(), ints == null ? null : ints.toArray());
        }

        /** TensorProto: dims=1, data_type=2, float_data=4, int32_data=5, int64_data=7, name=8, raw_data=9, double_data=10, external_data=13, data_location=14. */
        private OnnxTensor tensor() throws IOException {
            LongList dims = new LongList();
            int dataType = 0;
            String name = "";
            int rawOffset = -1, rawLength = 0;
            FloatList floatData = null;
            LongList intData = null;
            double[] doubleData = null;
            int tag;
            while ((tag = in.readTag()) != 0) {
                int field = WireFormat.getTagFieldNumber(tag);
                int wt = WireFormat.getTagWireType(tag);
                switch (field) {
                    case 1 -> {
                        if (wt == WireFormat.WIRETYPE_VARINT || wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) readVarints(wt, dims);
                        else in.skipField(tag);
                    }
                    case 2 -> {
                        if (wt == WireFormat.WIRETYPE_VARINT) dataType = in.readInt32();
                        else in.skipField(tag);
                    }
                    case 4 -> {
                        if (wt == WireFormat.WIRETYPE_FIXED32 || wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                            if (floatData == null) floatData = new FloatList();
                            readFloats(wt, floatData);
                        } else in.skipField(tag);
                    }
                    case 5, 7 -> {
                        if (wt == WireFormat.WIRETYPE_VARINT || wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                            if (intData == null) intData = new LongList();
                            readVarints(wt, intData);
                        } else in.skipField(tag);
                    }
                    case 8 -> {
                        if (wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) name = in.readString();
                        else in.skipField(tag);
                    }
                    case 9 -> {
                        if (wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                            rawLength = in.readRawVarint32();
                            if (rawLength < 0) throw bad("negative raw_data length at byte " + in.getTotalBytesRead());
                            rawOffset = in.getTotalBytesRead();
                            in.skipRawBytes(rawLength); // throws if the file ends first
                        } else in.skipField(tag);
                    }
                    case 10 -> {
                        if (wt == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                            int old = enter();
                            List<Double> ds = new ArrayList<>();
                            while (!in.isAtEnd()) ds.add(in.readDouble());
                            in.popLimit(old);
                            doubleData = ds.stream().mapToDouble(Double::doubleValue).toArray();
                        } else if (wt == WireFormat.WIRETYPE_FIXED64) {
                            double d = in.readDouble();
                            doubleData = doubleData == null ? new double[] {d} : appendDouble(doubleData, d);
                        } else in.skipField(tag);
                    }
                    case 13 -> {
                        in.skipField(tag);
                        throw new IllegalArgumentException(source + ": tensor '" + name + "' keeps its data in an external file"
                                + " (external_data); only self-contained ONNX files are supported");
                    }
                    case 14 -> {
                        if (wt != WireFormat.WIRETYPE_VARINT) {
                            in.skipField(tag);
                            continue;
                        }
                        long loc = in.readInt64();
                        if (loc == 1) {
                            throw new IllegalArgumentException(source + ": tensor '" + name + "' has data_location EXTERNAL;"
                                    + " only self-contained ONNX files are supported");
                        }
                    }
                    default -> in.skipField(tag);
                }
            }
            long[] shape = dims.toArray();
            long count = 1;
            for (long d : shape) {
                if (d < 0 || d > Integer.MAX_VALUE) throw bad("tensor '" + name + "' has dimension " + d);
                count *= d;
                if (count > Integer.MAX_VALUE - 8) throw bad("tensor '" + name + "' with dims " + Arrays.toString(shape) + " is too large");
            }
            int n = (int) count;
            float[] floats = null;
            long[] longs = null;
            switch (dataType) {
                case FLOAT, FLOAT16, DOUBLE -> {
                    int width = dataType == FLOAT ? 4 : dataType == FLOAT16 ? 2 : 8;
                    if (rawOffset >= 0) {
                        checkRaw(name, rawLength, n, width);
                        floats = new float[n];
                        ByteBuffer b = ByteBuffer.wrap(bytes, rawOffset, rawLength).slice().order(ByteOrder.LITTLE_ENDIAN);
                        if (dataType == FLOAT) b.asFloatBuffer().get(floats);
                        else if (dataType == FLOAT16) for (int k = 0; k < n; k++) floats[k] = Float.float16ToFloat(b.getShort(2 * k));
                        else for (int k = 0; k < n; k++) floats[k] = (float) b.getDouble(8 * k);
                    } else if (dataType == DOUBLE) {
                        double[] d = doubleData == null ? new double[0] : doubleData;
                        checkCount(name, d.length, n);
                        floats = new float[n];
                        for (int k = 0; k < n; k++) floats[k] = (float) d[k];
                    } else if (dataType == FLOAT16) {
                        // float16 values travel as the low 16 bits of int32_data
                        long[] bits = intData == null ? new long[0] : intData.toArray();
                        checkCount(name, bits.length, n);
                        floats = new float[n];
                        for (int k = 0; k < n; k++) floats[k] = Float.float16ToFloat((short) bits[k]);
                    } else {
                        floats = floatData == null ? new float[0] : floatData.toArray();
                        checkCount(name, floats.length, n);
                    }
                }
                case INT64, INT32 -> {
                    int width = dataType == INT64 ? 8 : 4;
                    if (rawOffset >= 0) {
                        checkRaw(name, rawLength, n, width);
                        longs = new long[n];
                        ByteBuffer b = ByteBuffer.wrap(bytes, rawOffset, rawLength).slice().order(ByteOrder.LITTLE_ENDIAN);
                        for (int k = 0; k < n; k++) longs[k] = width == 8 ? b.getLong(8 * k) : b.getInt(4 * k);
                    } else {
                        longs = intData == null ? new long[0] : intData.toArray();
                        if (dataType == INT32) for (int k = 0; k < longs.length; k++) longs[k] = (int) longs[k];
                        checkCount(name, longs.length, n);
                    }
                }
                default -> { } // other element types: header only
            }
            return new OnnxTensor(name, dataType, shape, floats, longs);
        }

        private void checkRaw(String name, int rawLength, int n, int width) {
            if ((long) n * width != rawLength) {
                throw bad("tensor '" + name + "' has " + rawLength + " bytes of raw_data but its dims need " + n + " x " + width + " bytes");
            }
        }

        private void checkCount(String name, int have, int n) {
            if (have != n) throw bad("tensor '" + name + "' has " + have + " values but its dims need " + n);
        }

        private static double[] appendDouble(double[] a, double d) {
            double[] b = Arrays.copyOf(a, a.length + 1);
            b[a.length] = d;
            return b;
        }

        /** A repeated varint field, packed or not. */
        private void readVarints(int wireType, LongList out) throws IOException {
            if (wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int old = enter();
                while (!in.isAtEnd()) out.add(in.readInt64());
                in.popLimit(old);
            } else {
                out.add(in.readInt64());
            }
        }

        /** A repeated float field, packed or not. */
        private void readFloats(int wireType, FloatList out) throws IOException {
            if (wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int old = enter();
                while (!in.isAtEnd()) out.add(in.readFloat());
                in.popLimit(old);
            } else {
                out.add(in.readFloat());
            }
        }
    }

    private static final class LongList {
        long[] a = new long[8];
        int n;
        void add(long v) {
            if (n == a.length) a = Arrays.copyOf(a, 2 * n);
            a[n++] = v;
        }
        long[] toArray() { return Arrays.copyOf(a, n); }
    }

    private static final class FloatList {
        float[] a = new float[8];
        int n;
        void add(float v) {
            if (n == a.length) a = Arrays.copyOf(a, 2 * n);
            a[n++] = v;
        }
        float[] toArray() { return Arrays.copyOf(a, n); }
    }
}
