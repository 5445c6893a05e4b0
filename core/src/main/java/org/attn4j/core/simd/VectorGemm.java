package org.attn4j.core.simd;

import static org.attn4j.core.simd.Lanes.L;
import static org.attn4j.core.simd.Lanes.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

/**
 * Vector API dense products: the register-tiled GEMM (6 × 2 vectors, 6 × 4 with 32 vector registers), its
 * column-max epilogue, {@code A·Bᵀ} by dot products, dot and axpy. Called through {@link VectorMicroKernels}.
 */
final class VectorGemm {
    private VectorGemm() {}

    /**
     * With 512-bit vectors the CPU has 32 vector registers (AVX-512), room for a 6 × 4-vector tile
     * (24 accumulators + 4 B + 1 broadcast): twice the FMAs per broadcast of the 6 × 2 tile.
     * With 256-bit vectors (AVX2, 16 registers) that tile would spill, so it is not used.
     */
    private static final boolean WIDE_TILE = L >= 16 && !Boolean.getBoolean("attn4j.simd.narrowTile");

    static void gemm(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                     float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, accumulate, null);
    }

    static void gemmColumnMax(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                              float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, float[] colMax) {
        gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, false, colMax);
    }

    private static void gemm(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                      float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean accumulate, float[] cm) {
        int full = m - m % 6;
        if (WIDE_TILE && m - full >= 2) {
            // 2..5 rows left over: tiles of 4 and 2 rows × 4 vectors keep B loads shared across rows.
            int i = full;
            int j = 0;
            for (; j + 4 * L <= n; j += 4 * L) {
                int ii = i;
                if (m - ii >= 4) {
                    tileRx4(4, k, a, aOff + ii * aRs, aRs, aCs, b, bOff + j, ldb, c, cOff + ii * ldc + j, ldc, accumulate, cm, j);
                    ii += 4;
                }
                if (m - ii >= 2) {
                    tileRx4(2, k, a, aOff + ii * aRs, aRs, aCs, b, bOff + j, ldb, c, cOff + ii * ldc + j, ldc, accumulate, cm, j);
                    ii += 2;
                }
            }
            int covered = ((m - full) / 2) * 2; // rows handled above, for columns [0, j)
            if (j < n) {
                // the column tail of those rows, and all columns of an odd last row, go through the row path
                for (int r = full; r < full + covered; r++) rowPath(r, j, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, accumulate, cm);
            }
            if (full + covered < m) rowPath(m - 1, 0, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, accumulate, cm);
            m = full;
        } else if (full < m) {
            // Rows left over from the 6-row tiles (all rows when m < 6, as in decoding): one row against
            // 8 vectors at a time, so B streams by once per row instead of once per 2-vector block.
            for (int i = full; i < m; i++) rowPath(i, 0, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, accumulate, cm);
            m = full;
        }
        int j = 0;
        if (WIDE_TILE) {
            for (; j + 4 * L <= n; j += 4 * L) {
                int i = 0;
                for (; i + 6 <= m; i += 6) {
                    // Two copies of the tile: one compiled method serving both the score product (column
                    // maxima, no C load) and the value product (accumulating) ran 10-20 % slower than
                    // either copy alone (measured), whatever the branch profile.
                    if (cm != null) tile6x4Max(k, a, aOff + i * aRs, aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, cm, j);
                    else tile6x4(k, a, aOff + i * aRs, aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, accumulate);
                }
            }
        }
        for (; j + 2 * L <= n; j += 2 * L) {
            int i = 0;
            for (; i + 6 <= m; i += 6) {
                if (cm != null) tile6x2Max(k, a, aOff + i * aRs, aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, cm, j);
                else tile6x2(k, a, aOff + i * aRs, aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, accumulate);
            }
        }
        for (; j + L <= n; j += L) {
            int i = 0;
            for (; i + 6 <= m; i += 6) {
                tile6x1(k, a, aOff + i * aRs, aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, accumulate, cm, j);
            }
        }
        if (j < n) {
            VectorMask<Float> mask = S.indexInRange(j, n);
            for (int i = 0; i < m; i++) {
                tile1xMasked(k, a, aOff + i * aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate, mask, cm, j);
            }
        }
    }

    private static void tile6x2(int k, float[] a, int a0, int aRs, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, boolean acc) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (acc) {
            c00 = FloatVector.fromArray(S, c, c0); c01 = FloatVector.fromArray(S, c, c0 + L);
            c10 = FloatVector.fromArray(S, c, c0 + ldc); c11 = FloatVector.fromArray(S, c, c0 + ldc + L);
            c20 = FloatVector.fromArray(S, c, c0 + 2 * ldc); c21 = FloatVector.fromArray(S, c, c0 + 2 * ldc + L);
            c30 = FloatVector.fromArray(S, c, c0 + 3 * ldc); c31 = FloatVector.fromArray(S, c, c0 + 3 * ldc + L);
            c40 = FloatVector.fromArray(S, c, c0 + 4 * ldc); c41 = FloatVector.fromArray(S, c, c0 + 4 * ldc + L);
            c50 = FloatVector.fromArray(S, c, c0 + 5 * ldc); c51 = FloatVector.fromArray(S, c, c0 + 5 * ldc + L);
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = FloatVector.zero(S);
        }
        int r1 = aRs, r2 = 2 * aRs, r3 = 3 * aRs, r4 = 4 * aRs, r5 = 5 * aRs;
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(S, b, bp);
            FloatVector b1v = FloatVector.fromArray(S, b, bp + L);
            FloatVector av = FloatVector.broadcast(S, a[ap]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01);
            av = FloatVector.broadcast(S, a[ap + r1]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11);
            av = FloatVector.broadcast(S, a[ap + r2]);
            c20 = av.fma(b0v, c20); c21 = av.fma(b1v, c21);
            av = FloatVector.broadcast(S, a[ap + r3]);
            c30 = av.fma(b0v, c30); c31 = av.fma(b1v, c31);
            av = FloatVector.broadcast(S, a[ap + r4]);
            c40 = av.fma(b0v, c40); c41 = av.fma(b1v, c41);
            av = FloatVector.broadcast(S, a[ap + r5]);
            c50 = av.fma(b0v, c50); c51 = av.fma(b1v, c51);
        }
        c00.intoArray(c, c0); c01.intoArray(c, c0 + L);
        c10.intoArray(c, c0 + ldc); c11.intoArray(c, c0 + ldc + L);
        c20.intoArray(c, c0 + 2 * ldc); c21.intoArray(c, c0 + 2 * ldc + L);
        c30.intoArray(c, c0 + 3 * ldc); c31.intoArray(c, c0 + 3 * ldc + L);
        c40.intoArray(c, c0 + 4 * ldc); c41.intoArray(c, c0 + 4 * ldc + L);
        c50.intoArray(c, c0 + 5 * ldc); c51.intoArray(c, c0 + 5 * ldc + L);
    }

    private static void tile6x2Max(int k, float[] a, int a0, int aRs, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, float[] cm, int cj) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = FloatVector.zero(S);
        int r1 = aRs, r2 = 2 * aRs, r3 = 3 * aRs, r4 = 4 * aRs, r5 = 5 * aRs;
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(S, b, bp);
            FloatVector b1v = FloatVector.fromArray(S, b, bp + L);
            FloatVector av = FloatVector.broadcast(S, a[ap]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01);
            av = FloatVector.broadcast(S, a[ap + r1]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11);
            av = FloatVector.broadcast(S, a[ap + r2]);
            c20 = av.fma(b0v, c20); c21 = av.fma(b1v, c21);
            av = FloatVector.broadcast(S, a[ap + r3]);
            c30 = av.fma(b0v, c30); c31 = av.fma(b1v, c31);
            av = FloatVector.broadcast(S, a[ap + r4]);
            c40 = av.fma(b0v, c40); c41 = av.fma(b1v, c41);
            av = FloatVector.broadcast(S, a[ap + r5]);
            c50 = av.fma(b0v, c50); c51 = av.fma(b1v, c51);
        }
        c00.intoArray(c, c0); c01.intoArray(c, c0 + L);
        c10.intoArray(c, c0 + ldc); c11.intoArray(c, c0 + ldc + L);
        c20.intoArray(c, c0 + 2 * ldc); c21.intoArray(c, c0 + 2 * ldc + L);
        c30.intoArray(c, c0 + 3 * ldc); c31.intoArray(c, c0 + 3 * ldc + L);
        c40.intoArray(c, c0 + 4 * ldc); c41.intoArray(c, c0 + 4 * ldc + L);
        c50.intoArray(c, c0 + 5 * ldc); c51.intoArray(c, c0 + 5 * ldc + L);
        storedColumnMax(c, c0, ldc, 6, 2, cm, cj);
    }

    /** Row i of C, columns [j0, n): 8, then 2, then 1 (masked) vectors at a time. */
    private static void rowPath(int i, int j0, int n, int k, float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int ldb,
                                float[] c, int cOff, int ldc, boolean accumulate, float[] cm) {
        int j = j0;
        for (; j + 8 * L <= n; j += 8 * L) {
            tile1x8(k, a, aOff + i * aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate, cm, j);
        }
        for (; j + 2 * L <= n; j += 2 * L) {
            tile1x2(k, a, aOff + i * aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate, cm, j);
        }
        for (; j < n; j += L) {
            VectorMask<Float> mask = S.indexInRange(j, n);
            tile1xMasked(k, a, aOff + i * aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate, mask, cm, j);
        }
    }

    /** rows (2 or 4) × 4 vectors; only with 32 vector registers. */
    private static void tileRx4(int rows, int k, float[] a, int a0, int aRs, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, boolean acc, float[] cm, int cj) {
        if (rows == 4) tile4x4(k, a, a0, aRs, aCs, b, b0, ldb, c, c0, ldc, acc, cm, cj);
        else tile2x4(k, a, a0, aRs, aCs, b, b0, ldb, c, c0, ldc, acc, cm, cj);
    }

    private static void tile4x4(int k, float[] a, int a0, int aRs, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, boolean acc, float[] cm, int cj) {
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
        if (acc) {
            int p = c0;
            c00 = FloatVector.fromArray(S, c, p); c01 = FloatVector.fromArray(S, c, p + L); c02 = FloatVector.fromArray(S, c, p + 2 * L); c03 = FloatVector.fromArray(S, c, p + 3 * L);
            p += ldc;
            c10 = FloatVector.fromArray(S, c, p); c11 = FloatVector.fromArray(S, c, p + L); c12 = FloatVector.fromArray(S, c, p + 2 * L); c13 = FloatVector.fromArray(S, c, p + 3 * L);
            p += ldc;
            c20 = FloatVector.fromArray(S, c, p); c21 = FloatVector.fromArray(S, c, p + L); c22 = FloatVector.fromArray(S, c, p + 2 * L); c23 = FloatVector.fromArray(S, c, p + 3 * L);
            p += ldc;
            c30 = FloatVector.fromArray(S, c, p); c31 = FloatVector.fromArray(S, c, p + L); c32 = FloatVector.fromArray(S, c, p + 2 * L); c33 = FloatVector.fromArray(S, c, p + 3 * L);
        } else {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = FloatVector.zero(S);
        }
        int r1 = aRs, r2 = 2 * aRs, r3 = 3 * aRs;
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(S, b, bp), b1v = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2v = FloatVector.fromArray(S, b, bp + 2 * L), b3v = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector av = FloatVector.broadcast(S, a[ap]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01); c02 = av.fma(b2v, c02); c03 = av.fma(b3v, c03);
            av = FloatVector.broadcast(S, a[ap + r1]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11); c12 = av.fma(b2v, c12); c13 = av.fma(b3v, c13);
            av = FloatVector.broadcast(S, a[ap + r2]);
            c20 = av.fma(b0v, c20); c21 = av.fma(b1v, c21); c22 = av.fma(b2v, c22); c23 = av.fma(b3v, c23);
            av = FloatVector.broadcast(S, a[ap + r3]);
            c30 = av.fma(b0v, c30); c31 = av.fma(b1v, c31); c32 = av.fma(b2v, c32); c33 = av.fma(b3v, c33);
        }
        int p = c0;
        c00.intoArray(c, p); c01.intoArray(c, p + L); c02.intoArray(c, p + 2 * L); c03.intoArray(c, p + 3 * L);
        p += ldc;
        c10.intoArray(c, p); c11.intoArray(c, p + L); c12.intoArray(c, p + 2 * L); c13.intoArray(c, p + 3 * L);
        p += ldc;
        c20.intoArray(c, p); c21.intoArray(c, p + L); c22.intoArray(c, p + 2 * L); c23.intoArray(c, p + 3 * L);
        p += ldc;
        c30.intoArray(c, p); c31.intoArray(c, p + L); c32.intoArray(c, p + 2 * L); c33.intoArray(c, p + 3 * L);
        if (cm != null) storedColumnMax(c, c0, ldc, 4, 4, cm, cj);
    }

    private static void tile2x4(int k, float[] a, int a0, int aRs, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, boolean acc, float[] cm, int cj) {
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13;
        if (acc) {
            c00 = FloatVector.fromArray(S, c, c0); c01 = FloatVector.fromArray(S, c, c0 + L);
            c02 = FloatVector.fromArray(S, c, c0 + 2 * L); c03 = FloatVector.fromArray(S, c, c0 + 3 * L);
            c10 = FloatVector.fromArray(S, c, c0 + ldc); c11 = FloatVector.fromArray(S, c, c0 + ldc + L);
            c12 = FloatVector.fromArray(S, c, c0 + ldc + 2 * L); c13 = FloatVector.fromArray(S, c, c0 + ldc + 3 * L);
        } else {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = FloatVector.zero(S);
        }
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(S, b, bp), b1v = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2v = FloatVector.fromArray(S, b, bp + 2 * L), b3v = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector av = FloatVector.broadcast(S, a[ap]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01); c02 = av.fma(b2v, c02); c03 = av.fma(b3v, c03);
            av = FloatVector.broadcast(S, a[ap + aRs]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11); c12 = av.fma(b2v, c12); c13 = av.fma(b3v, c13);
        }
        c00.intoArray(c, c0); c01.intoArray(c, c0 + L); c02.intoArray(c, c0 + 2 * L); c03.intoArray(c, c0 + 3 * L);
        c10.intoArray(c, c0 + ldc); c11.intoArray(c, c0 + ldc + L); c12.intoArray(c, c0 + ldc + 2 * L); c13.intoArray(c, c0 + ldc + 3 * L);
        if (cm != null) storedColumnMax(c, c0, ldc, 2, 4, cm, cj);
    }

    private static void tile6x4(int k, float[] a, int a0, int aRs, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, boolean acc) {
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23;
        FloatVector c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53;
        if (acc) {
            int p = c0;
            c00 = FloatVector.fromArray(S, c, p); c01 = FloatVector.fromArray(S, c, p + L);
            c02 = FloatVector.fromArray(S, c, p + 2 * L); c03 = FloatVector.fromArray(S, c, p + 3 * L);
            p += ldc;
            c10 = FloatVector.fromArray(S, c, p); c11 = FloatVector.fromArray(S, c, p + L);
            c12 = FloatVector.fromArray(S, c, p + 2 * L); c13 = FloatVector.fromArray(S, c, p + 3 * L);
            p += ldc;
            c20 = FloatVector.fromArray(S, c, p); c21 = FloatVector.fromArray(S, c, p + L);
            c22 = FloatVector.fromArray(S, c, p + 2 * L); c23 = FloatVector.fromArray(S, c, p + 3 * L);
            p += ldc;
            c30 = FloatVector.fromArray(S, c, p); c31 = FloatVector.fromArray(S, c, p + L);
            c32 = FloatVector.fromArray(S, c, p + 2 * L); c33 = FloatVector.fromArray(S, c, p + 3 * L);
            p += ldc;
            c40 = FloatVector.fromArray(S, c, p); c41 = FloatVector.fromArray(S, c, p + L);
            c42 = FloatVector.fromArray(S, c, p + 2 * L); c43 = FloatVector.fromArray(S, c, p + 3 * L);
            p += ldc;
            c50 = FloatVector.fromArray(S, c, p); c51 = FloatVector.fromArray(S, c, p + L);
            c52 = FloatVector.fromArray(S, c, p + 2 * L); c53 = FloatVector.fromArray(S, c, p + 3 * L);
        } else {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = FloatVector.zero(S);
            c30 = c31 = c32 = c33 = c40 = c41 = c42 = c43 = c50 = c51 = c52 = c53 = FloatVector.zero(S);
        }
        int r1 = aRs, r2 = 2 * aRs, r3 = 3 * aRs, r4 = 4 * aRs, r5 = 5 * aRs;
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(S, b, bp);
            FloatVector b1v = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2v = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector b3v = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector av = FloatVector.broadcast(S, a[ap]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01); c02 = av.fma(b2v, c02); c03 = av.fma(b3v, c03);
            av = FloatVector.broadcast(S, a[ap + r1]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11); c12 = av.fma(b2v, c12); c13 = av.fma(b3v, c13);
            av = FloatVector.broadcast(S, a[ap + r2]);
            c20 = av.fma(b0v, c20); c21 = av.fma(b1v, c21); c22 = av.fma(b2v, c22); c23 = av.fma(b3v, c23);
            av = FloatVector.broadcast(S, a[ap + r3]);
            c30 = av.fma(b0v, c30); c31 = av.fma(b1v, c31); c32 = av.fma(b2v, c32); c33 = av.fma(b3v, c33);
            av = FloatVector.broadcast(S, a[ap + r4]);
            c40 = av.fma(b0v, c40); c41 = av.fma(b1v, c41); c42 = av.fma(b2v, c42); c43 = av.fma(b3v, c43);
            av = FloatVector.broadcast(S, a[ap + r5]);
            c50 = av.fma(b0v, c50); c51 = av.fma(b1v, c51); c52 = av.fma(b2v, c52); c53 = av.fma(b3v, c53);
        }
        int p = c0;
        c00.intoArray(c, p); c01.intoArray(c, p + L); c02.intoArray(c, p + 2 * L); c03.intoArray(c, p + 3 * L);
        p += ldc;
        c10.intoArray(c, p); c11.intoArray(c, p + L); c12.intoArray(c, p + 2 * L); c13.intoArray(c, p + 3 * L);
        p += ldc;
        c20.intoArray(c, p); c21.intoArray(c, p + L); c22.intoArray(c, p + 2 * L); c23.intoArray(c, p + 3 * L);
        p += ldc;
        c30.intoArray(c, p); c31.intoArray(c, p + L); c32.intoArray(c, p + 2 * L); c33.intoArray(c, p + 3 * L);
        p += ldc;
        c40.intoArray(c, p); c41.intoArray(c, p + L); c42.intoArray(c, p + 2 * L); c43.intoArray(c, p + 3 * L);
        p += ldc;
        c50.intoArray(c, p); c51.intoArray(c, p + L); c52.intoArray(c, p + 2 * L); c53.intoArray(c, p + 3 * L);
    }

    private static void tile6x4Max(int k, float[] a, int a0, int aRs, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, float[] cm, int cj) {
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23;
        FloatVector c30, c31, c32, c33, c40, c41, c42, c43, c50, c51, c52, c53;
        c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = c20 = c21 = c22 = c23 = FloatVector.zero(S);
        c30 = c31 = c32 = c33 = c40 = c41 = c42 = c43 = c50 = c51 = c52 = c53 = FloatVector.zero(S);
        int r1 = aRs, r2 = 2 * aRs, r3 = 3 * aRs, r4 = 4 * aRs, r5 = 5 * aRs;
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            FloatVector b0v = FloatVector.fromArray(S, b, bp);
            FloatVector b1v = FloatVector.fromArray(S, b, bp + L);
            FloatVector b2v = FloatVector.fromArray(S, b, bp + 2 * L);
            FloatVector b3v = FloatVector.fromArray(S, b, bp + 3 * L);
            FloatVector av = FloatVector.broadcast(S, a[ap]);
            c00 = av.fma(b0v, c00); c01 = av.fma(b1v, c01); c02 = av.fma(b2v, c02); c03 = av.fma(b3v, c03);
            av = FloatVector.broadcast(S, a[ap + r1]);
            c10 = av.fma(b0v, c10); c11 = av.fma(b1v, c11); c12 = av.fma(b2v, c12); c13 = av.fma(b3v, c13);
            av = FloatVector.broadcast(S, a[ap + r2]);
            c20 = av.fma(b0v, c20); c21 = av.fma(b1v, c21); c22 = av.fma(b2v, c22); c23 = av.fma(b3v, c23);
            av = FloatVector.broadcast(S, a[ap + r3]);
            c30 = av.fma(b0v, c30); c31 = av.fma(b1v, c31); c32 = av.fma(b2v, c32); c33 = av.fma(b3v, c33);
            av = FloatVector.broadcast(S, a[ap + r4]);
            c40 = av.fma(b0v, c40); c41 = av.fma(b1v, c41); c42 = av.fma(b2v, c42); c43 = av.fma(b3v, c43);
            av = FloatVector.broadcast(S, a[ap + r5]);
            c50 = av.fma(b0v, c50); c51 = av.fma(b1v, c51); c52 = av.fma(b2v, c52); c53 = av.fma(b3v, c53);
        }
        int p = c0;
        c00.intoArray(c, p); c01.intoArray(c, p + L); c02.intoArray(c, p + 2 * L); c03.intoArray(c, p + 3 * L);
        p += ldc;
        c10.intoArray(c, p); c11.intoArray(c, p + L); c12.intoArray(c, p + 2 * L); c13.intoArray(c, p + 3 * L);
        p += ldc;
        c20.intoArray(c, p); c21.intoArray(c, p + L); c22.intoArray(c, p + 2 * L); c23.intoArray(c, p + 3 * L);
        p += ldc;
        c30.intoArray(c, p); c31.intoArray(c, p + L); c32.intoArray(c, p + 2 * L); c33.intoArray(c, p + 3 * L);
        p += ldc;
        c40.intoArray(c, p); c41.intoArray(c, p + L); c42.intoArray(c, p + 2 * L); c43.intoArray(c, p + 3 * L);
        p += ldc;
        c50.intoArray(c, p); c51.intoArray(c, p + L); c52.intoArray(c, p + 2 * L); c53.intoArray(c, p + 3 * L);
        storedColumnMax(c, c0, ldc, 6, 4, cm, cj);
    }

    /**
     * Folds the column maxima of a just-stored {@code rows × vecs}-vector tile of C (still in L1) into
     * {@code cm[cj …]}. Read back from memory rather than passed the accumulators: a helper that takes
     * vectors must be inlined or C2 boxes them, and in the large tile methods it sometimes was not
     * (NodeCountInliningCutoff), which halved the score GEMM's speed (measured).
     */
    private static void storedColumnMax(float[] c, int c0, int ldc, int rows, int vecs, float[] cm, int cj) {
        for (int v = 0; v < vecs; v++) {
            int at = c0 + v * L;
            FloatVector mx = FloatVector.fromArray(S, cm, cj + v * L);
            for (int r = 0; r < rows; r++, at += ldc) mx = mx.max(FloatVector.fromArray(S, c, at));
            mx.intoArray(cm, cj + v * L);
        }
    }

    private static void tile6x1(int k, float[] a, int a0, int aRs, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, boolean acc, float[] cm, int cj) {
        FloatVector c0v, c1v, c2v, c3v, c4v, c5v;
        if (acc) {
            c0v = FloatVector.fromArray(S, c, c0);
            c1v = FloatVector.fromArray(S, c, c0 + ldc);
            c2v = FloatVector.fromArray(S, c, c0 + 2 * ldc);
            c3v = FloatVector.fromArray(S, c, c0 + 3 * ldc);
            c4v = FloatVector.fromArray(S, c, c0 + 4 * ldc);
            c5v = FloatVector.fromArray(S, c, c0 + 5 * ldc);
        } else {
            c0v = c1v = c2v = c3v = c4v = c5v = FloatVector.zero(S);
        }
        int r1 = aRs, r2 = 2 * aRs, r3 = 3 * aRs, r4 = 4 * aRs, r5 = 5 * aRs;
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp);
            c0v = FloatVector.broadcast(S, a[ap]).fma(bv, c0v);
            c1v = FloatVector.broadcast(S, a[ap + r1]).fma(bv, c1v);
            c2v = FloatVector.broadcast(S, a[ap + r2]).fma(bv, c2v);
            c3v = FloatVector.broadcast(S, a[ap + r3]).fma(bv, c3v);
            c4v = FloatVector.broadcast(S, a[ap + r4]).fma(bv, c4v);
            c5v = FloatVector.broadcast(S, a[ap + r5]).fma(bv, c5v);
        }
        c0v.intoArray(c, c0);
        c1v.intoArray(c, c0 + ldc);
        c2v.intoArray(c, c0 + 2 * ldc);
        c3v.intoArray(c, c0 + 3 * ldc);
        c4v.intoArray(c, c0 + 4 * ldc);
        c5v.intoArray(c, c0 + 5 * ldc);
        if (cm != null) storedColumnMax(c, c0, ldc, 6, 1, cm, cj);
    }

    private static void tile1x2(int k, float[] a, int a0, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, boolean acc, float[] cm, int cj) {
        FloatVector x0 = acc ? FloatVector.fromArray(S, c, c0) : FloatVector.zero(S);
        FloatVector x1 = acc ? FloatVector.fromArray(S, c, c0 + L) : FloatVector.zero(S);
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            FloatVector av = FloatVector.broadcast(S, a[ap]);
            x0 = av.fma(FloatVector.fromArray(S, b, bp), x0);
            x1 = av.fma(FloatVector.fromArray(S, b, bp + L), x1);
        }
        x0.intoArray(c, c0);
        x1.intoArray(c, c0 + L);
        if (cm != null) storedColumnMax(c, c0, 0, 1, 2, cm, cj);
    }

    private static void tile1x8(int k, float[] a, int a0, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, boolean acc, float[] cm, int cj) {
        FloatVector x0, x1, x2, x3, x4, x5, x6, x7;
        if (acc) {
            x0 = FloatVector.fromArray(S, c, c0); x1 = FloatVector.fromArray(S, c, c0 + L);
            x2 = FloatVector.fromArray(S, c, c0 + 2 * L); x3 = FloatVector.fromArray(S, c, c0 + 3 * L);
            x4 = FloatVector.fromArray(S, c, c0 + 4 * L); x5 = FloatVector.fromArray(S, c, c0 + 5 * L);
            x6 = FloatVector.fromArray(S, c, c0 + 6 * L); x7 = FloatVector.fromArray(S, c, c0 + 7 * L);
        } else {
            x0 = x1 = x2 = x3 = x4 = x5 = x6 = x7 = FloatVector.zero(S);
        }
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            FloatVector av = FloatVector.broadcast(S, a[ap]);
            x0 = av.fma(FloatVector.fromArray(S, b, bp), x0);
            x1 = av.fma(FloatVector.fromArray(S, b, bp + L), x1);
            x2 = av.fma(FloatVector.fromArray(S, b, bp + 2 * L), x2);
            x3 = av.fma(FloatVector.fromArray(S, b, bp + 3 * L), x3);
            x4 = av.fma(FloatVector.fromArray(S, b, bp + 4 * L), x4);
            x5 = av.fma(FloatVector.fromArray(S, b, bp + 5 * L), x5);
            x6 = av.fma(FloatVector.fromArray(S, b, bp + 6 * L), x6);
            x7 = av.fma(FloatVector.fromArray(S, b, bp + 7 * L), x7);
        }
        x0.intoArray(c, c0); x1.intoArray(c, c0 + L); x2.intoArray(c, c0 + 2 * L); x3.intoArray(c, c0 + 3 * L);
        x4.intoArray(c, c0 + 4 * L); x5.intoArray(c, c0 + 5 * L); x6.intoArray(c, c0 + 6 * L); x7.intoArray(c, c0 + 7 * L);
        if (cm != null) storedColumnMax(c, c0, 0, 1, 8, cm, cj);
    }

    private static void tile1xMasked(int k, float[] a, int a0, int aCs, float[] b, int b0, int ldb,
                                     float[] c, int c0, boolean acc, VectorMask<Float> mask, float[] cm, int cj) {
        FloatVector x = acc ? FloatVector.fromArray(S, c, c0, mask) : FloatVector.zero(S);
        for (int p = 0, ap = a0, bp = b0; p < k; p++, ap += aCs, bp += ldb) {
            x = FloatVector.broadcast(S, a[ap]).fma(FloatVector.fromArray(S, b, bp, mask), x);
        }
        x.intoArray(c, c0, mask);
        if (cm != null) x.max(FloatVector.fromArray(S, cm, cj, mask)).intoArray(cm, cj, mask);
    }

    /**
     * Dot-product form. With two or more rows of A (a batched decode step: A holds the tokens, B the
     * weight rows) tiles of 4 B rows × 2 A rows share every load: 6 loads per 8 FMAs instead of 5 per 4,
     * and the loop runs B rows outermost, so a group of weight rows is read from memory once and then
     * stays in L1 for every row of A. Each dot product keeps the order of the one-row path (lane
     * accumulators, one lane reduction, scalar tail), so results equal it up to the order of the lane
     * reduction (which the JIT-compiled and the interpreted Vector API do differently).
     */
    static void gemmTransB(int m, int n, int k, float[] a, int aOff, int lda,
                           float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        int kv = S.loopBound(k);
        int j = 0;
        if (m >= 2) {
            for (; j + 4 <= n; j += 4) {
                int i = 0;
                for (; i + 2 <= m; i += 2) tile2x4TransB(k, kv, a, aOff + i * lda, lda, b, bOff + j * ldb, ldb, c, cOff + i * ldc + j, ldc);
                for (; i < m; i++) row4TransB(k, kv, a, aOff + i * lda, b, bOff + j * ldb, ldb, c, cOff + i * ldc + j);
            }
        }
        for (int i = 0; i < m; i++) {
            int ai = aOff + i * lda;
            int ci = cOff + i * ldc;
            int jj = j;
            for (; jj + 4 <= n; jj += 4) row4TransB(k, kv, a, ai, b, bOff + jj * ldb, ldb, c, ci + jj);
            for (; jj < n; jj++) c[ci + jj] = dot(a, ai, b, bOff + jj * ldb, k);
        }
    }

    /** One row of A against four rows of B: {@code c[c0 + 0..3]}. */
    private static void row4TransB(int k, int kv, float[] a, int ai, float[] b, int b0, int ldb, float[] c, int c0) {
        int b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int p = 0;
        for (; p < kv; p += L) {
            FloatVector av = FloatVector.fromArray(S, a, ai + p);
            s0 = av.fma(FloatVector.fromArray(S, b, b0 + p), s0);
            s1 = av.fma(FloatVector.fromArray(S, b, b1 + p), s1);
            s2 = av.fma(FloatVector.fromArray(S, b, b2 + p), s2);
            s3 = av.fma(FloatVector.fromArray(S, b, b3 + p), s3);
        }
        float t0 = sum(s0), t1 = sum(s1);
        float t2 = sum(s2), t3 = sum(s3);
        for (; p < k; p++) {
            float av = a[ai + p];
            t0 += av * b[b0 + p]; t1 += av * b[b1 + p]; t2 += av * b[b2 + p]; t3 += av * b[b3 + p];
        }
        c[c0] = t0; c[c0 + 1] = t1; c[c0 + 2] = t2; c[c0 + 3] = t3;
    }

    /** Two rows of A (stride lda) against four rows of B: {@code c[c0 + 0..3]} and {@code c[c0 + ldc + 0..3]}. */
    private static void tile2x4TransB(int k, int kv, float[] a, int a0, int lda, float[] b, int b0, int ldb, float[] c, int c0, int ldc) {
        int a1 = a0 + lda, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
        FloatVector s00 = FloatVector.zero(S), s01 = s00, s02 = s00, s03 = s00, s10 = s00, s11 = s00, s12 = s00, s13 = s00;
        int p = 0;
        for (; p < kv; p += L) {
            FloatVector x0 = FloatVector.fromArray(S, a, a0 + p), x1 = FloatVector.fromArray(S, a, a1 + p);
            FloatVector w = FloatVector.fromArray(S, b, b0 + p);
            s00 = x0.fma(w, s00); s10 = x1.fma(w, s10);
            w = FloatVector.fromArray(S, b, b1 + p);
            s01 = x0.fma(w, s01); s11 = x1.fma(w, s11);
            w = FloatVector.fromArray(S, b, b2 + p);
            s02 = x0.fma(w, s02); s12 = x1.fma(w, s12);
            w = FloatVector.fromArray(S, b, b3 + p);
            s03 = x0.fma(w, s03); s13 = x1.fma(w, s13);
        }
        float t00 = sum(s00), t01 = sum(s01);
        float t02 = sum(s02), t03 = sum(s03);
        float t10 = sum(s10), t11 = sum(s11);
        float t12 = sum(s12), t13 = sum(s13);
        for (; p < k; p++) {
            float x0 = a[a0 + p], x1 = a[a1 + p];
            t00 += x0 * b[b0 + p]; t01 += x0 * b[b1 + p]; t02 += x0 * b[b2 + p]; t03 += x0 * b[b3 + p];
            t10 += x1 * b[b0 + p]; t11 += x1 * b[b1 + p]; t12 += x1 * b[b2 + p]; t13 += x1 * b[b3 + p];
        }
        c[c0] = t00; c[c0 + 1] = t01; c[c0 + 2] = t02; c[c0 + 3] = t03;
        c[c0 + ldc] = t10; c[c0 + ldc + 1] = t11; c[c0 + ldc + 2] = t12; c[c0 + ldc + 3] = t13;
    }

    /**
     * Σ of the lanes in a fixed pairwise order (halves, then quarters, ...), so that JIT-compiled and
     * interpreted code give the same bits ({@code reduceLanes(ADD)} does not promise an order, and the
     * two differ): a model's logits then do not depend on when the JIT compiled the kernel.
     */
    static float sum(FloatVector v) {
        if (L == 16) {
            v = v.add(v.rearrange(FOLD8)); v = v.add(v.rearrange(FOLD4)); v = v.add(v.rearrange(FOLD2)); v = v.add(v.rearrange(FOLD1));
            return v.lane(0);
        }
        if (L == 8) {
            v = v.add(v.rearrange(FOLD4)); v = v.add(v.rearrange(FOLD2)); v = v.add(v.rearrange(FOLD1));
            return v.lane(0);
        }
        float t = 0;
        for (int i = 0; i < L; i++) t += v.lane(i);
        return t;
    }

    private static final VectorShuffle<Float> FOLD8 = VectorShuffle.fromOp(S, i -> i ^ 8 & (L - 1));
    private static final VectorShuffle<Float> FOLD4 = VectorShuffle.fromOp(S, i -> i ^ 4 & (L - 1));
    private static final VectorShuffle<Float> FOLD2 = VectorShuffle.fromOp(S, i -> i ^ 2 & (L - 1));
    private static final VectorShuffle<Float> FOLD1 = VectorShuffle.fromOp(S, i -> i ^ 1 & (L - 1));

    static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int p = 0;
        float s = 0f;
        if (n >= 4 * L) {
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            int bound4 = n - 4 * L;
            for (; p <= bound4; p += 4 * L) {
                s0 = FloatVector.fromArray(S, a, aOff + p).fma(FloatVector.fromArray(S, b, bOff + p), s0);
                s1 = FloatVector.fromArray(S, a, aOff + p + L).fma(FloatVector.fromArray(S, b, bOff + p + L), s1);
                s2 = FloatVector.fromArray(S, a, aOff + p + 2 * L).fma(FloatVector.fromArray(S, b, bOff + p + 2 * L), s2);
                s3 = FloatVector.fromArray(S, a, aOff + p + 3 * L).fma(FloatVector.fromArray(S, b, bOff + p + 3 * L), s3);
            }
            s = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
        }
        if (p + L <= n) {
            FloatVector s0 = FloatVector.zero(S);
            for (; p + L <= n; p += L) {
                s0 = FloatVector.fromArray(S, a, aOff + p).fma(FloatVector.fromArray(S, b, bOff + p), s0);
            }
            s += s0.reduceLanes(VectorOperators.ADD);
        }
        for (; p < n; p++) s += a[aOff + p] * b[bOff + p];
        return s;
    }

    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        int p = 0;
        for (int bound = S.loopBound(n); p < bound; p += L) {
            av.fma(FloatVector.fromArray(S, x, xOff + p), FloatVector.fromArray(S, y, yOff + p)).intoArray(y, yOff + p);
        }
        for (; p < n; p++) y[yOff + p] += alpha * x[xOff + p];
    }
}
