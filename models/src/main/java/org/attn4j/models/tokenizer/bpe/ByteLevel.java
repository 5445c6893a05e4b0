package org.attn4j.models.tokenizer.bpe;

/**
 * GPT-2's reversible map between bytes and printable Unicode characters. Byte-level BPE works on
 * bytes, but its vocabulary and merges are stored as strings; GPT-2 stores each byte as one
 * character: the printable Latin-1 bytes {@code ! .. ~}, {@code ¡ .. ¬} and {@code ® .. ÿ} stand for
 * themselves, and the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) are shifted to
 * {@code U+0100} onwards in byte order (so a space is {@code Ġ}, U+0120, and a newline {@code Ċ}).
 * Hugging Face's ByteLevel pre-tokenizer and decoder use the same map, which is what makes a
 * {@code tokenizer.json} written here readable there.
 */
public final class ByteLevel {
    private ByteLevel() {}

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = printable ? (char) b : (char) (256 + shifted++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** The character that stands for byte {@code b} (0..255). */
    public static char charOf(int b) { return BYTE_TO_CHAR[b & 0xFF]; }

    /** The byte a character stands for, or −1 if it stands for none. */
    public static int byteOf(char c) { return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1; }

    /** Bytes as their characters, one character per byte. */
    public static String encode(byte[] bytes, int from, int to) {
        char[] out = new char[to - from];
        for (int i = from; i < to; i++) out[i - from] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    /** Bytes as their characters. */
    public static String encode(byte[] bytes) { return encode(bytes, 0, bytes.length); }

    /** The bytes a byte-level string stands for; throws IllegalArgumentException on a character outside the map. */
    public static byte[] decode(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            int b = byteOf(s.charAt(i));
            if (b < 0) throw new IllegalArgumentException("token: character U+" + String.format("%04X", (int) s.charAt(i)) + " of '" + s + "' is not a byte-level character");
            out[i] = (byte) b;
        }
        return out;
    }
}
