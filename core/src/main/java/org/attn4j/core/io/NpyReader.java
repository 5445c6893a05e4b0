package org.attn4j.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.LongBuffer;
import java.nio.channels.ReadableByteChannel;
import org.attn4j.core.io.Npy.Header;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;

/**
 * Reading {@code .npy} data after the header: the dtype, order and size checks, and the data read
 * in chunks of 1 MiB into float, boolean or int arrays.
 */
final class NpyReader {
    static final int CHUNK_BYTES = 1 << 20;
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private NpyReader() {}

    enum Dtype {
        F4("<f4", 4), F8("<f8", 8), B1("|b1", 1), U1("|u1", 1), I4("<i4", 4), I8("<i8", 8);

        final String descr;
        final int itemSize;

        Dtype(String descr, int itemSize) {
            this.descr = descr;
            this.itemSize = itemSize;
        }
    }

    static Tensor readFloat(ReadableByteChannel ch, String src, long fileSize) throws IOException {
        Header h = NpyHeader.read(ch, src, fileSize);
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
        return Tensor.of(out, h.shape());
    }

    static BoolTensor readBool(ReadableByteChannel ch, String src, long fileSize) throws IOException {
        Header h = NpyHeader.read(ch, src, fileSize);
        Dtype dt = checkArray(h, src, fileSize, "readBool", Dtype.B1, Dtype.U1);
        boolean[] out = new boolean[(int) h.size()];
        readChunks(ch, src, h, dt, (buf, first, count) -> {
            for (int i = 0; i < count; i++) out[first + i] = buf.get(i) != 0;
        });
        return BoolTensor.of(out, h.shape());
    }

    static int[] readInts(ReadableByteChannel ch, String src, long fileSize) throws IOException {
        Header h = NpyHeader.read(ch, src, fileSize);
        Dtype dt = checkArray(h, src, fileSize, "readInts", Dtype.I4, Dtype.I8);
        if (h.shape().length != 1) {
            throw new NpyFormatException(src, "readInts needs a 1-D array, got shape " + NpyHeader.pyTuple(h.shape()));
        }
        int[] out = new int[h.shape()[0]];
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
            if (matches(h.descr(), d)) dt = d;
        }
        if (dt == null) {
            StringBuilder sup = new StringBuilder();
            for (Dtype d : accepted) sup.append(sup.isEmpty() ? "" : ", ").append('\'').append(d.descr).append('\'');
            if (h.descr().length() > 1 && h.descr().charAt(0) == '>') {
                throw new NpyFormatException(src, "big-endian dtype '" + h.descr() + "' is not supported, only little-endian ("
                        + sup + " for " + what + "); re-save with a.astype('<" + h.descr().substring(1) + "')");
            }
            throw new NpyFormatException(src, "unsupported dtype '" + h.descr() + "' for " + what + "; supported: " + sup);
        }
        if (h.fortranOrder()) {
            throw new NpyFormatException(src, "fortran_order is True; only C-order arrays are supported "
                    + "(re-save with np.ascontiguousarray(a))");
        }
        long count = elementCount(h.shape(), src);
        long expected = count * dt.itemSize;
        if (fileSize >= 0) {
            long actual = fileSize - h.dataOffset();
            if (actual < expected) {
                throw new NpyFormatException(src, "truncated data: shape " + NpyHeader.pyTuple(h.shape()) + " with dtype '" + h.descr()
                        + "' needs " + expected + " bytes after the " + h.dataOffset() + "-byte header, but the file has only " + actual);
            }
            if (actual > expected) {
                throw new NpyFormatException(src, "data size mismatch: shape " + NpyHeader.pyTuple(h.shape()) + " with dtype '" + h.descr()
                        + "' needs " + expected + " bytes after the " + h.dataOffset() + "-byte header, but the file has " + actual
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
                throw new NpyFormatException(src, "shape " + NpyHeader.pyTuple(shape) + " has more elements than a Java array can hold");
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
            long got = done * dt.itemSize + NpyHeader.readFully(ch, buf);
            if (buf.hasRemaining()) {
                throw new NpyFormatException(src, "truncated data: shape " + NpyHeader.pyTuple(h.shape()) + " with dtype '" + h.descr()
                        + "' needs " + total + " bytes after the header, but the input ended after " + got);
            }
            buf.flip();
            sink.accept(buf, (int) done, count);
            done += count;
        }
    }

}
