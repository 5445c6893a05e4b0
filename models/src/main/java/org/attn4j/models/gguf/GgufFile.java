package org.attn4j.models.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3, little-endian), memory-mapped read-only.
 *
 * <p>Layout: magic {@code "GGUF"}, u32 version, u64 tensor count, u64 metadata count; the metadata
 * key/values (a key is a u64-length-prefixed UTF-8 string, then a u32 value type and the value);
 * the tensor infos (name, u32 dimension count, u64 dimensions innermost first, u32 ggml type, u64
 * offset); padding to {@code general.alignment} (default 32); then the tensor data, each tensor at
 * its offset from the start of that data section.
 *
 * <p>Metadata values become Java values: the integer types up to 32 bits signed become
 * {@link Integer}, {@code uint32}/{@code int64}/{@code uint64} become {@link Long} (a {@code uint64}
 * above 2^63 reads negative), {@code float32}/{@code float64} become {@link Float}/{@link Double},
 * {@code bool} {@link Boolean}, {@code string} {@link String}, and arrays a {@link GgufArray}.
 *
 * <p>Everything is checked when the file is opened: magic, version, that every string, array and
 * tensor lies within the file, dimensions, types, alignment and that tensors do not run past the
 * end. A failure is a {@link GgufFormatException} naming the file and what is wrong. Close the file
 * to unmap it; tensors' data must not be used after that.
 */
public final class GgufFile implements AutoCloseable {

    /** The value types of GGUF metadata, by their number. */
    public enum ValueType { UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64 }

    /** An array value: its element type and its elements (int[], long[], float[], double[], boolean[], String[] or GgufArray[]). */
    public record GgufArray(ValueType elementType, Object values) {
        /** Number of elements. */
        public int length() { return java.lang.reflect.Array.getLength(values); }
    }

    private static final int MAGIC = 0x46554747; // "GGUF" read little-endian
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment file;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, ValueType> metadataTypes;
    private final Map<String, GgufTensor> tensors;
    private final long alignment, dataStart;
    private long pos; // parse cursor

    private GgufFile(Path path) throws IOException {
        this.path = path;
        this.arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            this.file = size == 0 ? MemorySegment.NULL.reinterpret(0) : ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
        try {
            if (file.byteSize() < 4 || file.get(I32, 0) != MAGIC) {
                String got = file.byteSize() < 4 ? "a file of " + file.byteSize() + " bytes" : String.format("magic bytes %02x %02x %02x %02x",
                        file.get(ValueLayout.JAVA_BYTE, 0), file.get(ValueLayout.JAVA_BYTE, 1), file.get(ValueLayout.JAVA_BYTE, 2), file.get(ValueLayout.JAVA_BYTE, 3));
                throw bad("not a GGUF file: expected the magic 'GGUF' (47 47 55 46), got " + got);
            }
            pos = 4;
            version = u32("version");
            if (version != 2 && version != 3) throw bad("version: expected 2 or 3, got " + Integer.toUnsignedString(version));
            long nTensors = u64("tensor count"), nKv = u64("metadata count");
            if (nTensors < 0 || nTensors > file.byteSize() / 8) throw bad("tensor count: " + Long.toUnsignedString(nTensors) + " cannot fit in a file of " + file.byteSize() + " bytes: the file is truncated or corrupt");
            if (nKv < 0 || nKv > file.byteSize() / 8) throw bad("metadata count: " + Long.toUnsignedString(nKv) + " cannot fit in a file of " + file.byteSize() + " bytes: the file is truncated or corrupt");

            Map<String, Object> md = new LinkedHashMap<>();
            Map<String, ValueType> mdTypes = new LinkedHashMap<>();
            for (long i = 0; i < nKv; i++) {
                String key = string("metadata[" + i + "].key");
                ValueType t = valueType(u32("metadata '" + key + "' type"), "metadata '" + key + "'");
                if (md.containsKey(key)) throw bad("metadata '" + key + "': the key appears twice");
                md.put(key, value(t, "metadata '" + key + "'"));
                mdTypes.put(key, t);
            }
            this.metadata = Collections.unmodifiableMap(md);
            this.metadataTypes = Collections.unmodifiableMap(mdTypes);
            Object al = md.getOrDefault("general.alignment", 32);
            long a = al instanceof Number n ? n.longValue() : -1;
            if (a <= 0 || (a & (a - 1)) != 0) throw bad("general.alignment: expected a power of two, got " + al);
            this.alignment = a;

            record Info(String name, long[] ne, GgmlType type, long offset, long bytes) {}
            List<Info> infos = new ArrayList<>();
            for (long i = 0; i < nTensors; i++) {
                String name = string("tensor[" + i + "].name");
                String what = "tensor '" + name + "'";
                int nd = u32(what + " dimension count");
                if (nd < 1 || nd > 4) throw bad(what + ": expected 1 to 4 dimensions, got " + Integer.toUnsignedString(nd));
                long[] ne = new long[nd];
                long count = 1;
                for (int d = 0; d < nd; d++) {
                    ne[d] = u64(what + " dimension " + d);
                    if (ne[d] <= 0) throw bad(what + ": dimension " + d + " is " + Long.toUnsignedString(ne[d]) + ", expected >= 1");
                    try {
                        count = Math.multiplyExact(count, ne[d]);
                    } catch (ArithmeticException e) {
                        throw bad(what + ": the element count overflows");
                    }
                }
                int typeId = u32(what + " type");
                GgmlType type = GgmlType.byId(Integer.toUnsignedLong(typeId));
                if (type == null) throw bad(what + ": unknown ggml type " + Integer.toUnsignedString(typeId));
                if (ne[0] % type.blockSize != 0) throw bad(what + ": innermost dimension " + ne[0] + " is not a multiple of " + type + "'s block size " + type.blockSize);
                long off = u64(what + " offset");
                if (off < 0 || off % alignment != 0) throw bad(what + ": data offset " + Long.toUnsignedString(off) + " is not a multiple of the alignment " + alignment);
                infos.add(new Info(name, ne, type, off, type.bytes(count)));
            }
            this.dataStart = (pos + alignment - 1) / alignment * alignment;
            long dataBytes = file.byteSize() - dataStart;
            Map<String, GgufTensor> ts = new LinkedHashMap<>();
            for (Info in : infos) {
                if (nTensors > 0 && (dataBytes < 0 || in.offset() > dataBytes || in.bytes() > dataBytes - in.offset())) {
                    throw bad("tensor '" + in.name() + "': data [" + in.offset() + ", " + (in.offset() + in.bytes()) + ") of the data section runs past the end of the file ("
                            + Math.max(0, dataBytes) + " data bytes): the file is truncated");
                }
                if (ts.containsKey(in.name())) throw bad("tensor '" + in.name() + "': the name appears twice");
                MemorySegment slice = file.asSlice(dataStart + in.offset(), in.bytes()).asReadOnly();
                ts.put(in.name(), new GgufTensor(in.name(), in.ne(), in.type(), in.offset(), slice));
            }
            this.tensors = Collections.unmodifiableMap(ts);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Opens and checks {@code path}; throws NoSuchFileException if it is missing, GgufFormatException if it is not valid GGUF. */
    public static GgufFile open(Path path) throws IOException {
        if (!Files.isRegularFile(path)) throw new NoSuchFileException(path.toString(), null, "GGUF file not found");
        return new GgufFile(path);
    }

    // ------------------------------------------------------------------ parsing

    private GgufFormatException bad(String what) { return new GgufFormatException(path + ": " + what); }

    private void need(long n, String what) throws GgufFormatException {
        if (n < 0 || n > file.byteSize() - pos) {
            throw bad(what + ": needs " + Long.toUnsignedString(n) + " bytes at offset " + pos + " but the file has " + (file.byteSize() - pos) + " left: the file is truncated");
        }
    }

    private int u32(String what) throws GgufFormatException {
        need(4, what);
        int v = file.get(I32, pos);
        pos += 4;
        return v;
    }

    private long u64(String what) throws GgufFormatException {
        need(8, what);
        long v = file.get(I64, pos);
        pos += 8;
        return v;
    }

    private String string(String what) throws GgufFormatException {
        long n = u64(what + " length");
        need(n, what);
        byte[] b = file.asSlice(pos, n).toArray(ValueLayout.JAVA_BYTE);
        pos += n;
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw bad(what + ": not valid UTF-8");
        }
    }

    private ValueType valueType(int t, String what) throws GgufFormatException {
        if (t < 0 || t >= ValueType.values().length) throw bad(what + ": unknown value type " + Integer.toUnsignedString(t));
        return ValueType.values()[t];
    }

    private Object value(ValueType t, String what) throws GgufFormatException {
        switch (t) {
            case UINT8 -> { need(1, what); return file.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF; }
            case INT8 -> { need(1, what); return (int) file.get(ValueLayout.JAVA_BYTE, pos++); }
            case BOOL -> {
                need(1, what);
                int b = file.get(ValueLayout.JAVA_BYTE, pos++);
                if (b != 0 && b != 1) throw bad(what + ": a bool must be 0 or 1, got " + b);
                return b == 1;
            }
            case UINT16 -> { need(2, what); int v = file.get(I16, pos) & 0xFFFF; pos += 2; return v; }
            case INT16 -> { need(2, what); int v = file.get(I16, pos); pos += 2; return v; }
            case UINT32 -> { return Integer.toUnsignedLong(u32(what)); }
            case INT32 -> { return u32(what); }
            case FLOAT32 -> { need(4, what); float v = file.get(F32, pos); pos += 4; return v; }
            case UINT64, INT64 -> { return u64(what); }
            case FLOAT64 -> { need(8, what); double v = file.get(F64, pos); pos += 8; return v; }
            case STRING -> { return string(what); }
            case ARRAY -> {
                ValueType et = valueType(u32(what + " element type"), what);
                long n = u64(what + " length");
                // Every element takes at least one byte: a length beyond the rest of the file is a lie, not a reason to allocate.
                if (n < 0 || n > file.byteSize() - pos) throw bad(what + ": an array of " + Long.toUnsignedString(n) + " elements cannot fit in the " + (file.byteSize() - pos) + " bytes left: the file is truncated or corrupt");
                int len = (int) n;
                switch (et) {
                    case UINT8, INT8, UINT16, INT16, INT32 -> {
                        int[] a = new int[len];
                        for (int i = 0; i < len; i++) a[i] = (Integer) value(et, what);
                        return new GgufArray(et, a);
                    }
                    case UINT32, UINT64, INT64 -> {
                        long[] a = new long[len];
                        for (int i = 0; i < len; i++) a[i] = (Long) value(et, what);
                        return new GgufArray(et, a);
                    }
                    case FLOAT32 -> {
                        need(4L * len, what);
                        float[] a = file.asSlice(pos, 4L * len).toArray(F32);
                        pos += 4L * len;
                        return new GgufArray(et, a);
                    }
                    case FLOAT64 -> {
                        need(8L * len, what);
                        double[] a = file.asSlice(pos, 8L * len).toArray(F64);
                        pos += 8L * len;
                        return new GgufArray(et, a);
                    }
                    case BOOL -> {
                        boolean[] a = new boolean[len];
                        for (int i = 0; i < len; i++) a[i] = (Boolean) value(et, what);
                        return new GgufArray(et, a);
                    }
                    case STRING -> {
                        String[] a = new String[len];
                        for (int i = 0; i < len; i++) a[i] = string(what + "[" + i + "]");
                        return new GgufArray(et, a);
                    }
                    case ARRAY -> {
                        GgufArray[] a = new GgufArray[len];
                        for (int i = 0; i < len; i++) a[i] = (GgufArray) value(et, what + "[" + i + "]");
                        return new GgufArray(et, a);
                    }
                    default -> throw new AssertionError(et);
                }
            }
            default -> throw new AssertionError(t);
        }
    }

    // ------------------------------------------------------------------ access

    /** The file this was read from. */
    public Path path() { return path; }

    /** The GGUF version (2 or 3). */
    public int version() { return version; }

    /** The alignment of tensor data in bytes. */
    public long alignment() { return alignment; }

    /** Byte offset of the tensor data section in the file. */
    public long dataStart() { return dataStart; }

    /** All metadata in file order (see the class comment for the Java types). */
    public Map<String, Object> metadata() { return metadata; }

    /** The GGUF type of metadata {@code key}, or null if absent. */
    public ValueType metadataType(String key) { return metadataTypes.get(key); }

    /** All tensors in file order. */
    public Map<String, GgufTensor> tensors() { return tensors; }

    /** The tensor {@code name}; throws GgufFormatException naming the file if it has none. */
    public GgufTensor tensor(String name) throws GgufFormatException {
        GgufTensor t = tensors.get(name);
        if (t == null) throw bad("tensor '" + name + "': not in the file (" + tensors.size() + " tensors)");
        return t;
    }

    /** Whether metadata {@code key} is present. */
    public boolean has(String key) { return metadata.containsKey(key); }

    /** String metadata {@code key}; throws GgufFormatException naming the file and key if absent or not a string. */
    public String string(String key, String fallback) throws GgufFormatException {
        Object v = metadata.get(key);
        if (v == null) {
            if (fallback != null) return fallback;
            throw bad("metadata '" + key + "': missing");
        }
        if (!(v instanceof String s)) throw bad("metadata '" + key + "': expected a string, got " + metadataTypes.get(key));
        return s;
    }

    /** Integer metadata {@code key} of any integer type, or {@code fallback} if absent. */
    public long integer(String key, long fallback) throws GgufFormatException {
        Object v = metadata.get(key);
        if (v == null) return fallback;
        if (v instanceof Integer i) return i;
        if (v instanceof Long l) return l;
        throw bad("metadata '" + key + "': expected an integer, got " + metadataTypes.get(key));
    }

    /** Boolean metadata {@code key}, or {@code fallback} if absent. */
    public boolean bool(String key, boolean fallback) throws GgufFormatException {
        Object v = metadata.get(key);
        if (v == null) return fallback;
        if (v instanceof Boolean b) return b;
        throw bad("metadata '" + key + "': expected a bool, got " + metadataTypes.get(key));
    }

    /** Array metadata {@code key} with elements of Java type {@code elements} (e.g. {@code String[].class}), or null if absent. */
    public <T> T array(String key, Class<T> elements) throws GgufFormatException {
        Object v = metadata.get(key);
        if (v == null) return null;
        if (!(v instanceof GgufArray a) || !elements.isInstance(a.values())) {
            throw bad("metadata '" + key + "': expected an array of " + elements.getComponentType().getSimpleName() + ", got "
                    + (v instanceof GgufArray a ? "an array of " + a.elementType() : metadataTypes.get(key)));
        }
        return elements.cast(a.values());
    }

    /** Unmaps the file. */
    @Override
    public void close() { arena.close(); }

    @Override
    public String toString() { return "GgufFile[" + path + ", v" + version + ", " + metadata.size() + " keys, " + tensors.size() + " tensors]"; }
}
