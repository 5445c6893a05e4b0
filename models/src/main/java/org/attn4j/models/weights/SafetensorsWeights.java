package org.attn4j.models.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.bert.BertConfig;

/**
 * Reads a Hugging Face BERT checkpoint directory: {@code model.safetensors} plus {@code config.json}.
 *
 * <p>safetensors layout: an 8-byte little-endian header length N, N bytes of JSON mapping each tensor name to
 * {@code {"dtype", "shape", "data_offsets": [begin, end]}} (offsets relative to the data after the header;
 * a {@code __metadata__} entry is ignored), then the little-endian data. F32, F16, BF16 and F64 are read as
 * float32; integer tensors (such as {@code position_ids}) are skipped; any other dtype is an error.
 *
 * <p>Names lose a {@code bert.} prefix. The weights of the linear layers ({@code nn.Linear}, stored
 * {@code [out, in]}) are transposed to the canonical {@code [in, out]}: query, key, value,
 * attention.output.dense, intermediate.dense, output.dense of every layer and {@code pooler.dense}.
 * Embeddings and LayerNorm parameters are kept as they are.
 */
public final class SafetensorsWeights {
    private SafetensorsWeights() {}

    public static final String MODEL_FILE = "model.safetensors";
    public static final String CONFIG_FILE = "config.json";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern LINEAR_WEIGHT = Pattern.compile(
            "^(encoder\\.layer\\.\\d+\\.(attention\\.self\\.(query|key|value)|attention\\.output\\.dense|intermediate\\.dense|output\\.dense)"
                    + "|pooler\\.dense)\\.weight$");
    private static final Set<String> INTEGER_DTYPES = Set.of("I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8", "BOOL");
    /** Largest JSON header accepted (the format's reference implementation uses the same 100 MB cap). */
    private static final long MAX_HEADER = 100_000_000L;

    /** A loaded checkpoint: canonical weights and the config from config.json, checked against each other. */
    public record Loaded(ModelWeights weights, BertConfig config) {}

    /** Reads {@code modelDir/model.safetensors} and {@code modelDir/config.json}, mean pooling. */
    public static Loaded read(Path modelDir) throws IOException {
        return read(modelDir, BertConfig.Pooling.MEAN);
    }

    public static Loaded read(Path modelDir, BertConfig.Pooling pooling) throws IOException {
        if (!Files.isDirectory(modelDir)) throw new NoSuchFileException(modelDir.toString(), null, "model directory not found");
        BertConfig config = readConfig(modelDir.resolve(CONFIG_FILE), pooling);
        ModelWeights weights = readTensors(modelDir.resolve(MODEL_FILE));
        BertWeights.validate(weights, config);
        return new Loaded(weights, config);
    }

    /** The BERT config of a Hugging Face {@code config.json}; {@code layer_norm_eps} defaults to 1e-12. */
    public static BertConfig readConfig(Path configJson, BertConfig.Pooling pooling) throws IOException {
        if (!Files.isRegularFile(configJson)) throw new NoSuchFileException(configJson.toString(), null, "config file not found");
        JsonNode root;
        try {
            root = JSON.readTree(configJson.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(configJson + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (root == null || !root.isObject()) throw new IllegalArgumentException(configJson + ": expected a JSON object");
        double eps = 1e-12;
        JsonNode e = root.get("layer_norm_eps");
        if (e != null && !e.isNull()) {
            if (!e.isNumber()) throw new IllegalArgumentException(configJson + ": 'layer_norm_eps' is not a number: " + e);
            eps = e.asDouble();
        }
        try {
            return new BertConfig(intField(root, configJson, "hidden_size"), intField(root, configJson, "num_hidden_layers"),
                    intField(root, configJson, "num_attention_heads"), intField(root, configJson, "intermediate_size"),
                    intField(root, configJson, "max_position_embeddings"), intField(root, configJson, "vocab_size"),
                    intField(root, configJson, "type_vocab_size"), eps, pooling);
        } catch (IllegalArgumentException ex) {
            if (ex.getMessage().startsWith(configJson.toString())) throw ex;
            throw new IllegalArgumentException(configJson + ": " + ex.getMessage(), ex);
        }
    }

    private static int intField(JsonNode root, Path file, String key) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException(file + ": missing '" + key + "'");
        if (!n.canConvertToInt() || !n.isIntegralNumber()) throw new IllegalArgumentException(file + ": '" + key + "' is not an integer: " + n);
        return n.intValue();
    }

    /**
     * Whether the tensor of this canonical name is a linear layer's weight, which Hugging Face files
     * store as {@code nn.Linear}'s {@code [out, in]} and attn4j holds as {@code [in, out]}: read
     * transposes it, and a writer of such files must transpose it back.
     */
    public static boolean storedTransposed(String canonicalName) {
        return LINEAR_WEIGHT.matcher(canonicalName).matches();
    }

    /** The float tensors of a safetensors file under canonical names (linear weights transposed to [in, out]). */
    public static ModelWeights readTensors(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString(), null, "safetensors file not found");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw bad(file, "file has " + size + " bytes, too short for the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen < 2 || headerLen > MAX_HEADER || headerLen > size - 8) {
                throw bad(file, "header length " + Long.toUnsignedString(headerLen) + " does not fit a file of " + size + " bytes");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8);
            JsonNode header;
            try {
                header = JSON.readTree(headerBuf.array());
            } catch (JsonProcessingException e) {
                throw bad(file, "header is not valid JSON: " + e.getOriginalMessage());
            }
            if (header == null || !header.isObject()) throw bad(file, "header is not a JSON object");
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;

            Map<String, Tensor> tensors = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                String name = entry.getKey();
                if (name.equals("__metadata__")) continue;
                JsonNode info = entry.getValue();
                if (!info.isObject()) throw bad(file, "entry '" + name + "' is not an object");
                String dtype = text(file, name, info, "dtype");
                int[] shape = shape(file, name, info);
                long[] offsets = offsets(file, name, info);
                long begin = offsets[0], end = offsets[1];
                if (begin < 0 || end < begin || end > dataLen) {
                    throw bad(file, "tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] outside the " + dataLen + " data bytes");
                }
                if (INTEGER_DTYPES.contains(dtype)) continue;
                int width = switch (dtype) {
                    case "F32" -> 4;
                    case "F16", "BF16" -> 2;
                    case "F64" -> 8;
                    default -> throw bad(file, "tensor '" + name + "' has unsupported dtype " + dtype + " (F32, F16, BF16, F64 are read)");
                };
                long count = 1;
                for (int d : shape) count *= d;
                if (count > Integer.MAX_VALUE - 8) throw bad(file, "tensor '" + name + "' is too large for one array");
                if (count * width != end - begin) {
                    throw bad(file, "tensor '" + name + "' has " + (end - begin) + " data bytes but " + dtype + " shape "
                            + java.util.Arrays.toString(shape) + " needs " + count * width);
                }
                float[] values = new float[(int) count];
                if (count > 0) {
                    MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, end - begin);
                    decode(m.order(ByteOrder.LITTLE_ENDIAN), dtype, values);
                }
                String canonical = BertWeights.canonical(name);
                Tensor t = Tensor.of(values, shape);
                if (shape.length == 2 && storedTransposed(canonical)) t = Tensor.of(t.permute(1, 0).toArray(), shape[1], shape[0]);
                if (tensors.put(canonical, t) != null) throw bad(file, "two tensors map to '" + canonical + "' (with and without 'bert.')");
            }
            return new ModelWeights(tensors, file.toString());
        }
    }

    private static void decode(ByteBuffer b, String dtype, float[] out) {
        switch (dtype) {
            case "F32" -> b.asFloatBuffer().get(out);
            case "F16" -> {
                for (int i = 0; i < out.length; i++) out[i] = Float.float16ToFloat(b.getShort(2 * i));
            }
            case "BF16" -> {
                for (int i = 0; i < out.length; i++) out[i] = Float.intBitsToFloat((b.getShort(2 * i) & 0xffff) << 16);
            }
            case "F64" -> {
                for (int i = 0; i < out.length; i++) out[i] = (float) b.getDouble(8 * i);
            }
            default -> throw new IllegalStateException(dtype);
        }
    }

    private static String text(Path file, String name, JsonNode info, String key) {
        JsonNode n = info.get(key);
        if (n == null || !n.isTextual()) throw bad(file, "tensor '" + name + "' has no string '" + key + "'");
        return n.asText();
    }

    private static int[] shape(Path file, String name, JsonNode info) {
        JsonNode n = info.get("shape");
        if (n == null || !n.isArray()) throw bad(file, "tensor '" + name + "' has no 'shape' array");
        int[] s = new int[n.size()];
        for (int i = 0; i < s.length; i++) {
            JsonNode d = n.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 0) {
                throw bad(file, "tensor '" + name + "' has a bad dimension " + d + " in its shape");
            }
            s[i] = d.intValue();
        }
        return s;
    }

    private static long[] offsets(Path file, String name, JsonNode info) {
        JsonNode n = info.get("data_offsets");
        if (n == null || !n.isArray() || n.size() != 2 || !n.get(0).isIntegralNumber() || !n.get(1).isIntegralNumber()
                || !n.get(0).canConvertToLong() || !n.get(1).canConvertToLong()) {
            throw bad(file, "tensor '" + name + "' has no 'data_offsets' pair of integers");
        }
        return new long[] {n.get(0).longValue(), n.get(1).longValue()};
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new IOException("unexpected end of file");
            pos += n;
        }
    }

    private static IllegalArgumentException bad(Path file, String what) {
        return new IllegalArgumentException(file + ": " + what);
    }
}
