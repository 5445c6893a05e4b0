package org.attn4j.models.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file: its name, ggml shape {@code ne} (ne[0] is the innermost, contiguous
 * dimension, so a row-major {@code [rows, cols]} matrix has {@code ne = {cols, rows}}), element
 * type, and its bytes, a read-only slice of the memory-mapped file (valid while the file is open).
 */
public record GgufTensor(String name, long[] ne, GgmlType type, long offset, MemorySegment data) {

    /** Number of elements. */
    public long elements() {
        long n = 1;
        for (long d : ne) n = Math.multiplyExact(n, d);
        return n;
    }

    /** The shape outermost first (row-major order, as numpy and safetensors write it). */
    public long[] shape() {
        long[] s = new long[ne.length];
        for (int i = 0; i < ne.length; i++) s[i] = ne[ne.length - 1 - i];
        return s;
    }

    /** All elements as floats, in storage order; throws UnsupportedOperationException for a type without dequantisation. */
    public float[] toFloats() {
        long n = elements();
        if (n > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor '" + name + "': " + n + " elements do not fit in one float array");
        float[] out = new float[(int) n];
        type.dequantize(data, 0, out, 0, (int) n);
        return out;
    }

    @Override
    public String toString() { return "GgufTensor[" + name + " " + type + " ne=" + Arrays.toString(ne) + "]"; }
}
