package org.attn4j.models.decoder;

import org.attn4j.core.simd.MicroKernels;

/** A float32 row-major matrix; products through the shared micro-kernels ({@link MicroKernels#gemmTransB}). */
public record FloatMatrix(float[] data, int rows, int cols) implements Matrix {
    private static final MicroKernels MK = MicroKernels.get();

    public FloatMatrix {
        if (data == null) throw new IllegalArgumentException("data: expected " + rows + " x " + cols + " floats, got null");
        if (rows <= 0 || cols <= 0 || (long) rows * cols != data.length) {
            throw new IllegalArgumentException("data: expected " + rows + " x " + cols + " = " + (long) rows * cols + " floats, got " + data.length);
        }
    }

    @Override
    public void multiply(float[] x, int t, float[] y, int ldy, int r0, int r1) {
        MK.gemmTransB(t, r1 - r0, cols, x, 0, cols, data, r0 * cols, cols, y, r0, ldy);
    }

    @Override
    public void row(int r, float[] dst, int off) { System.arraycopy(data, r * cols, dst, off, cols); }

    @Override
    public Matrix rows(int r0, int r1) { return new FloatMatrix(java.util.Arrays.copyOfRange(data, r0 * cols, r1 * cols), r1 - r0, cols); }

    @Override
    public float[] toFloats() { return data; }

    @Override
    public long bytes() { return 4L * data.length; }
}
