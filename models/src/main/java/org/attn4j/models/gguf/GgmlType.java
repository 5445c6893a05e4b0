package org.attn4j.models.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The tensor element types of ggml as numbered in GGUF files, with their block layout (elements
 * per block, bytes per block). Every type ggml defines is listed so that the reader can check each
 * tensor's byte size; {@link #dequantizable()} says which this library can turn into floats
 * (F32, F16, BF16, Q8_0, Q4_0).
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24),
    Q8_0(8, 32, 34), Q8_1(9, 32, 40), Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144),
    Q5_K(13, 256, 176), Q6_K(14, 256, 210), Q8_K(15, 256, 292), IQ2_XXS(16, 256, 66), IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98), IQ1_S(19, 256, 50), IQ4_NL(20, 32, 18), IQ3_S(21, 256, 110), IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136), I8(24, 1, 1), I16(25, 1, 2), I32(26, 1, 4), I64(27, 1, 8), F64(28, 1, 8),
    IQ1_M(29, 256, 56), BF16(30, 1, 2), TQ1_0(34, 256, 54), TQ2_0(35, 256, 66), MXFP4(39, 32, 17);

    /** The number stored in a GGUF tensor info. */
    public final int id;
    /** Elements per block (1 for plain types). */
    public final int blockSize;
    /** Bytes per block. */
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    private static final GgmlType[] BY_ID = new GgmlType[64];

    static {
        for (GgmlType t : values()) BY_ID[t.id] = t;
    }

    /** The type numbered {@code id}, or null if ggml has none. */
    public static GgmlType byId(long id) { return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null; }

    /** Whether {@link #dequantize} supports this type. */
    public boolean dequantizable() {
        return this == F32 || this == F16 || this == BF16 || this == Q8_0 || this == Q4_0;
    }

    /** Bytes taken by {@code elements} elements; the count must be a whole number of blocks. */
    public long bytes(long elements) {
        if (elements % blockSize != 0) throw new IllegalArgumentException("elements: expected a multiple of " + name() + "'s block size " + blockSize + ", got " + elements);
        return elements / blockSize * blockBytes;
    }

    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /**
     * Dequantises {@code n} elements starting at element {@code first} (a multiple of the block size)
     * of data laid out in this type in {@code data}, into {@code out[outOffset .. outOffset+n)}.
     * Scalar code, the definition the faster kernels are tested against:
     * <ul>
     *   <li>Q8_0 block (34 bytes): f16 scale {@code d}, then 32 signed bytes {@code q}; x = d·q.</li>
     *   <li>Q4_0 block (18 bytes): f16 scale {@code d}, then 16 bytes; byte j holds element j in its
     *       low nibble and element j+16 in its high nibble; x = d·(nibble − 8).</li>
     *   <li>BF16: the top 16 bits of an f32. F16: IEEE half.</li>
     * </ul>
     */
    public void dequantize(MemorySegment data, long first, float[] out, int outOffset, int n) {
        if (first % blockSize != 0 || n % blockSize != 0) {
            throw new IllegalArgumentException("first, n: expected multiples of " + name() + "'s block size " + blockSize + ", got " + first + ", " + n);
        }
        long base = first / blockSize * blockBytes;
        switch (this) {
            case F32 -> MemorySegment.copy(data, F32_LE, base, out, outOffset, n); // one bulk copy, byte-swapped if needed
            case F16 -> {
                for (int i = 0; i < n; i++) out[outOffset + i] = Float.float16ToFloat(data.get(I16_LE, base + 2L * i));
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) out[outOffset + i] = Float.intBitsToFloat((data.get(I16_LE, base + 2L * i) & 0xFFFF) << 16);
            }
            case Q8_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long at = base + 34L * b;
                    float d = Float.float16ToFloat(data.get(I16_LE, at));
                    int o = outOffset + 32 * b;
                    for (int j = 0; j < 32; j++) out[o + j] = d * data.get(ValueLayout.JAVA_BYTE, at + 2 + j);
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n / 32; b++) {
                    long at = base + 18L * b;
                    float d = Float.float16ToFloat(data.get(I16_LE, at));
                    int o = outOffset + 32 * b;
                    for (int j = 0; j < 16; j++) {
                        int q = data.get(ValueLayout.JAVA_BYTE, at + 2 + j) & 0xFF;
                        out[o + j] = d * ((q & 0x0F) - 8);
                        out[o + j + 16] = d * ((q >>> 4) - 8);
                    }
                }
            }
            default -> throw new UnsupportedOperationException("dtype " + name() + " (" + id + "): dequantisation is not implemented; supported: F32, F16, BF16, Q8_0, Q4_0");
        }
    }
}
