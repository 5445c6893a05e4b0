package org.attn4j.models.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.attn4j.models.io.AtomicFile;

/**
 * Writes float32 tensors as a safetensors file: an 8-byte little-endian header length N, N bytes
 * of JSON ({@code {"__metadata__": {...}, name: {"dtype": "F32", "shape": [...], "data_offsets":
 * [begin, end]}, ...}}, padded with spaces so the data starts at a multiple of 8), then the tensors'
 * little-endian bytes back to back in the order given. The file appears atomically and durably
 * ({@link AtomicFile}: written to a temporary file in the same directory, forced to disk, then moved
 * over the target). Reading is {@link SafetensorsWeights#readTensors}.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A row-major float32 tensor: the shape's element count of {@code values}, starting at
     * {@code offset}. A slice of a larger array (all of a model's parameters in one array, say) is
     * written from where it lies, without a copy.
     */
    public record Entry(float[] values, int offset, int[] shape) {
        public Entry {
            long n = elements(shape);
            if (offset < 0 || offset + n > values.length) {
                throw new IllegalArgumentException("values: shape " + Arrays.toString(shape) + " from offset " + offset + " needs elements ["
                        + offset + ", " + (offset + n) + "), the array has " + values.length);
            }
            shape = shape.clone();
        }

        /** All of {@code values}, which must hold exactly the shape's element count. */
        public Entry(float[] values, int[] shape) {
            this(values, 0, whole(values, shape));
        }

        /** The element count, the product of the shape. */
        public int size() { return (int) elements(shape); }

        private static long elements(int[] shape) {
            long n = 1;
            for (int d : shape) {
                if (d < 0) throw new IllegalArgumentException("shape: negative dimension in " + Arrays.toString(shape));
                n *= d;
            }
            return n;
        }

        private static int[] whole(float[] values, int[] shape) {
            long n = elements(shape);
            if (n != values.length) throw new IllegalArgumentException("shape: " + Arrays.toString(shape) + " holds " + n + " values, got " + values.length);
            return shape;
        }
    }

    /**
     * Writes {@code tensors} (in iteration order) and string {@code metadata} to {@code file}.
     * Throws IllegalArgumentException on an empty or reserved name.
     */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = header.putObject("__metadata__");
            for (Map.Entry<String, String> e : new LinkedHashMap<>(metadata).entrySet()) m.put(e.getKey(), e.getValue());
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.equals("__metadata__")) throw new IllegalArgumentException("tensors: bad tensor name '" + name + "'");
            ObjectNode t = header.putObject(name);
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (int d : e.getValue().shape()) shape.add(d);
            long end = offset + 4L * e.getValue().size();
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsBytes(header);
        } catch (JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = Arrays.copyOf(json, padded);
        Arrays.fill(head, json.length, padded, (byte) ' ');

        AtomicFile.write(file, out -> {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : tensors.values()) {
                float[] v = e.values();
                for (int i = e.offset(), end = i + e.size(); i < end; i++) {
                    if (!buf.hasRemaining()) {
                        out.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                    buf.putFloat(v[i]);
                }
            }
            out.write(buf.array(), 0, buf.position());
        });
    }

    /** The header's JSON as a string, for inspection: reads the 8-byte length and the JSON after it. */
    public static String header(Path file) throws IOException {
        try (var in = java.nio.file.Files.newInputStream(file)) {
            byte[] len = in.readNBytes(8);
            long n = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getLong();
            return new String(in.readNBytes(Math.toIntExact(n)), StandardCharsets.UTF_8);
        }
    }
}
