package org.attn4j.models.gguf;

import org.attn4j.models.io.AtomicFile;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF v3 file (little-endian, alignment 32): metadata of the common types and float32
 * tensors stored as F32, F16 or Q8_0 (Q8_0 quantised as llama.cpp's reference does: per block of 32,
 * {@code d = max|x|/127} rounded to f16, {@code q = round(x/d)}). Used to write test and benchmark
 * models; {@link GgufFile} reads them back.
 */
public final class GgufWriter {
    private static final int ALIGNMENT = 32;

    private record Tensor(String name, long[] ne, GgmlType type, float[] data) {}

    private final Map<String, Object> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();

    /** A string, Integer (uint32), Long (uint64), Float (float32), Boolean, String[], int[] (int32) or float[] (float32) value. */
    public GgufWriter put(String key, Object value) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("key: expected a non-empty string, got " + key);
        if (!(value instanceof String || value instanceof Integer || value instanceof Long || value instanceof Float
                || value instanceof Boolean || value instanceof String[] || value instanceof int[] || value instanceof float[])) {
            throw new IllegalArgumentException("value of '" + key + "': expected String, Integer, Long, Float, Boolean, String[], int[] or float[], got "
                    + (value == null ? "null" : value.getClass().getSimpleName()));
        }
        metadata.put(key, value);
        return this;
    }

    /**
     * A tensor of ggml shape {@code ne} (innermost first) with {@code data} in row-major order, stored
     * as {@code type} (F32, F16 or Q8_0; Q8_0 needs {@code ne[0] % 32 == 0}). The array is kept until
     * {@link #write}.
     */
    public GgufWriter tensor(String name, GgmlType type, float[] data, long... ne) {
        long n = 1;
        for (long d : ne) n *= d;
        if (n != data.length) throw new IllegalArgumentException("tensor '" + name + "': shape needs " + n + " values, got " + data.length);
        if (type != GgmlType.F32 && type != GgmlType.F16 && type != GgmlType.Q8_0) {
            throw new IllegalArgumentException("tensor '" + name + "': type expected F32, F16 or Q8_0, got " + type);
        }
        if (ne[0] % type.blockSize != 0) throw new IllegalArgumentException("tensor '" + name + "': ne[0] = " + ne[0] + " is not a multiple of " + type + "'s block " + type.blockSize);
        tensors.add(new Tensor(name, ne.clone(), type, data));
        return this;
    }

    /** Writes the file atomically (a temporary file renamed into place). */
    public void write(Path path) throws IOException {
        AtomicFile.write(path, os -> {
            {
                Out o = new Out(os);
                o.raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(3).u64(tensors.size()).u64(metadata.size());
                for (var e : metadata.entrySet()) {
                    o.str(e.getKey());
                    value(o, e.getValue());
                }
                long off = 0;
                for (Tensor t : tensors) {
                    o.str(t.name).u32(t.ne.length);
                    for (long d : t.ne) o.u64(d);
                    o.u32(t.type.id).u64(off);
                    off = align(off + t.type.bytes(t.data.length));
                }
                o.pad();
                long start = o.count;
                for (Tensor t : tensors) {
                    data(o, t);
                    while ((o.count - start) % ALIGNMENT != 0) o.u8(0);
                }
            }
        });
    }

    private static long align(long x) { return (x + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT; }

    private static void value(Out o, Object v) throws IOException {
        switch (v) {
            case String s -> o.u32(8).str(s);
            case Integer i -> o.u32(4).u32(i);
            case Long l -> o.u32(10).u64(l);
            case Float f -> o.u32(6).f32(f);
            case Boolean b -> o.u32(7).u8(b ? 1 : 0);
            case String[] a -> {
                o.u32(9).u32(8).u64(a.length);
                for (String s : a) o.str(s);
            }
            case int[] a -> {
                o.u32(9).u32(5).u64(a.length);
                for (int x : a) o.u32(x);
            }
            case float[] a -> {
                o.u32(9).u32(6).u64(a.length);
                for (float x : a) o.f32(x);
            }
            default -> throw new IllegalStateException("unreachable: " + v.getClass());
        }
    }

    private static void data(Out o, Tensor t) throws IOException {
        float[] a = t.data;
        switch (t.type) {
            case F32 -> { for (float x : a) o.f32(x); }
            case F16 -> { for (float x : a) o.u16(Float.floatToFloat16(x)); }
            case Q8_0 -> {
                for (int b = 0; b < a.length; b += 32) {
                    float amax = 0;
                    for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(a[b + j]));
                    float d = amax / 127f, id = d != 0 ? 1f / d : 0f;
                    o.u16(Float.floatToFloat16(d));
                    for (int j = 0; j < 32; j++) o.u8(roundHalfAway(a[b + j] * id));
                }
            }
            default -> throw new IllegalStateException("unreachable: " + t.type);
        }
    }

    /** C's roundf: halves away from zero (Math.round takes -2.5 to -2). */
    private static int roundHalfAway(float x) {
        return (int) (x < 0 ? -Math.floor(-x + 0.5f) : Math.floor(x + 0.5f));
    }

    /** Little-endian output with a byte count. */
    private static final class Out {
        final OutputStream os;
        final ByteBuffer buf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        long count;
        Out(OutputStream os) { this.os = os; }
        Out raw(byte[] b) throws IOException { os.write(b); count += b.length; return this; }
        Out u8(int v) throws IOException { os.write(v); count++; return this; }
        Out u16(int v) throws IOException { buf.clear(); buf.putShort((short) v); os.write(buf.array(), 0, 2); count += 2; return this; }
        Out u32(int v) throws IOException { buf.clear(); buf.putInt(v); os.write(buf.array(), 0, 4); count += 4; return this; }
        Out u64(long v) throws IOException { buf.clear(); buf.putLong(v); os.write(buf.array(), 0, 8); count += 8; return this; }
        Out f32(float v) throws IOException { return u32(Float.floatToRawIntBits(v)); }
        Out str(String s) throws IOException { byte[] b = s.getBytes(StandardCharsets.UTF_8); return u64(b.length).raw(b); }
        void pad() throws IOException { while (count % ALIGNMENT != 0) u8(0); }
    }
}
