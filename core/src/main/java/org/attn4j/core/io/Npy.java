package org.attn4j.core.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
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
 *
 * <p>This class is the API; {@code NpyHeader} reads, parses and formats headers, {@code NpyReader}
 * checks and reads the data, {@code NpyWriter} writes it.
 */
public final class Npy {
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
            return NpyHeader.read(ch, file.toString(), ch.size());
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
            return NpyReader.readFloat(ch, file.toString(), ch.size());
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
        return NpyReader.readFloat(Channels.newChannel(in), name, -1);
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
            return NpyReader.readBool(ch, file.toString(), ch.size());
        }
    }

    /** {@link #readBool(Path)} from a stream, named {@code "<stream>"} in messages. */
    public static BoolTensor readBool(InputStream in) throws IOException {
        return readBool(in, STREAM);
    }

    /** {@link #readBool(Path)} from a stream (read up to the end of the data, not closed). */
    public static BoolTensor readBool(InputStream in, String name) throws IOException {
        return NpyReader.readBool(Channels.newChannel(in), name, -1);
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
            return NpyReader.readInts(ch, file.toString(), ch.size());
        }
    }

    /** {@link #readInts(Path)} from a stream, named {@code "<stream>"} in messages. */
    public static int[] readInts(InputStream in) throws IOException {
        return readInts(in, STREAM);
    }

    /** {@link #readInts(Path)} from a stream (read up to the end of the data, not closed). */
    public static int[] readInts(InputStream in, String name) throws IOException {
        return NpyReader.readInts(Channels.newChannel(in), name, -1);
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
        byte[] header = NpyHeader.format(NpyReader.Dtype.F4.descr, t.shape());
        NpyWriter.writeAtomically(file, ch -> {
            NpyWriter.writeFully(ch, ByteBuffer.wrap(header));
            NpyWriter.writeFloats(ch, t);
        });
    }

    /** Like {@link #write(Path, Tensor)}, for a boolean tensor written as {@code '|b1'}. */
    public static void write(Path file, BoolTensor t) throws IOException {
        Objects.requireNonNull(t, "tensor");
        byte[] header = NpyHeader.format(NpyReader.Dtype.B1.descr, t.shape());
        NpyWriter.writeAtomically(file, ch -> {
            NpyWriter.writeFully(ch, ByteBuffer.wrap(header));
            NpyWriter.writeBools(ch, t);
        });
    }

    /** Writes {@code t} in {@code .npy} format ({@code '<f4'}) to a stream, which is not closed. */
    public static void write(OutputStream out, Tensor t) throws IOException {
        WritableByteChannel ch = Channels.newChannel(out);
        NpyWriter.writeFully(ch, ByteBuffer.wrap(NpyHeader.format(NpyReader.Dtype.F4.descr, t.shape())));
        NpyWriter.writeFloats(ch, t);
        out.flush();
    }

    /** Writes {@code t} in {@code .npy} format ({@code '|b1'}) to a stream, which is not closed. */
    public static void write(OutputStream out, BoolTensor t) throws IOException {
        WritableByteChannel ch = Channels.newChannel(out);
        NpyWriter.writeFully(ch, ByteBuffer.wrap(NpyHeader.format(NpyReader.Dtype.B1.descr, t.shape())));
        NpyWriter.writeBools(ch, t);
        out.flush();
    }

}
