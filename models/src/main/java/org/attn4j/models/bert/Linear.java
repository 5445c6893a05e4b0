package org.attn4j.models.bert;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;

/**
 * A dense layer {@code y = x·W + b} with W stored {@code [in, out]} row-major (packed once at load:
 * the GEMM reads it as its B matrix directly). Rows of x are independent tokens.
 */
final class Linear {
    /** Row and column block of one parallel work item: 96 tokens × 256 outputs (a 384 × 256 slice of W is 384 KiB). */
    private static final int ROW_BLOCK = 96, COL_BLOCK = 256;

    final int in, out;
    final float[] w, b;

    Linear(int in, int out, float[] w, float[] b) {
        this.in = in;
        this.out = out;
        this.w = w;
        this.b = b;
    }

    static Linear of(Tensor weight, Tensor bias) {
        int in = weight.dim(0), out = weight.dim(1);
        if (bias.rank() != 1 || bias.dim(0) != out) {
            throw new IllegalArgumentException("bias: expected shape [" + out + "], got " + java.util.Arrays.toString(bias.shape()));
        }
        return new Linear(in, out, weight.contiguous().toArray(), bias.contiguous().toArray());
    }

    /** The layers side by side: one GEMM computes all their outputs (e.g. Q, K and V). */
    static Linear concat(Linear... parts) {
        int in = parts[0].in, out = 0;
        for (Linear p : parts) {
            if (p.in != in) throw new IllegalArgumentException("concat: input sizes differ (" + in + " vs " + p.in + ")");
            out += p.out;
        }
        float[] w = new float[in * out], b = new float[out];
        int col = 0;
        for (Linear p : parts) {
            for (int r = 0; r < in; r++) System.arraycopy(p.w, r * p.out, w, r * out + col, p.out);
            System.arraycopy(p.b, 0, b, col, p.out);
            col += p.out;
        }
        return new Linear(in, out, w, b);
    }

    /** y[rows × out] = x[rows × in]·W + b, split over threads by row and column blocks. */
    void apply(float[] x, int rows, float[] y, int threads) {
        MicroKernels mk = MicroKernels.get();
        int rowBlocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK, colBlocks = (out + COL_BLOCK - 1) / COL_BLOCK;
        Parallel.forEach(threads, rowBlocks * colBlocks, t -> null, (item, unused) -> {
            int r0 = (item / colBlocks) * ROW_BLOCK, c0 = (item % colBlocks) * COL_BLOCK;
            int m = Math.min(ROW_BLOCK, rows - r0), n = Math.min(COL_BLOCK, out - c0);
            for (int r = r0; r < r0 + m; r++) System.arraycopy(b, c0, y, r * out + c0, n);
            mk.gemm(m, n, in, x, r0 * in, in, 1, w, c0, out, y, r0 * out + c0, out, true);
        });
    }
}
