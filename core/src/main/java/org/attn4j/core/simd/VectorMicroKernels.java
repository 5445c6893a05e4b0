package org.attn4j.core.simd;

import static org.attn4j.core.simd.Lanes.S;

/**
 * The Vector API implementation of {@link MicroKernels}, by operation family: dense products
 * ({@link VectorGemm}), the softmax on transposed tiles and its backward step ({@link VectorSoftmax}),
 * element-wise kernels ({@link VectorElementwise}), gathered-row products ({@link VectorGather}) and
 * shifted (diagonal) products ({@link VectorShifted}). Lane counts come from {@link Lanes}: every
 * kernel is generic over the vector width (AVX2's 256 bits, AVX-512's 512).
 */
final class VectorMicroKernels implements MicroKernels {
    static final VectorMicroKernels INSTANCE = new VectorMicroKernels();

    private VectorMicroKernels() {}

    static int vectorBits() { return S.vectorBitSize(); }

    @Override
    public String name() { return "vector-" + S.vectorBitSize(); }

    @Override
    public void gemm(int m, int n, int k, float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        VectorGemm.gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, accumulate);
    }

    @Override
    public void gemmColumnMax(int m, int n, int k, float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, float[] colMax) {
        VectorGemm.gemmColumnMax(m, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, colMax);
    }

    @Override
    public void gemmTransB(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        VectorGemm.gemmTransB(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        return VectorGemm.dot(a, aOff, b, bOff, n);
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        VectorGemm.axpy(alpha, x, xOff, y, yOff, n);
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        VectorElementwise.gelu(x, off, n);
    }

    @Override
    public void addLayerNorm(float[] x, int off, float[] r, int rOff, int n, float[] gamma, float[] beta, float eps) {
        VectorElementwise.addLayerNorm(x, off, r, rOff, n, gamma, beta, eps);
    }

    @Override
    public void scale(float[] x, int off, int n, float alpha) {
        VectorElementwise.scale(x, off, n, alpha);
    }

    @Override
    public void softcap(float[] x, int off, int n, float cap) {
        VectorElementwise.softcap(x, off, n, cap);
    }

    @Override
    public void softmaxBackwardColumns(float[] p, float[] dp, int off, int rows, int cols, int ld, float[] rowDot, int rdOff) {
        VectorSoftmax.softmaxBackwardColumns(p, dp, off, rows, cols, ld, rowDot, rdOff);
    }

    @Override
    public void columnMax(float[] s, int off, int rows, int cols, int ld, float[] out) {
        VectorSoftmax.columnMax(s, off, rows, cols, ld, out);
    }

    @Override
    public void maskBand(float[] s, int off, int rows, int cols, int ld, int j0, int[] lo, int[] hi) {
        VectorSoftmax.maskBand(s, off, rows, cols, ld, j0, lo, hi);
    }

    @Override
    public void expColumns(float[] s, int off, int rows, int cols, int ld, float[] shift, float[] sums) {
        VectorSoftmax.expColumns(s, off, rows, cols, ld, shift, sums);
    }

    @Override
    public void gemmRowGather(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc) {
        VectorGather.gemmRowGather(m, n, k, a, aRow, b, ldb, c, ldc);
    }

    @Override
    public void gemmColumnGatherAcc(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc, float[] colScale) {
        VectorGather.gemmColumnGatherAcc(m, n, k, a, aRow, b, ldb, c, ldc, colScale);
    }

    @Override
    public void packTransposed(int rows, int cols, float[] src, int[] srcRow, float alpha, float[] dst, int dstOff, int ld) {
        VectorGather.packTransposed(rows, cols, src, srcRow, alpha, dst, dstOff, ld);
    }

    @Override
    public void unpackTransposed(int rows, int cols, float[] src, int srcOff, int ld, float[] colScale, float[] dst, int[] dstRow) {
        VectorGather.unpackTransposed(rows, cols, src, srcOff, ld, colScale, dst, dstRow);
    }

    @Override
    public void shiftedScores(int d, int n, int shifts, float[] q, int q0, int q1, float[] k, int k0, int ld, float[] s, int s0, int s1, int sLd) {
        VectorShifted.shiftedScores(d, n, shifts, q, q0, q1, k, k0, ld, s, s0, s1, sLd);
    }

    @Override
    public void shiftedValues(int dv, int n, int shifts, float[] p, int p0, int p1, int pLd, float[] v, int v0, int ld, float[] o, int o0, int o1, int oLd) {
        VectorShifted.shiftedValues(dv, n, shifts, p, p0, p1, pLd, v, v0, ld, o, o0, o1, oLd);
    }
}
