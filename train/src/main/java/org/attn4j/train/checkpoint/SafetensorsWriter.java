package org.attn4j.train.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes float32 tensors as a safetensors file (the format of Hugging Face's {@code safetensors}):
 * an 8-byte little-endian header length N, N bytes of JSON mapping each name to
 * {@code {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}} (plus an optional
 * {@code __metadata__} object of strings), padded with spaces to a multiple of 8 bytes, then the
 * tensors' little-endian data back to back in the order given. The file is forced to disk before
 * {@link #write} returns. Reading is {@code org.attn4j.models.weights.SafetensorsWeights#readTensors}.
 */
public final class SafetensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SafetensorsWriter() {}

    /**
     * One tensor: {@code shape} elements of {@code data} starting at {@code offset}, row-major.
     */
    public record Entry(String name, float[] data, int offset, int[] shape) {
        public Entry {
            shape = shape.clone();
            long n = 1;
            for (int s : shape) {
                if (s < 0) throw new IllegalArgumentException("shape: negative dimension in " + Arrays.toString(shape) + " of '" + name + "'");
                n *= s;
            }
            if (offset < 0 || offset + n > data.length) {
                throw new IllegalArgumentException("data: '" + name + "' needs elements [" + offset + ", " + (offset + n) + ") of an array of " + data.length);
            }
        }

        public int size() {
            int n = 1;
            for (int s : shape) n *= s;
            return n;
        }
    }

    /** Writes {@code tensors} (names unique, not {@code __metadata__}) and {@code metadata} to {@code file}, replacing it. */
    public static void write(Path file, List<Entry> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new LinkedHashMap<>(metadata));
        long position = 0;
        for (Entry t : tensors) {
            if (t.name().equals("__metadata__") || header.containsKey(t.name())) {
                throw new IllegalArgumentException("tensors: duplicate or reserved name '" + t.name() + "'");
            }
            long bytes = 4L * t.size();
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", "F32");
            info.put("shape", t.shape());
            info.put("data_offsets", new long[] {position, position + bytes});
            header.put(t.name(), info);
            position += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            OutputStream out = Channels.newOutputStream(ch);
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, padded);
            out.write(len.array());
            out.write(headerBytes);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry t : tensors) {
                for (int i = 0, n = t.size(); i < n; i++) {
                    if (buf.remaining() < 4) flush(buf, out);
                    buf.putFloat(t.data()[t.offset() + i]);
                }
            }
            flush(buf, out);
            out.flush();
            ch.force(true);
        }
    }

    private static void flush(ByteBuffer buf, OutputStream out) throws IOException {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
    }

}
