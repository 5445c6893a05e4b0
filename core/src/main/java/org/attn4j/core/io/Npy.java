package org.attn4j.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Layout;
import org.attn4j.core.tensor.Tensor;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0).
 *
 * <p>Reading: little-endian, C-order arrays only. {@link #readFloat} accepts {@code '<f4'} and
 * {@code '<f8'} (converted to float32 with round-to-nearest); {@link #readBool} accepts
 * {@code '|b1'} and {@code '|u1'} (nonzero = {@code true}); {@link #readInts} accepts 1-D
 * {@code '<i4'} and {@code '<i8'}. Scalars (shape {@code ()}) read as rank-0 tensors. A file whose
 * size differs from header + shape &times; item size is rejected, so trailing bytes after the data
 * are an error for files; stream readers stop right after the data and leave anything that
 * follows unread. Extra keys in the header dict are ignored.
 *
 * <p>Writing: float32 as {@code '<f4'}, booleans as {@code '|b1'}, C order, format 1.0 (2.0 only
 * when the header would not fit in 65535 bytes), header laid out exactly as {@code np.save} does
 * (keys sorted, space padding, trailing {@code '\n'}, data starting at a multiple of 64 bytes).
 * Writes to a {@link Path} are atomic: the bytes go to a temporary file in the target directory
 * which is then moved over the target.
 *
 * <p>Format problems throw {@link NpyFormatException} (an {@link IllegalArgumentException}) whose
 * message starts with the file path or stream name; I/O failures throw {@link IOException}.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ARRAY_ALIGN = 64;
    /** numpy leaves room for the leading dimension to grow to this many digits. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    /** Refuse headers longer than this (numpy's default limit is 10000 characters). */
    private static final long MAX_HEADER_BYTES = 1 << 24;
    private static final int CHUNK_BYTES = 1 << 20;
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    private static final String STREAM = "<stream>";

    private Npy() {}

    /**
     * A parsed {@code .npy} header.
     *
     * @param majorVersion format major version (1, 2 or 3)
     * @param minorVersion format minor version (always 0)
     * @param descr the dtype string, e.g. {@code "<f4"}
     * @param fortranOrder whether the data is stored column-major
     * @param shape the array shape (a copy is returned)
     * @param dataOffset byte offset of the first data byte
     */
    public record Header(int majorVersion, int minorVersion, String descr, boolean fortranOrder, int[] shape, long dataOffset) {
        public Header {
            shape = shape.clone();
        }

        @Override
        public int[] shape() {
            return shape.clone();
        }

        /** Number of elements (product of the shape). */
        public long size() {
            return Layout.count(shape);
        }

        @Override
        public String toString() {
            return "Header[version=" + majorVersion + "." + minorVersion + ", descr=" + descr + ", fortranOrder=" + fortranOrder
                    + ", shape=" + Arrays.toString(shape) + ", dataOffset=" + dataOffset + "]";
        }
    }

    // ------------------------------------------------------------------------------------------
    // Reading
    // ------------------------------------------------------------------------------------------

    /**
     * Reads only the header of a {@code .npy} file; the dtype and order are not checked.
     *
     * @throws NpyFormatException bad magic, unsupported version, or an unparsable header
     * @throws IOException if the file cannot be read
     */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(ch, file.toString(), ch.size());
        }
    }

    /**
     * Reads a float array ({@code '<f4'}, or {@code '<f8'} converted to float32) as a contiguous
     * row-major tensor of the stored shape.
     *
     * @throws NpyFormatException if the file is malformed, Fortran-ordered, big-endian, of another
     *     dtype, or its size does not match the header
     * @throws IOException if the file cannot be read
     */
    public static Tensor readFloat(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readFloat(ch, file.toString(), ch.size());
        }
    }

    /** {@link #readFloat(Path)} from a stream, named {@code "<stream>"} in messages. */
    public static Tensor readFloat(InputStream in) throws IOException {
        return readFloat(in, STREAM);
    }

    /**
     * {@link #readFloat(Path)} from a stream, which is read exactly up to the end of the data and
     * not closed. {@code name} identifies the source in error messages.
     */
    public static Tensor readFloat(InputStream in, String name) throws IOException {
        return readFloat(Channels.newChannel(in), name, -1);
    }

    /**
     * Reads a boolean array ({@code '|b1'}, or {@code '|u1'} where nonzero = {@code true}) as a
     * contiguous row-major tensor of the stored shape.
     *
     * @throws NpyFormatException if the file is malformed, Fortran-ordered, of another dtype, or
     *     its size does not match the header
     * @throws IOException if the file cannot be read
     */
    public static BoolTensor readBool(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readBool(ch, file.toString(), ch.size());
        }
    }

    /** {@link #readBool(Path)} from a stream, named {@code "<stream>"} in messages. */
    public static BoolTensor readBool(InputStream in) throws IOException {
        return readBool(in, STREAM);
    }

    /** {@link #readBool(Path)} from a stream (read up to the end of the data, not closed). */
    public static BoolTensor readBool(InputStream in, String name) throws IOException {
        return readBool(Channels.newChannel(in), name, -1);
    }

    /**
     * Reads a 1-D integer array ({@code '<i4'} or {@code '<i8'}; every value must fit in an
     * {@code int}), e.g. per-sequence key lengths.
     *
     * @throws NpyFormatException if the file is malformed, not 1-D, of another dtype, holds a
     *     value outside the int range, or its size does not match the header
     * @throws IOException if the file cannot be read
     */
    public static int[] readInts(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readInts(ch, file.toString(), ch.size());
        }
    }

    /** {@link #readInts(Path)} from a stream, named {@code "<stream>"} in messages. */
    public static int[] readInts(InputStream in) throws IOException {
        return readInts(in, STREAM);
    }

    /** {@link #readInts(Path)} from a stream (read up to the end of the data, not closed). */
    public static int[] readInts(InputStream in, String name) throws IOException {
        return readInts(Channels.newChannel(in), name, -1);
    }

    private enum Dtype {
        F4("<f4", 4), F8("<f8", 8), B1("|b1", 1), U1("|u1", 1), I4("<i4", 4), I8("<i8", 8);

        final String descr;
        final int itemSize;

        Dtype(String descr, int itemSize) {
            this.descr = descr;
            this.itemSize = itemSize;
        }
    }

    private static Tensor readFloat(ReadableByteChannel ch, String src, long fileSize) throws IOException {
        Header h = readHeader(ch, src, fileSize);
        Dtype dt = checkArray(h, src, fileSize, "readFloat", Dtype.F4, Dtype.F8);
        int n = (int) h.size();
        float[] out = new float[n];
        if (dt == Dtype.F4) {
            readChunks(ch, src, h, dt, (buf, first, count) -> buf.asFloatBuffer().get(out, first, count));
        } else {
            readChunks(ch, src, h, dt, (buf, first, count) -> {
                DoubleBuffer db = buf.asDoubleBuffer();
                for (int i = 0; i < count; i++) out[first + i] = (float) db.get(i);
            });
        }
        return Tensor.of(out, h.shape);
    }

    private static BoolTensor readBool(ReadableByteChannel ch, String src, long fileSize) throws IOException {
        Header h = readHeader(ch, src, fileSize);
        Dtype dt = checkArray(h, src, fileSize, "readBool", Dtype.B1, Dtype.U1);
        boolean[] out = new boolean[(int) h.size()];
        readChunks(ch, src, h, dt, (buf, first, count) -> {
            for (int i = 0; i < count; i++) out[first + i] = buf.get(i) != 0;
        });
        return BoolTensor.of(out, h.shape);
    }

    private static int[] readInts(ReadableByteChannel ch, String src, long fileSize) throws IOException {
        Header h = readHeader(ch, src, fileSize);
        Dtype dt = checkArray(h, src, fileSize, "readInts", Dtype.I4, Dtype.I8);
        if (h.shape.length != 1) {
            throw new NpyFormatException(src, "readInts needs a 1-D array, got shape " + pyTuple(h.shape));
        }
        int[] out = new int[h.shape[0]];
        if (dt == Dtype.I4) {
            readChunks(ch, src, h, dt, (buf, first, count) -> buf.asIntBuffer().get(out, first, count));
        } else {
            readChunks(ch, src, h, dt, (buf, first, count) -> {
                LongBuffer lb = buf.asLongBuffer();
                for (int i = 0; i < count; i++) {
                    long v = lb.get(i);
                    if (v != (int) v) {
                        throw new NpyFormatException(src, "value " + v + " at index " + (first + i) + " does not fit in an int");
                    }
                    out[first + i] = (int) v;
                }
            });
        }
        return out;
    }

    /**
     * Checks dtype, order, element count and (for files) the data size; returns the dtype.
     */
    private static Dtype checkArray(Header h, String src, long fileSize, String what, Dtype... accepted) {
        Dtype dt = null;
        for (Dtype d : accepted) {
            if (matches(h.descr, d)) dt = d;
        }
        if (dt == null) {
            StringBuilder sup = new StringBuilder();
            for (Dtype d : accepted) sup.append(sup.isEmpty() ? "" : ", ").append('\'').append(d.descr).append('\'');
            if (h.descr.length() > 1 && h.descr.charAt(0) == '>') {
                throw new NpyFormatException(src, "big-endian dtype '" + h.descr + "' is not supported, only little-endian ("
                        + sup + " for " + what + "); re-save with a.astype('<" + h.descr.substring(1) + "')");
            }
            throw new NpyFormatException(src, "unsupported dtype '" + h.descr + "' for " + what + "; supported: " + sup);
        }
        if (h.fortranOrder) {
            throw new NpyFormatException(src, "fortran_order is True; only C-order arrays are supported "
                    + "(re-save with np.ascontiguousarray(a))");
        }
        long count = elementCount(h.shape, src);
        long expected = count * dt.itemSize;
        if (fileSize >= 0) {
            long actual = fileSize - h.dataOffset;
            if (actual < expected) {
                throw new NpyFormatException(src, "truncated data: shape " + pyTuple(h.shape) + " with dtype '" + h.descr
                        + "' needs " + expected + " bytes after the " + h.dataOffset + "-byte header, but the file has only " + actual);
            }
            if (actual > expected) {
                throw new NpyFormatException(src, "data size mismatch: shape " + pyTuple(h.shape) + " with dtype '" + h.descr
                        + "' needs " + expected + " bytes after the " + h.dataOffset + "-byte header, but the file has " + actual
                        + " (trailing bytes are rejected)");
            }
        }
        return dt;
    }

    private static boolean matches(String descr, Dtype d) {
        if (descr.equals(d.descr)) return true;
        // Byte order is meaningless for one-byte types; accept any marker numpy might use.
        return d.itemSize == 1 && descr.length() == 3 && "|<>=".indexOf(descr.charAt(0)) >= 0
                && descr.regionMatches(1, d.descr, 1, 2);
    }

    private static long elementCount(int[] shape, String src) {
        long n = 1;
        for (int d : shape) {
            if (d == 0) return 0;
        }
        for (int d : shape) {
            n *= d;
            if (n > MAX_ELEMENTS) {
                throw new NpyFormatException(src, "shape " + pyTuple(shape) + " has more elements than a Java array can hold");
            }
        }
        return n;
    }

    private interface ChunkReader {
        /** {@code buf} holds {@code count} little-endian items from position 0. */
        void accept(ByteBuffer buf, int first, int count);
    }

    private static void readChunks(ReadableByteChannel ch, String src, Header h, Dtype dt, ChunkReader sink) throws IOException {
        long n = h.size();
        if (n == 0) return;
        long total = n * dt.itemSize;
        int perChunk = (int) Math.min(n, CHUNK_BYTES / dt.itemSize);
        ByteBuffer buf = ByteBuffer.allocate(perChunk * dt.itemSize).order(ByteOrder.LITTLE_ENDIAN);
        long done = 0;
        while (done < n) {
            int count = (int) Math.min(perChunk, n - done);
            buf.clear().limit(count * dt.itemSize);
            long got = done * dt.itemSize + readFully(ch, buf);
            if (buf.hasRemaining()) {
                throw new NpyFormatException(src, "truncated data: shape " + pyTuple(h.shape) + " with dtype '" + h.descr
                        + "' needs " + total + " bytes after the header, but the input ended after " + got);
            }
            buf.flip();
            sink.accept(buf, (int) done, count);
            done += count;
        }
    }

    /** Reads until {@code buf} is full or end of input; returns the bytes read. */
    private static int readFully(ReadableByteChannel ch, ByteBuffer buf) throws IOException {
        int total = 0;
        while (buf.hasRemaining()) {
            int r = ch.read(buf);
            if (r < 0) break;
            total += r;
        }
        return total;
    }

    private static Header readHeader(ReadableByteChannel ch, String src, long fileSize) throws IOException {
        ByteBuffer pre = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        int got = readFully(ch, pre);
        byte[] head = Arrays.copyOf(pre.array(), got);
        for (int i = 0; i < MAGIC.length; i++) {
            if (i >= got || head[i] != MAGIC[i]) {
                throw new NpyFormatException(src, "bad magic: not a .npy file (expected the bytes \\x93NUMPY, found "
                        + describeBytes(head, Math.min(got, MAGIC.length)) + ")");
            }
        }
        if (got < 10) {
            throw new NpyFormatException(src, "truncated header: only " + got + " bytes");
        }
        int major = head[6] & 0xff;
        int minor = head[7] & 0xff;
        if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
            throw new NpyFormatException(src, "unsupported .npy format version " + major + "." + minor + " (supported: 1.0, 2.0, 3.0)");
        }
        long headerLen;
        int preamble;
        if (major == 1) {
            headerLen = pre.getShort(8) & 0xffff;
            preamble = 10;
        } else {
            ByteBuffer rest = ByteBuffer.allocate(2);
            if (readFully(ch, rest) < 2) throw new NpyFormatException(src, "truncated header: only " + (got + rest.position()) + " bytes");
            ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).put(head, 8, 2).put(rest.array());
            headerLen = len.getInt(0) & 0xffffffffL;
            preamble = 12;
        }
        long dataOffset = preamble + headerLen;
        if (fileSize >= 0 && dataOffset > fileSize) {
            throw new NpyFormatException(src, "truncated header: the header needs " + dataOffset + " bytes but the file has only " + fileSize);
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new NpyFormatException(src, "header length " + headerLen + " is implausibly large (limit " + MAX_HEADER_BYTES + ")");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        int hgot = readFully(ch, hb);
        if (hb.hasRemaining()) {
            throw new NpyFormatException(src, "truncated header: expected " + headerLen + " header bytes, found " + hgot);
        }
        hb.flip();
        String text;
        if (major == 3) {
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(hb).toString();
            } catch (CharacterCodingException e) {
                throw new NpyFormatException(src, "header of a version 3.0 file is not valid UTF-8");
            }
        } else {
            text = StandardCharsets.ISO_8859_1.decode(hb).toString();
        }
        return parseHeader(text, src, major, minor, dataOffset);
    }

    private static String describeBytes(byte[] b, int n) {
        if (n == 0) return "an empty file";
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int c = b[i] & 0xff;
            if (c >= 0x20 && c < 0x7f && c != '\\') sb.append((char) c);
            else sb.append("\\x").append(HexFormat.of().toHexDigits((byte) c));
        }
        return sb.toString();
    }

    static Header parseHeader(String text, String src, int major, int minor, long dataOffset) {
        Object parsed = new LiteralParser(text, src).parseAll();
        if (!(parsed instanceof Map<?, ?> dict)) {
            throw new NpyFormatException(src, "header is not a dict: " + abbreviate(text));
        }
        for (String key : List.of("descr", "fortran_order", "shape")) {
            if (!dict.containsKey(key)) {
                throw new NpyFormatException(src, "header dict has no '" + key + "' key: " + abbreviate(text));
            }
        }
        Object descr = dict.get("descr");
        if (!(descr instanceof String d)) {
            throw new NpyFormatException(src, "unsupported dtype " + abbreviate(String.valueOf(descr))
                    + " (structured dtypes are not supported; supported: '<f4', '<f8', '|b1', '|u1', '<i4', '<i8')");
        }
        if (!(dict.get("fortran_order") instanceof Boolean fortran)) {
            throw new NpyFormatException(src, "header 'fortran_order' must be True or False, got " + dict.get("fortran_order"));
        }
        if (!(dict.get("shape") instanceof Tuple(List<Object> items))) {
            throw new NpyFormatException(src, "header 'shape' must be a tuple of ints, got " + dict.get("shape"));
        }
        int[] shape = new int[items.size()];
        for (int i = 0; i < shape.length; i++) {
            if (!(items.get(i) instanceof Long v) || v < 0 || v > Integer.MAX_VALUE) {
                throw new NpyFormatException(src, "header 'shape' must hold ints in 0.." + Integer.MAX_VALUE + ", got " + abbreviate(text));
            }
            shape[i] = (int) (long) v;
        }
        return new Header(major, minor, d, fortran, shape, dataOffset);
    }

    private static String abbreviate(String s) {
        String t = s.strip();
        return t.length() <= 200 ? t : t.substring(0, 200) + "...";
    }

    /** A Python tuple (distinguished from a list only for the 'shape' check). */
    private record Tuple(List<Object> items) {
        @Override
        public String toString() {
            return "tuple" + items;
        }
    }

    /**
     * Parses the subset of Python literals numpy headers use: dicts, tuples, lists, strings,
     * integers (optionally with a Python 2 'L' suffix), True, False, None.
     */
    private static final class LiteralParser {
        private final String s;
        private final String src;
        private int i;

        LiteralParser(String s, String src) {
            this.s = s;
            this.src = src;
        }

        Object parseAll() {
            Object v = value();
            skipWs();
            if (i != s.length()) throw error("unexpected text after the dict");
            return v;
        }

        private NpyFormatException error(String what) {
            return new NpyFormatException(src, "unparsable header dict: " + what + " at character " + i + " in " + abbreviate(s));
        }

        private void skipWs() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }

        private char peek() {
            skipWs();
            if (i >= s.length()) throw error("unexpected end");
            return s.charAt(i);
        }

        private Object value() {
            char c = peek();
            if (c == '{') return dict();
            if (c == '(') return tupleOrGroup();
            if (c == '[') return new ArrayList<>(sequence('[', ']'));
            if (c == '\'' || c == '"') return string();
            if (c == '-' || c == '+' || (c >= '0' && c <= '9')) return integer();
            if (Character.isLetter(c)) {
                int start = i;
                while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) i++;
                String word = s.substring(start, i);
                switch (word) {
                    case "True": return Boolean.TRUE;
                    case "False": return Boolean.FALSE;
                    case "None": return NONE;
                    default:
                        i = start;
                        throw error("unknown name '" + word + "'");
                }
            }
            throw error("unexpected character '" + c + "'");
        }

        private static final Object NONE = new Object() {
            @Override
            public String toString() {
                return "None";
            }
        };

        private Map<String, Object> dict() {
            i++; // '{'
            Map<String, Object> m = new LinkedHashMap<>();
            while (true) {
                if (peek() == '}') { i++; return m; }
                int at = i;
                if (!(value() instanceof String key)) {
                    i = at;
                    throw error("dict key is not a string");
                }
                if (peek() != ':') throw error("expected ':'");
                i++;
                Object v = value();
                if (m.put(key, v) != null) throw error("duplicate key '" + key + "'");
                char c = peek();
                if (c == ',') i++;
                else if (c != '}') throw error("expected ',' or '}'");
            }
        }

        /** Items between {@code open} and {@code close}; sets {@link #sawComma}. */
        private List<Object> sequence(char open, char close) {
            i++; // open
            List<Object> items = new ArrayList<>();
            sawComma = false;
            while (true) {
                if (peek() == close) { i++; return items; }
                items.add(value());
                char c = peek();
                if (c == ',') { i++; sawComma = true; }
                else if (c != close) throw error("expected ',' or '" + close + "'");
            }
        }

        private boolean sawComma;

        private Object tupleOrGroup() {
            List<Object> items = sequence('(', ')');
            // "(3)" is just 3 in Python; "(3,)" and "()" are tuples.
            if (items.size() == 1 && !sawComma) return items.get(0);
            return new Tuple(items);
        }

        private String string() {
            char q = s.charAt(i++);
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (i >= s.length()) throw error("unterminated string");
                char c = s.charAt(i++);
                if (c == q) return sb.toString();
                if (c == '\\') {
                    if (i >= s.length()) throw error("unterminated string");
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> sb.append('\n');
                        case 't' -> sb.append('\t');
                        case 'r' -> sb.append('\r');
                        case '0' -> sb.append('\0');
                        default -> sb.append(e);
                    }
                } else {
                    sb.append(c);
                }
            }
        }

        private Long integer() {
            int start = i;
            if (s.charAt(i) == '-' || s.charAt(i) == '+') i++;
            int digits = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
            if (i == digits) throw error("expected a digit");
            String num = s.substring(start, i);
            if (i < s.length() && (s.charAt(i) == 'L' || s.charAt(i) == 'l')) i++; // Python 2 long
            if (i < s.length() && (s.charAt(i) == '.' || s.charAt(i) == 'e' || s.charAt(i) == 'E' || Character.isLetter(s.charAt(i)))) {
                throw error("only integers are allowed here");
            }
            try {
                return Long.parseLong(num.startsWith("+") ? num.substring(1) : num);
            } catch (NumberFormatException e) {
                i = start;
                throw error("integer " + num + " is out of range");
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------------------------------

    /**
     * Writes {@code t} as a float32 ({@code '<f4'}) C-order {@code .npy} file, its logical
     * row-major elements (a strided or permuted view is written as numpy would write
     * {@code np.ascontiguousarray} of it). Atomic: the data goes to a temporary file in the same
     * directory that is then moved over {@code file}; on failure {@code file} is left as it was
     * and the temporary file is removed.
     *
     * @throws NoSuchFileException if the parent directory does not exist
     * @throws IOException if {@code file} is a directory or the file cannot be written
     */
    public static void write(Path file, Tensor t) throws IOException {
        Objects.requireNonNull(t, "tensor");
        byte[] header = header(Dtype.F4.descr, t.shape());
        writeAtomically(file, ch -> {
            writeFully(ch, ByteBuffer.wrap(header));
            writeFloats(ch, t);
        });
    }

    /** Like {@link #write(Path, Tensor)}, for a boolean tensor written as {@code '|b1'}. */
    public static void write(Path file, BoolTensor t) throws IOException {
        Objects.requireNonNull(t, "tensor");
        byte[] header = header(Dtype.B1.descr, t.shape());
        writeAtomically(file, ch -> {
            writeFully(ch, ByteBuffer.wrap(header));
            writeBools(ch, t);
        });
    }

    /** Writes {@code t} in {@code .npy} format ({@code '<f4'}) to a stream, which is not closed. */
    public static void write(OutputStream out, Tensor t) throws IOException {
        WritableByteChannel ch = Channels.newChannel(out);
        writeFully(ch, ByteBuffer.wrap(header(Dtype.F4.descr, t.shape())));
        writeFloats(ch, t);
        out.flush();
    }

    /** Writes {@code t} in {@code .npy} format ({@code '|b1'}) to a stream, which is not closed. */
    public static void write(OutputStream out, BoolTensor t) throws IOException {
        WritableByteChannel ch = Channels.newChannel(out);
        writeFully(ch, ByteBuffer.wrap(header(Dtype.B1.descr, t.shape())));
        writeBools(ch, t);
        out.flush();
    }

    /** Magic, version, header length and the padded header dict, exactly as {@code np.save}. */
    static byte[] header(String descr, int[] shape) {
        StringBuilder sb = new StringBuilder();
        sb.append("{'descr': '").append(descr).append("', 'fortran_order': False, 'shape': ").append(pyTuple(shape)).append(", }");
        if (shape.length > 0) sb.append(" ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - Integer.toString(shape[0]).length())));
        byte[] dict = sb.toString().getBytes(StandardCharsets.ISO_8859_1);
        int hlen = dict.length + 1; // + '\n'
        int major = 1;
        int preamble = 10;
        int pad = ARRAY_ALIGN - (preamble + hlen) % ARRAY_ALIGN;
        if (hlen + pad > 0xffff) {
            major = 2;
            preamble = 12;
            pad = ARRAY_ALIGN - (preamble + hlen) % ARRAY_ALIGN;
        }
        ByteBuffer b = ByteBuffer.allocate(preamble + hlen + pad).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) (hlen + pad));
        else b.putInt(hlen + pad);
        b.put(dict);
        for (int k = 0; k < pad; k++) b.put((byte) ' ');
        b.put((byte) '\n');
        return b.array();
    }

    /** Python's repr of a tuple of ints: {@code ()}, {@code (3,)}, {@code (2, 3)}. */
    private static String pyTuple(int[] shape) {
        if (shape.length == 1) return "(" + shape[0] + ",)";
        StringBuilder sb = new StringBuilder("(");
        for (int k = 0; k < shape.length; k++) {
            if (k > 0) sb.append(", ");
            sb.append(shape[k]);
        }
        return sb.append(')').toString();
    }

    interface Body {
        void write(WritableByteChannel ch) throws IOException;
    }

    /** Runs {@code body} against a fresh temporary file next to {@code target}, then moves it into place. */
    static void writeAtomically(Path target, Body body) throws IOException {
        Objects.requireNonNull(target, "file");
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path name = abs.getFileName();
        if (dir == null || name == null) {
            throw new FileSystemException(target.toString(), null, "cannot write .npy: not a file path");
        }
        if (!Files.isDirectory(dir)) {
            throw new NoSuchFileException(target.toString(), null, "cannot write .npy: directory " + dir + " does not exist");
        }
        if (Files.isDirectory(abs)) {
            throw new FileSystemException(target.toString(), null, "cannot write .npy: the target is a directory");
        }
        String base = name.toString();
        if (base.length() > 100) base = base.substring(0, 100);
        Path tmp = null;
        FileChannel ch = null;
        for (int attempt = 0; ch == null; attempt++) {
            tmp = dir.resolve("." + base + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 16) throw e;
            }
        }
        try {
            try (FileChannel c = ch) {
                body.write(c);
                c.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (Throwable e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException d) {
                e.addSuppressed(d);
            }
            throw e;
        }
    }

    private static void writeFully(WritableByteChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    private static void writeFloats(WritableByteChannel ch, Tensor t) throws IOException {
        long n = t.size();
        if (n == 0) return;
        float[] data = t.data();
        int perChunk = (int) Math.min(n, CHUNK_BYTES / 4);
        ByteBuffer buf = ByteBuffer.allocate(perChunk * 4).order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer fb = buf.asFloatBuffer();
        if (t.isContiguous()) {
            int off = t.offset();
            for (long done = 0; done < n; ) {
                int count = (int) Math.min(perChunk, n - done);
                fb.clear();
                fb.put(data, off + (int) done, count);
                buf.clear().limit(count * 4);
                writeFully(ch, buf);
                done += count;
            }
            return;
        }
        Cursor cur = new Cursor(t.layout());
        int[] idx = new int[perChunk];
        int count;
        while ((count = cur.next(idx)) > 0) {
            for (int k = 0; k < count; k++) fb.put(k, data[idx[k]]);
            buf.clear().limit(count * 4);
            writeFully(ch, buf);
        }
    }

    private static void writeBools(WritableByteChannel ch, BoolTensor t) throws IOException {
        long n = t.size();
        if (n == 0) return;
        boolean[] data = t.data();
        int perChunk = (int) Math.min(n, CHUNK_BYTES);
        ByteBuffer buf = ByteBuffer.allocate(perChunk);
        Cursor cur = new Cursor(t.layout());
        int[] idx = new int[perChunk];
        int count;
        while ((count = cur.next(idx)) > 0) {
            for (int k = 0; k < count; k++) buf.put(k, data[idx[k]] ? (byte) 1 : (byte) 0);
            buf.clear().limit(count);
            writeFully(ch, buf);
        }
    }

    /** Walks a strided layout's flat indices in row-major order. */
    private static final class Cursor {
        private final int[] shape;
        private final int[] strides;
        private final int[] pos;
        private final int inner;
        private final int innerStride;
        private int base;
        private int j;
        private long remaining;

        Cursor(Layout l) {
            int[] sh = l.shape();
            int[] st = l.strides();
            if (sh.length == 0) {
                sh = new int[] {1};
                st = new int[] {1};
            }
            shape = sh;
            strides = st;
            pos = new int[sh.length - 1];
            inner = sh[sh.length - 1];
            innerStride = st[st.length - 1];
            base = l.offset();
            remaining = l.size();
        }

        /** Fills {@code out} with up to {@code out.length} flat indices; returns how many. */
        int next(int[] out) {
            int k = 0;
            while (k < out.length && remaining > 0) {
                out[k++] = base + j * innerStride;
                remaining--;
                if (++j == inner) {
                    j = 0;
                    for (int a = pos.length - 1; a >= 0; a--) {
                        base += strides[a];
                        if (++pos[a] < shape[a]) break;
                        base -= strides[a] * shape[a];
                        pos[a] = 0;
                    }
                }
            }
            return k;
        }
    }
}
