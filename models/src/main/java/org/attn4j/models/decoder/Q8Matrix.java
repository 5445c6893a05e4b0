package org.attn4j.models.decoder;

import org.attn4j.core.simd.Q8Kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A matrix kept in ggml's Q8_0 form: per row, blocks of 32 weights {@code w = d·q} with a signed
 * byte {@code q} per weight and a scale {@code d} per block (stored here as float32, read from f16).
 * About 1.1 bytes per weight instead of 4; products dequantise on the fly ({@link Q8Kernels}).
 *
 * @param q    {@code rows·cols} quantised weights, row-major
 * @param d    {@code rows·cols/32} scales, row-major
 */
public record Q8Matrix(byte[] q, float[] d, int rows, int cols) implements Matrix {
    private static final Q8Kernels K = Q8Kernels.get();
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public Q8Matrix {
        if (cols % 32 != 0) throw new IllegalArgumentException("cols: expected a multiple of 32 (Q8_0 blocks), got " + cols);
        if (rows <= 0 || (long) rows * cols != q.length || q.length / 32 != d.length) {
            throw new IllegalArgumentException("q, d: expected " + (long) rows * cols + " weights and " + (long) rows * cols / 32 + " scales, got " + q.length + " and " + d.length);
        }
    }

    /** Unpacks ggml Q8_0 blocks (f16 scale, 32 bytes) of a {@code [rows, cols]} tensor. */
    public static Q8Matrix fromGgml(MemorySegment data, int rows, int cols) {
        long n = (long) rows * cols;
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("rows x cols: " + n + " weights do not fit one array");
        byte[] q = new byte[(int) n];
        float[] d = new float[(int) (n / 32)];
        for (int b = 0; b < d.length; b++) {
            long at = 34L * b;
            d[b] = Float.float16ToFloat(data.get(I16_LE, at));
            MemorySegment.copy(data, ValueLayout.JAVA_BYTE, at + 2, q, 32 * b, 32);
        }
        return new Q8Matrix(q, d, rows, cols);
    }

    /** Quantises {@code w} as llama.cpp's reference does: {@code d = max|x|/127} rounded to f16, {@code q = round(x/d)} (halves away from zero). */
    public static Q8Matrix quantize(float[] w, int rows, int cols) {
        byte[] q = new byte[w.length];
        float[] d = new float[w.length / 32];
        for (int b = 0; b < d.length; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(w[32 * b + j]));
            float scale = amax / 127f, inv = scale != 0 ? 1f / scale : 0f;
            d[b] = Float.float16ToFloat(Float.floatToFloat16(scale));
            for (int j = 0; j < 32; j++) {
                float v = w[32 * b + j] * inv;
                q[32 * b + j] = (byte) (v < 0 ? -Math.floor(-v + 0.5f) : Math.floor(v + 0.5f));
            }
        }
        return new Q8Matrix(q, d, rows, cols);
    }

    /**
     * Float32 activations: one token by {@link Q8Kernels#gemv}; several (a batched step, a prompt) by
     * {@link Q8Kernels#gemm}, which widens each weight block once for four tokens.
     */
    @Override
    public void multiply(float[] x, int t, float[] y, int ldy, int r0, int r1) {
        if (t == 1) K.gemv(r1 - r0, cols, q, r0 * cols, d, r0 * (cols / 32), x, 0, y, r0);
        else K.gemm(t, r1 - r0, cols, q, r0 * cols, d, r0 * (cols / 32), x, 0, y, r0, ldy);
    }

    /**
     * Activations quantised to Q8_0 blocks once per product, before the rows are split across threads.
     *
     * @param xq        {@code [t, n]} quanta in [−127, 127]
     * @param dx        {@code [t, n/32]} block scales
     * @param dequantized {@code dx·xq} as floats, {@code [t, n]}, for several tokens (null for one)
     */
    public record Activations(short[] xq, float[] dx, float[] dequantized, int t, int n) {
        /** Quantises {@code t} rows of {@code n} values of {@code x} ({@link Q8Kernels#quantizeActivations}). */
        public static Activations quantize(float[] x, int t, int n) {
            short[] xq = new short[t * n];
            float[] dx = new float[t * n / 32];
            Q8Kernels.quantizeActivations(x, 0, t, n, xq, dx);
            float[] xd = null;
            if (t > 1) {
                xd = new float[t * n];
                for (int i = 0; i < xd.length; i++) xd[i] = dx[i / 32] * xq[i];
            }
            return new Activations(xq, dx, xd, t, n);
        }
    }

    /**
     * Rows {@code [r0, r1)} of {@code x̂·Wᵀ} for Q8_0-quantised activations x̂ (llama.cpp's numerics).
     * One token: int8 × int8 block sums ({@link Q8Kernels#gemmQ8}). Several tokens: the float kernel
     * on the dequantised quanta {@code dx·xq}, which are exactly x̂, so only float rounding differs;
     * with four tokens per widened block it needs fewer vector operations per product than the
     * integer kernel's per-block widening, pairing and scaling (measured about 2× faster at 8 tokens).
     */
    public void multiply(Activations a, float[] y, int ldy, int r0, int r1) {
        if (a.n() != cols) throw new IllegalArgumentException("a: expected activations of width " + cols + ", got " + a.n());
        if (a.t() == 1) K.gemmQ8(1, r1 - r0, cols, q, r0 * cols, d, r0 * (cols / 32), a.xq(), a.dx(), y, r0, ldy);
        else K.gemm(a.t(), r1 - r0, cols, q, r0 * cols, d, r0 * (cols / 32), a.dequantized(), 0, y, r0, ldy);
    }

    @Override
    public void row(int r, float[] dst, int off) {
        for (int c = 0; c < cols; c++) dst[off + c] = d[(r * cols + c) / 32] * q[r * cols + c];
    }

    @Override
    public Matrix rows(int r0, int r1) {
        return new Q8Matrix(java.util.Arrays.copyOfRange(q, r0 * cols, r1 * cols), java.util.Arrays.copyOfRange(d, r0 * cols / 32, r1 * cols / 32), r1 - r0, cols);
    }

    @Override
    public float[] toFloats() {
        float[] out = new float[q.length];
        for (int i = 0; i < q.length; i++) out[i] = d[i / 32] * q[i];
        return out;
    }

    @Override
    public long bytes() { return q.length + 4L * d.length; }
}
