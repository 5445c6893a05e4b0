package org.attn4j.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attn4j.core.io.Npy.Header;

/**
 * The {@code .npy} header: reading the magic, version and length and parsing the header dict (a
 * Python literal, with a parser for the subset numpy writes), and formatting one exactly as
 * {@code np.save} does.
 */
final class NpyHeader {
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ARRAY_ALIGN = 64;
    /** numpy leaves room for the leading dimension to grow to this many digits. */
    private static final int GROWTH_AXIS_MAX_DIGITS = 21;
    /** Refuse headers longer than this (numpy's default limit is 10000 characters). */
    private static final long MAX_HEADER_BYTES = 1 << 24;

    private NpyHeader() {}

    /** Reads the magic, version and header dict from the start of {@code ch}; {@code fileSize} < 0 for a stream. */
    static Header read(ReadableByteChannel ch, String src, long fileSize) throws IOException {
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
        return parse(text, src, major, minor, dataOffset);
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

    /** The header dict {@code text} (a Python literal) as a header, or NpyFormatException naming {@code src}. */
    static Header parse(String text, String src, int major, int minor, long dataOffset) {
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

    /** Magic, version, header length and the padded header dict, exactly as {@code np.save}. */
    static byte[] format(String descr, int[] shape) {
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
    static String pyTuple(int[] shape) {
        if (shape.length == 1) return "(" + shape[0] + ",)";
        StringBuilder sb = new StringBuilder("(");
        for (int k = 0; k < shape.length; k++) {
            if (k > 0) sb.append(", ");
            sb.append(shape[k]);
        }
        return sb.append(')').toString();
    }

    /** Reads until {@code buf} is full or end of input; returns the bytes read. */
    static int readFully(ReadableByteChannel ch, ByteBuffer buf) throws IOException {
        int total = 0;
        while (buf.hasRemaining()) {
            int r = ch.read(buf);
            if (r < 0) break;
            total += r;
        }
        return total;
    }

}
