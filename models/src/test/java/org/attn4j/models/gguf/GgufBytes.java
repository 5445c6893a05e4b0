package org.attn4j.models.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Test helper: writes GGUF bytes field by field, so that tests can build good and bad files by hand. */
final class GgufBytes {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final List<byte[]> tensorData = new ArrayList<>();

    GgufBytes u8(int v) { out.write(v); return this; }
    GgufBytes u16(int v) { return raw(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array()); }
    GgufBytes u32(long v) { return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array()); }
    GgufBytes u64(long v) { return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); }
    GgufBytes f32(float v) { return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(v).array()); }
    GgufBytes f64(double v) { return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putDouble(v).array()); }
    GgufBytes raw(byte[] b) { out.write(b, 0, b.length); return this; }

    GgufBytes str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return u64(b.length).raw(b);
    }

    GgufBytes header(int version, long tensors, long kvs) { return raw("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).u64(tensors).u64(kvs); }

    /** A key and its value type; the caller writes the value. */
    GgufBytes key(String k, int type) { return str(k).u32(type); }

    /** A tensor info whose data is {@code data}, placed at the next offset aligned to {@code alignment}. */
    GgufBytes tensor(String name, long[] ne, int type, byte[] data, int alignment) {
        long off = 0;
        for (byte[] d : tensorData) off = (off + d.length + alignment - 1) / alignment * alignment;
        str(name).u32(ne.length);
        for (long d : ne) u64(d);
        u32(type).u64(off);
        tensorData.add(data);
        return this;
    }

    /** The file: everything written, padding to {@code alignment}, then each tensor's data aligned. */
    byte[] build(int alignment) {
        while (out.size() % alignment != 0) out.write(0);
        int start = out.size();
        for (byte[] d : tensorData) {
            while ((out.size() - start) % alignment != 0) out.write(0);
            out.write(d, 0, d.length);
        }
        return out.toByteArray();
    }

    static byte[] f32s(float... xs) {
        ByteBuffer b = ByteBuffer.allocate(4 * xs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : xs) b.putFloat(x);
        return b.array();
    }

    static byte[] u16s(int... xs) {
        ByteBuffer b = ByteBuffer.allocate(2 * xs.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : xs) b.putShort((short) x);
        return b.array();
    }
}
