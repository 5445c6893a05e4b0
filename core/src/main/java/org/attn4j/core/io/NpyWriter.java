package org.attn4j.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Layout;
import org.attn4j.core.tensor.Tensor;

/**
 * Writing {@code .npy} data: the logical row-major elements of a (possibly strided) tensor in
 * chunks, and the atomic replacement of a file through a temporary file next to it.
 */
final class NpyWriter {
    private NpyWriter() {}

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

    static void writeFully(WritableByteChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) ch.write(buf);
    }

    static void writeFloats(WritableByteChannel ch, Tensor t) throws IOException {
        long n = t.size();
        if (n == 0) return;
        float[] data = t.data();
        int perChunk = (int) Math.min(n, NpyReader.CHUNK_BYTES / 4);
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

    static void writeBools(WritableByteChannel ch, BoolTensor t) throws IOException {
        long n = t.size();
        if (n == 0) return;
        boolean[] data = t.data();
        int perChunk = (int) Math.min(n, NpyReader.CHUNK_BYTES);
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
