package org.attn4j.core.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API micro-kernels. The GEMM is register-blocked 6 rows × 2 vectors: 12 accumulators,
 * 2 B vectors and 1 broadcast fit the 16 ymm registers of AVX2 without spilling.
 */
final class VectorMicroKernels implements MicroKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Int lanes matching the float lanes one to one (same lane count), for masks built from int bounds. */
    private static final VectorSpecies<Integer> SI = IntVector.SPECIES_PREFERRED.length() == L
            ? IntVector.SPECIES_PREFERRED : VectorSpecies.of(int.class, S.vectorShape());
    static final VectorMicroKernels INSTANCE = new VectorMicroKernels();

    private VectorMicroKernels() {}

    static int vectorBits() { return S.vectorBitSize(); }

    @Override
    public String name() { return "vector-" + S.vectorBitSize(); }

    /**
     * With 512-bit vectors the CPU has 32 vector registers (AVX-512), room for a 6 × 4-vector tile
     * (24 accumulators + 4 B + 1 broadcast): twice the FMAs per broadcast of the 6 × 2 tile.
     * With 256-bit vectors (AVX2, 16 registers) that tile would spill, so it is not used.
     */
    private static final boolean WIDE_TILE = L >= 16 && !Boolean.getBoolean("attn4j.simd.narrowTile");

    @Override
    public void gemm(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                     float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, accumulate, null);
    }

    @Override
    public void gemmColumnMax(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                              float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, float[] colMax) {
        gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, false, colMax);
    }

    private void gemm(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
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
                    tile6x4(k, a, aOff + i * aRs, aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, accumulate, cm, j);
                }
            }
        }
        for (; j + 2 * L <= n; j += 2 * L) {
            int i = 0;
            for (; i + 6 <= m; i += 6) {
                tile6x2(k, a, aOff + i * aRs, aRs, aCs, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, accumulate, cm, j);
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
                                float[] c, int c0, int ldc, boolean acc, float[] cm, int cj) {
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
        if (cm != null) {
            maxInto(cm, cj, c00.max(c10).max(c20.max(c30)).max(c40.max(c50)));
            maxInto(cm, cj + L, c01.max(c11).max(c21.max(c31)).max(c41.max(c51)));
        }
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
        if (cm != null) {
            maxInto(cm, cj, c00.max(c10).max(c20.max(c30)));
            maxInto(cm, cj + L, c01.max(c11).max(c21.max(c31)));
            maxInto(cm, cj + 2 * L, c02.max(c12).max(c22.max(c32)));
            maxInto(cm, cj + 3 * L, c03.max(c13).max(c23.max(c33)));
        }
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
        if (cm != null) {
            maxInto(cm, cj, c00.max(c10));
            maxInto(cm, cj + L, c01.max(c11));
            maxInto(cm, cj + 2 * L, c02.max(c12));
            maxInto(cm, cj + 3 * L, c03.max(c13));
        }
    }

    private static void tile6x4(int k, float[] a, int a0, int aRs, int aCs, float[] b, int b0, int ldb,
                                float[] c, int c0, int ldc, boolean acc, float[] cm, int cj) {
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
        if (cm != null) {
            maxInto(cm, cj, c00.max(c10).max(c20.max(c30)).max(c40.max(c50)));
            maxInto(cm, cj + L, c01.max(c11).max(c21.max(c31)).max(c41.max(c51)));
            maxInto(cm, cj + 2 * L, c02.max(c12).max(c22.max(c32)).max(c42.max(c52)));
            maxInto(cm, cj + 3 * L, c03.max(c13).max(c23.max(c33)).max(c43.max(c53)));
        }
    }

    private static void maxInto(float[] cm, int at, FloatVector v) {
        v.max(FloatVector.fromArray(S, cm, at)).intoArray(cm, at);
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
        if (cm != null) maxInto(cm, cj, c0v.max(c1v).max(c2v.max(c3v)).max(c4v.max(c5v)));
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
        if (cm != null) {
            maxInto(cm, cj, x0);
            maxInto(cm, cj + L, x1);
        }
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
        if (cm != null) {
            maxInto(cm, cj, x0); maxInto(cm, cj + L, x1); maxInto(cm, cj + 2 * L, x2); maxInto(cm, cj + 3 * L, x3);
            maxInto(cm, cj + 4 * L, x4); maxInto(cm, cj + 5 * L, x5); maxInto(cm, cj + 6 * L, x6); maxInto(cm, cj + 7 * L, x7);
        }
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

    @Override
    public void gemmTransB(int m, int n, int k, float[] a, int aOff, int lda,
                           float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        int kv = S.loopBound(k);
        for (int i = 0; i < m; i++) {
            int ai = aOff + i * lda;
            int ci = cOff + i * ldc;
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                int b0 = bOff + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                int p = 0;
                for (; p < kv; p += L) {
                    FloatVector av = FloatVector.fromArray(S, a, ai + p);
                    s0 = av.fma(FloatVector.fromArray(S, b, b0 + p), s0);
                    s1 = av.fma(FloatVector.fromArray(S, b, b1 + p), s1);
                    s2 = av.fma(FloatVector.fromArray(S, b, b2 + p), s2);
                    s3 = av.fma(FloatVector.fromArray(S, b, b3 + p), s3);
                }
                float t0 = s0.reduceLanes(VectorOperators.ADD), t1 = s1.reduceLanes(VectorOperators.ADD);
                float t2 = s2.reduceLanes(VectorOperators.ADD), t3 = s3.reduceLanes(VectorOperators.ADD);
                for (; p < k; p++) {
                    float av = a[ai + p];
                    t0 += av * b[b0 + p]; t1 += av * b[b1 + p]; t2 += av * b[b2 + p]; t3 += av * b[b3 + p];
                }
                c[ci + j] = t0; c[ci + j + 1] = t1; c[ci + j + 2] = t2; c[ci + j + 3] = t3;
            }
            for (; j < n; j++) c[ci + j] = dot(a, ai, b, bOff + j * ldb, k);
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
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

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector av = FloatVector.broadcast(S, alpha);
        int p = 0;
        for (int bound = S.loopBound(n); p < bound; p += L) {
            av.fma(FloatVector.fromArray(S, x, xOff + p), FloatVector.fromArray(S, y, yOff + p)).intoArray(y, yOff + p);
        }
        for (; p < n; p++) y[yOff + p] += alpha * x[xOff + p];
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        // erf(z) = sign(z)·(1 − poly(t)·e^(−z²)), t = 1/(1 + p·|z|)  (Abramowitz & Stegun 7.1.26)
        FloatVector one = FloatVector.broadcast(S, 1f), half = FloatVector.broadcast(S, 0.5f);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            FloatVector z = v.mul(Erf.INV_SQRT2_F);
            FloatVector az = z.abs();
            FloatVector t = one.div(az.fma(FloatVector.broadcast(S, Erf.P_F), one));
            FloatVector poly = t.fma(FloatVector.broadcast(S, Erf.A5_F), FloatVector.broadcast(S, Erf.A4_F)).fma(t, FloatVector.broadcast(S, Erf.A3_F))
                    .fma(t, FloatVector.broadcast(S, Erf.A2_F)).fma(t, FloatVector.broadcast(S, Erf.A1_F)).mul(t);
            FloatVector e = az.mul(az).neg().lanewise(VectorOperators.EXP);
            FloatVector erfAbs = one.sub(poly.mul(e));
            FloatVector erf = erfAbs.blend(erfAbs.neg(), z.lt(0f));
            half.mul(v).mul(one.add(erf)).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            double v = x[off + i];
            x[off + i] = (float) (0.5 * v * (1 + Erf.erf(v * Erf.INV_SQRT2)));
        }
    }

    @Override
    public void addLayerNorm(float[] x, int off, float[] r, int rOff, int n, float[] gamma, float[] beta, float eps) {
        int bound = S.loopBound(n);
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i < bound; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            if (r != null) {
                v = v.add(FloatVector.fromArray(S, r, rOff + i));
                v.intoArray(x, off + i);
            }
            acc = acc.add(v);
        }
        double sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            if (r != null) x[off + i] += r[rOff + i];
            sum += x[off + i];
        }
        float mean = (float) (sum / n);
        FloatVector m = FloatVector.broadcast(S, mean), sq = FloatVector.zero(S);
        for (i = 0; i < bound; i += L) {
            FloatVector d = FloatVector.fromArray(S, x, off + i).sub(m);
            sq = d.fma(d, sq);
        }
        double var = sq.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            double d = x[off + i] - mean;
            var += d * d;
        }
        float inv = (float) (1.0 / Math.sqrt(var / n + eps));
        FloatVector iv = FloatVector.broadcast(S, inv);
        for (i = 0; i < bound; i += L) {
            FloatVector.fromArray(S, x, off + i).sub(m).mul(iv).fma(FloatVector.fromArray(S, gamma, i), FloatVector.fromArray(S, beta, i))
                    .intoArray(x, off + i);
        }
        for (; i < n; i++) x[off + i] = (x[off + i] - mean) * inv * gamma[i] + beta[i];
    }

    @Override
    public void scale(float[] x, int off, int n, float alpha) {
        int p = 0;
        for (int bound = S.loopBound(n); p < bound; p += L) {
            FloatVector.fromArray(S, x, off + p).mul(alpha).intoArray(x, off + p);
        }
        for (; p < n; p++) x[off + p] *= alpha;
    }

    @Override
    public void softcap(float[] x, int off, int n, float cap) {
        float inv = 1f / cap;
        int p = 0;
        for (int bound = S.loopBound(n); p < bound; p += L) {
            FloatVector.fromArray(S, x, off + p).mul(inv).lanewise(VectorOperators.TANH).mul(cap).intoArray(x, off + p);
        }
        for (; p < n; p++) x[off + p] = (float) (cap * Math.tanh(x[off + p] * inv));
    }

    /**
     * A compact tile ({@code ld == cols}) whose few columns divide the vector length (decoding: 1, 2,
     * 4 … queries) is one contiguous array in which lane l always holds column l % cols, so it is
     * processed flat, L elements at a time, instead of one scalar column at a time.
     */
    @Override
    public void softmaxBackwardColumns(float[] p, float[] dp, int off, int rows, int cols, int ld, float[] rowDot, int rdOff) {
        int bound = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int q = off + r * ld;
            int c = 0;
            for (; c < bound; c += L) {
                FloatVector g = FloatVector.fromArray(S, dp, q + c).sub(FloatVector.fromArray(S, rowDot, rdOff + c));
                g.mul(FloatVector.fromArray(S, p, q + c)).intoArray(dp, q + c);
            }
            for (; c < cols; c++) dp[q + c] = p[q + c] * (dp[q + c] - rowDot[rdOff + c]);
        }
    }

    private static boolean flat(int cols, int ld) {
        return ld == cols && cols < L && L % cols == 0;
    }

    @Override
    public void columnMax(float[] s, int off, int rows, int cols, int ld, float[] out) {
        if (flat(cols, ld)) {
            int n = rows * cols, p = 0;
            FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int bound = S.loopBound(n); p < bound; p += L) mx = mx.max(FloatVector.fromArray(S, s, off + p));
            float[] lanes = mx.toArray();
            for (int c = 0; c < cols; c++) out[c] = Float.NEGATIVE_INFINITY;
            for (int l = 0; l < L; l++) out[l % cols] = Math.max(out[l % cols], lanes[l]);
            for (; p < n; p++) out[p % cols] = Math.max(out[p % cols], s[off + p]);
            return;
        }
        int c = 0;
        for (int bound = S.loopBound(cols); c < bound; c += L) {
            FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int r = 0, p = off + c; r < rows; r++, p += ld) mx = mx.max(FloatVector.fromArray(S, s, p));
            mx.intoArray(out, c);
        }
        for (; c < cols; c++) {
            float mx = Float.NEGATIVE_INFINITY;
            for (int r = 0, p = off + c; r < rows; r++, p += ld) mx = Math.max(mx, s[p]);
            out[c] = mx;
        }
    }

    @Override
    public void maskBand(float[] s, int off, int rows, int cols, int ld, int j0, int[] lo, int[] hi) {
        int bound = S.loopBound(cols);
        for (int r = 0; r < rows; r++) {
            int j = j0 + r, p = off + r * ld;
            int c = 0;
            for (; c < bound; c += L) {
                // outside = j < lo[c] || j >= hi[c]
                VectorMask<Integer> outside = IntVector.fromArray(SI, lo, c).compare(VectorOperators.GT, j)
                        .or(IntVector.fromArray(SI, hi, c).compare(VectorOperators.LE, j));
                if (outside.anyTrue()) {
                    FloatVector.fromArray(S, s, p + c).blend(Float.NEGATIVE_INFINITY, outside.cast(S)).intoArray(s, p + c);
                }
            }
            for (; c < cols; c++) if (j < lo[c] || j >= hi[c]) s[p + c] = Float.NEGATIVE_INFINITY;
        }
    }

    @Override
    public void expColumns(float[] s, int off, int rows, int cols, int ld, float[] shift, float[] sums) {
        if (flat(cols, ld)) {
            float[] pattern = new float[L];
            for (int l = 0; l < L; l++) pattern[l] = shift[l % cols];
            int n = rows * cols, vectors = n / L;
            float[] lanes = expRun(s, off, vectors, L, FloatVector.fromArray(S, pattern, 0)).toArray();
            for (int c = 0; c < cols; c++) sums[c] = 0f;
            for (int l = 0; l < L; l++) sums[l % cols] += lanes[l];
            for (int p = vectors * L; p < n; p++) {
                float e = expScalar(s[off + p] - shift[p % cols]);
                s[off + p] = e;
                sums[p % cols] += e;
            }
            return;
        }
        int c = 0;
        for (int bound = S.loopBound(cols); c < bound; c += L) {
            expRun(s, off + c, rows, ld, FloatVector.fromArray(S, shift, c)).intoArray(sums, c);
        }
        for (; c < cols; c++) {
            float acc = 0f;
            for (int r = 0, p = off + c; r < rows; r++, p += ld) {
                float e = expScalar(s[p] - shift[c]);
                s[p] = e;
                acc += e;
            }
            sums[c] = acc;
        }
    }

    /**
     * Gathered-row GEMMs for the sparse kernel's few query columns (one or two vectors): tiles of
     * {@link #GATHER_TILE} rows × 1 vector keep that many independent accumulators in flight (the
     * 6 × 1 tile of {@link #gemm} is latency-bound), with 1 B vector and 1 broadcast: 14 registers
     * for 12 rows (AVX2's 16), 18 for 16 rows (AVX-512's 32).
     */
    private static final int GATHER_TILE = Integer.getInteger("attn4j.simd.gatherTile", L >= 16 ? 16 : 12);

    @Override
    public void gemmRowGather(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc) {
        int j = 0;
        for (; j <= n - L; j += L) {
            int i = 0;
            if (GATHER_TILE == 16) for (; i <= m - 16; i += 16) rowGather16(k, a, aRow, i, b, j, ldb, c, ldc);
            for (; i <= m - 12; i += 12) rowGather12(k, a, aRow, i, b, j, ldb, c, ldc);
            for (; i <= m - 4; i += 4) rowGather4(k, a, aRow, i, b, j, ldb, c, ldc);
            for (; i < m; i++) rowGather1(k, a, aRow, i, b, j, ldb, c, ldc);
        }
        if (j < n) {
            VectorMask<Float> mask = S.indexInRange(j, n);
            int i = 0;
            for (; i <= m - 4; i += 4) rowGather4m(k, a, aRow, i, b, j, ldb, c, ldc, mask);
            for (; i < m; i++) rowGather1m(k, a, aRow, i, b, j, ldb, c, ldc, mask);
        }
    }

    @Override
    public void gemmColumnGatherAcc(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc, float[] colScale) {
        int j = 0;
        for (; j <= n - L; j += L) {
            int i = 0;
            if (GATHER_TILE == 16) for (; i <= m - 16; i += 16) columnGather16(k, a, aRow, i, b, j, ldb, c, ldc, colScale);
            for (; i <= m - 12; i += 12) columnGather12(k, a, aRow, i, b, j, ldb, c, ldc, colScale);
            for (; i <= m - 4; i += 4) columnGather4(k, a, aRow, i, b, j, ldb, c, ldc, colScale);
            for (; i < m; i++) columnGather1(k, a, aRow, i, b, j, ldb, c, ldc, colScale);
        }
        if (j < n) {
            VectorMask<Float> mask = S.indexInRange(j, n);
            int i = 0;
            for (; i <= m - 4; i += 4) columnGather4m(k, a, aRow, i, b, j, ldb, c, ldc, colScale, mask);
            for (; i < m; i++) columnGather1m(k, a, aRow, i, b, j, ldb, c, ldc, colScale, mask);
        }
    }

    private static void rowGather16(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc) {
        int o0 = aRow[i + 0];
        int o1 = aRow[i + 1];
        int o2 = aRow[i + 2];
        int o3 = aRow[i + 3];
        int o4 = aRow[i + 4];
        int o5 = aRow[i + 5];
        int o6 = aRow[i + 6];
        int o7 = aRow[i + 7];
        int o8 = aRow[i + 8];
        int o9 = aRow[i + 9];
        int o10 = aRow[i + 10];
        int o11 = aRow[i + 11];
        int o12 = aRow[i + 12];
        int o13 = aRow[i + 13];
        int o14 = aRow[i + 14];
        int o15 = aRow[i + 15];
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S), c4 = FloatVector.zero(S), c5 = FloatVector.zero(S), c6 = FloatVector.zero(S), c7 = FloatVector.zero(S), c8 = FloatVector.zero(S), c9 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S), c12 = FloatVector.zero(S), c13 = FloatVector.zero(S), c14 = FloatVector.zero(S), c15 = FloatVector.zero(S);
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp);
            c0 = FloatVector.broadcast(S, a[o0 + p]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[o1 + p]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[o2 + p]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[o3 + p]).fma(bv, c3);
            c4 = FloatVector.broadcast(S, a[o4 + p]).fma(bv, c4);
            c5 = FloatVector.broadcast(S, a[o5 + p]).fma(bv, c5);
            c6 = FloatVector.broadcast(S, a[o6 + p]).fma(bv, c6);
            c7 = FloatVector.broadcast(S, a[o7 + p]).fma(bv, c7);
            c8 = FloatVector.broadcast(S, a[o8 + p]).fma(bv, c8);
            c9 = FloatVector.broadcast(S, a[o9 + p]).fma(bv, c9);
            c10 = FloatVector.broadcast(S, a[o10 + p]).fma(bv, c10);
            c11 = FloatVector.broadcast(S, a[o11 + p]).fma(bv, c11);
            c12 = FloatVector.broadcast(S, a[o12 + p]).fma(bv, c12);
            c13 = FloatVector.broadcast(S, a[o13 + p]).fma(bv, c13);
            c14 = FloatVector.broadcast(S, a[o14 + p]).fma(bv, c14);
            c15 = FloatVector.broadcast(S, a[o15 + p]).fma(bv, c15);
        }
        c0.intoArray(c, (i + 0) * ldc + j);
        c1.intoArray(c, (i + 1) * ldc + j);
        c2.intoArray(c, (i + 2) * ldc + j);
        c3.intoArray(c, (i + 3) * ldc + j);
        c4.intoArray(c, (i + 4) * ldc + j);
        c5.intoArray(c, (i + 5) * ldc + j);
        c6.intoArray(c, (i + 6) * ldc + j);
        c7.intoArray(c, (i + 7) * ldc + j);
        c8.intoArray(c, (i + 8) * ldc + j);
        c9.intoArray(c, (i + 9) * ldc + j);
        c10.intoArray(c, (i + 10) * ldc + j);
        c11.intoArray(c, (i + 11) * ldc + j);
        c12.intoArray(c, (i + 12) * ldc + j);
        c13.intoArray(c, (i + 13) * ldc + j);
        c14.intoArray(c, (i + 14) * ldc + j);
        c15.intoArray(c, (i + 15) * ldc + j);
    }

    private static void rowGather12(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc) {
        int o0 = aRow[i + 0];
        int o1 = aRow[i + 1];
        int o2 = aRow[i + 2];
        int o3 = aRow[i + 3];
        int o4 = aRow[i + 4];
        int o5 = aRow[i + 5];
        int o6 = aRow[i + 6];
        int o7 = aRow[i + 7];
        int o8 = aRow[i + 8];
        int o9 = aRow[i + 9];
        int o10 = aRow[i + 10];
        int o11 = aRow[i + 11];
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S), c4 = FloatVector.zero(S), c5 = FloatVector.zero(S), c6 = FloatVector.zero(S), c7 = FloatVector.zero(S), c8 = FloatVector.zero(S), c9 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp);
            c0 = FloatVector.broadcast(S, a[o0 + p]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[o1 + p]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[o2 + p]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[o3 + p]).fma(bv, c3);
            c4 = FloatVector.broadcast(S, a[o4 + p]).fma(bv, c4);
            c5 = FloatVector.broadcast(S, a[o5 + p]).fma(bv, c5);
            c6 = FloatVector.broadcast(S, a[o6 + p]).fma(bv, c6);
            c7 = FloatVector.broadcast(S, a[o7 + p]).fma(bv, c7);
            c8 = FloatVector.broadcast(S, a[o8 + p]).fma(bv, c8);
            c9 = FloatVector.broadcast(S, a[o9 + p]).fma(bv, c9);
            c10 = FloatVector.broadcast(S, a[o10 + p]).fma(bv, c10);
            c11 = FloatVector.broadcast(S, a[o11 + p]).fma(bv, c11);
        }
        c0.intoArray(c, (i + 0) * ldc + j);
        c1.intoArray(c, (i + 1) * ldc + j);
        c2.intoArray(c, (i + 2) * ldc + j);
        c3.intoArray(c, (i + 3) * ldc + j);
        c4.intoArray(c, (i + 4) * ldc + j);
        c5.intoArray(c, (i + 5) * ldc + j);
        c6.intoArray(c, (i + 6) * ldc + j);
        c7.intoArray(c, (i + 7) * ldc + j);
        c8.intoArray(c, (i + 8) * ldc + j);
        c9.intoArray(c, (i + 9) * ldc + j);
        c10.intoArray(c, (i + 10) * ldc + j);
        c11.intoArray(c, (i + 11) * ldc + j);
    }

    private static void rowGather4(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc) {
        int o0 = aRow[i + 0];
        int o1 = aRow[i + 1];
        int o2 = aRow[i + 2];
        int o3 = aRow[i + 3];
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp);
            c0 = FloatVector.broadcast(S, a[o0 + p]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[o1 + p]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[o2 + p]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[o3 + p]).fma(bv, c3);
        }
        c0.intoArray(c, (i + 0) * ldc + j);
        c1.intoArray(c, (i + 1) * ldc + j);
        c2.intoArray(c, (i + 2) * ldc + j);
        c3.intoArray(c, (i + 3) * ldc + j);
    }

    private static void rowGather1(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc) {
        int o0 = aRow[i + 0];
        FloatVector c0 = FloatVector.zero(S);
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp);
            c0 = FloatVector.broadcast(S, a[o0 + p]).fma(bv, c0);
        }
        c0.intoArray(c, (i + 0) * ldc + j);
    }

    private static void rowGather4m(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc, VectorMask<Float> mask) {
        int o0 = aRow[i + 0];
        int o1 = aRow[i + 1];
        int o2 = aRow[i + 2];
        int o3 = aRow[i + 3];
        FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), c2 = FloatVector.zero(S), c3 = FloatVector.zero(S);
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp, mask);
            c0 = FloatVector.broadcast(S, a[o0 + p]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[o1 + p]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[o2 + p]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[o3 + p]).fma(bv, c3);
        }
        c0.intoArray(c, (i + 0) * ldc + j, mask);
        c1.intoArray(c, (i + 1) * ldc + j, mask);
        c2.intoArray(c, (i + 2) * ldc + j, mask);
        c3.intoArray(c, (i + 3) * ldc + j, mask);
    }

    private static void rowGather1m(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc, VectorMask<Float> mask) {
        int o0 = aRow[i + 0];
        FloatVector c0 = FloatVector.zero(S);
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp, mask);
            c0 = FloatVector.broadcast(S, a[o0 + p]).fma(bv, c0);
        }
        c0.intoArray(c, (i + 0) * ldc + j, mask);
    }

    private static void columnGather16(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc, float[] colScale) {
        FloatVector c0 = FloatVector.fromArray(S, c, (i + 0) * ldc + j), c1 = FloatVector.fromArray(S, c, (i + 1) * ldc + j), c2 = FloatVector.fromArray(S, c, (i + 2) * ldc + j), c3 = FloatVector.fromArray(S, c, (i + 3) * ldc + j), c4 = FloatVector.fromArray(S, c, (i + 4) * ldc + j), c5 = FloatVector.fromArray(S, c, (i + 5) * ldc + j), c6 = FloatVector.fromArray(S, c, (i + 6) * ldc + j), c7 = FloatVector.fromArray(S, c, (i + 7) * ldc + j), c8 = FloatVector.fromArray(S, c, (i + 8) * ldc + j), c9 = FloatVector.fromArray(S, c, (i + 9) * ldc + j), c10 = FloatVector.fromArray(S, c, (i + 10) * ldc + j), c11 = FloatVector.fromArray(S, c, (i + 11) * ldc + j), c12 = FloatVector.fromArray(S, c, (i + 12) * ldc + j), c13 = FloatVector.fromArray(S, c, (i + 13) * ldc + j), c14 = FloatVector.fromArray(S, c, (i + 14) * ldc + j), c15 = FloatVector.fromArray(S, c, (i + 15) * ldc + j);
        if (colScale != null) {
            FloatVector sc = FloatVector.fromArray(S, colScale, j);
            c0 = c0.mul(sc);
            c1 = c1.mul(sc);
            c2 = c2.mul(sc);
            c3 = c3.mul(sc);
            c4 = c4.mul(sc);
            c5 = c5.mul(sc);
            c6 = c6.mul(sc);
            c7 = c7.mul(sc);
            c8 = c8.mul(sc);
            c9 = c9.mul(sc);
            c10 = c10.mul(sc);
            c11 = c11.mul(sc);
            c12 = c12.mul(sc);
            c13 = c13.mul(sc);
            c14 = c14.mul(sc);
            c15 = c15.mul(sc);
        }
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp);
            int o = aRow[p] + i;
            c0 = FloatVector.broadcast(S, a[o + 0]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[o + 1]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[o + 2]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[o + 3]).fma(bv, c3);
            c4 = FloatVector.broadcast(S, a[o + 4]).fma(bv, c4);
            c5 = FloatVector.broadcast(S, a[o + 5]).fma(bv, c5);
            c6 = FloatVector.broadcast(S, a[o + 6]).fma(bv, c6);
            c7 = FloatVector.broadcast(S, a[o + 7]).fma(bv, c7);
            c8 = FloatVector.broadcast(S, a[o + 8]).fma(bv, c8);
            c9 = FloatVector.broadcast(S, a[o + 9]).fma(bv, c9);
            c10 = FloatVector.broadcast(S, a[o + 10]).fma(bv, c10);
            c11 = FloatVector.broadcast(S, a[o + 11]).fma(bv, c11);
            c12 = FloatVector.broadcast(S, a[o + 12]).fma(bv, c12);
            c13 = FloatVector.broadcast(S, a[o + 13]).fma(bv, c13);
            c14 = FloatVector.broadcast(S, a[o + 14]).fma(bv, c14);
            c15 = FloatVector.broadcast(S, a[o + 15]).fma(bv, c15);
        }
        c0.intoArray(c, (i + 0) * ldc + j);
        c1.intoArray(c, (i + 1) * ldc + j);
        c2.intoArray(c, (i + 2) * ldc + j);
        c3.intoArray(c, (i + 3) * ldc + j);
        c4.intoArray(c, (i + 4) * ldc + j);
        c5.intoArray(c, (i + 5) * ldc + j);
        c6.intoArray(c, (i + 6) * ldc + j);
        c7.intoArray(c, (i + 7) * ldc + j);
        c8.intoArray(c, (i + 8) * ldc + j);
        c9.intoArray(c, (i + 9) * ldc + j);
        c10.intoArray(c, (i + 10) * ldc + j);
        c11.intoArray(c, (i + 11) * ldc + j);
        c12.intoArray(c, (i + 12) * ldc + j);
        c13.intoArray(c, (i + 13) * ldc + j);
        c14.intoArray(c, (i + 14) * ldc + j);
        c15.intoArray(c, (i + 15) * ldc + j);
    }

    private static void columnGather12(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc, float[] colScale) {
        FloatVector c0 = FloatVector.fromArray(S, c, (i + 0) * ldc + j), c1 = FloatVector.fromArray(S, c, (i + 1) * ldc + j), c2 = FloatVector.fromArray(S, c, (i + 2) * ldc + j), c3 = FloatVector.fromArray(S, c, (i + 3) * ldc + j), c4 = FloatVector.fromArray(S, c, (i + 4) * ldc + j), c5 = FloatVector.fromArray(S, c, (i + 5) * ldc + j), c6 = FloatVector.fromArray(S, c, (i + 6) * ldc + j), c7 = FloatVector.fromArray(S, c, (i + 7) * ldc + j), c8 = FloatVector.fromArray(S, c, (i + 8) * ldc + j), c9 = FloatVector.fromArray(S, c, (i + 9) * ldc + j), c10 = FloatVector.fromArray(S, c, (i + 10) * ldc + j), c11 = FloatVector.fromArray(S, c, (i + 11) * ldc + j);
        if (colScale != null) {
            FloatVector sc = FloatVector.fromArray(S, colScale, j);
            c0 = c0.mul(sc);
            c1 = c1.mul(sc);
            c2 = c2.mul(sc);
            c3 = c3.mul(sc);
            c4 = c4.mul(sc);
            c5 = c5.mul(sc);
            c6 = c6.mul(sc);
            c7 = c7.mul(sc);
            c8 = c8.mul(sc);
            c9 = c9.mul(sc);
            c10 = c10.mul(sc);
            c11 = c11.mul(sc);
        }
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp);
            int o = aRow[p] + i;
            c0 = FloatVector.broadcast(S, a[o + 0]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[o + 1]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[o + 2]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[o + 3]).fma(bv, c3);
            c4 = FloatVector.broadcast(S, a[o + 4]).fma(bv, c4);
            c5 = FloatVector.broadcast(S, a[o + 5]).fma(bv, c5);
            c6 = FloatVector.broadcast(S, a[o + 6]).fma(bv, c6);
            c7 = FloatVector.broadcast(S, a[o + 7]).fma(bv, c7);
            c8 = FloatVector.broadcast(S, a[o + 8]).fma(bv, c8);
            c9 = FloatVector.broadcast(S, a[o + 9]).fma(bv, c9);
            c10 = FloatVector.broadcast(S, a[o + 10]).fma(bv, c10);
            c11 = FloatVector.broadcast(S, a[o + 11]).fma(bv, c11);
        }
        c0.intoArray(c, (i + 0) * ldc + j);
        c1.intoArray(c, (i + 1) * ldc + j);
        c2.intoArray(c, (i + 2) * ldc + j);
        c3.intoArray(c, (i + 3) * ldc + j);
        c4.intoArray(c, (i + 4) * ldc + j);
        c5.intoArray(c, (i + 5) * ldc + j);
        c6.intoArray(c, (i + 6) * ldc + j);
        c7.intoArray(c, (i + 7) * ldc + j);
        c8.intoArray(c, (i + 8) * ldc + j);
        c9.intoArray(c, (i + 9) * ldc + j);
        c10.intoArray(c, (i + 10) * ldc + j);
        c11.intoArray(c, (i + 11) * ldc + j);
    }

    private static void columnGather4(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc, float[] colScale) {
        FloatVector c0 = FloatVector.fromArray(S, c, (i + 0) * ldc + j), c1 = FloatVector.fromArray(S, c, (i + 1) * ldc + j), c2 = FloatVector.fromArray(S, c, (i + 2) * ldc + j), c3 = FloatVector.fromArray(S, c, (i + 3) * ldc + j);
        if (colScale != null) {
            FloatVector sc = FloatVector.fromArray(S, colScale, j);
            c0 = c0.mul(sc);
            c1 = c1.mul(sc);
            c2 = c2.mul(sc);
            c3 = c3.mul(sc);
        }
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp);
            int o = aRow[p] + i;
            c0 = FloatVector.broadcast(S, a[o + 0]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[o + 1]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[o + 2]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[o + 3]).fma(bv, c3);
        }
        c0.intoArray(c, (i + 0) * ldc + j);
        c1.intoArray(c, (i + 1) * ldc + j);
        c2.intoArray(c, (i + 2) * ldc + j);
        c3.intoArray(c, (i + 3) * ldc + j);
    }

    private static void columnGather1(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc, float[] colScale) {
        FloatVector c0 = FloatVector.fromArray(S, c, (i + 0) * ldc + j);
        if (colScale != null) {
            FloatVector sc = FloatVector.fromArray(S, colScale, j);
            c0 = c0.mul(sc);
        }
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp);
            int o = aRow[p] + i;
            c0 = FloatVector.broadcast(S, a[o + 0]).fma(bv, c0);
        }
        c0.intoArray(c, (i + 0) * ldc + j);
    }

    private static void columnGather4m(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc, float[] colScale, VectorMask<Float> mask) {
        FloatVector c0 = FloatVector.fromArray(S, c, (i + 0) * ldc + j, mask), c1 = FloatVector.fromArray(S, c, (i + 1) * ldc + j, mask), c2 = FloatVector.fromArray(S, c, (i + 2) * ldc + j, mask), c3 = FloatVector.fromArray(S, c, (i + 3) * ldc + j, mask);
        if (colScale != null) {
            FloatVector sc = FloatVector.fromArray(S, colScale, j, mask);
            c0 = c0.mul(sc);
            c1 = c1.mul(sc);
            c2 = c2.mul(sc);
            c3 = c3.mul(sc);
        }
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp, mask);
            int o = aRow[p] + i;
            c0 = FloatVector.broadcast(S, a[o + 0]).fma(bv, c0);
            c1 = FloatVector.broadcast(S, a[o + 1]).fma(bv, c1);
            c2 = FloatVector.broadcast(S, a[o + 2]).fma(bv, c2);
            c3 = FloatVector.broadcast(S, a[o + 3]).fma(bv, c3);
        }
        c0.intoArray(c, (i + 0) * ldc + j, mask);
        c1.intoArray(c, (i + 1) * ldc + j, mask);
        c2.intoArray(c, (i + 2) * ldc + j, mask);
        c3.intoArray(c, (i + 3) * ldc + j, mask);
    }

    private static void columnGather1m(int k, float[] a, int[] aRow, int i, float[] b, int j, int ldb, float[] c, int ldc, float[] colScale, VectorMask<Float> mask) {
        FloatVector c0 = FloatVector.fromArray(S, c, (i + 0) * ldc + j, mask);
        if (colScale != null) {
            FloatVector sc = FloatVector.fromArray(S, colScale, j, mask);
            c0 = c0.mul(sc);
        }
        for (int p = 0, bp = j; p < k; p++, bp += ldb) {
            FloatVector bv = FloatVector.fromArray(S, b, bp, mask);
            int o = aRow[p] + i;
            c0 = FloatVector.broadcast(S, a[o + 0]).fma(bv, c0);
        }
        c0.intoArray(c, (i + 0) * ldc + j, mask);
    }

    @Override
    public void packTransposed(int rows, int cols, float[] src, int[] srcRow, float alpha, float[] dst, int dstOff, int ld) {
        int c = 0;
        for (; c <= cols - L; c += L) {
            for (int x = 0; x < rows; x++) FloatVector.fromArray(S, src, x, srcRow, c).mul(alpha).intoArray(dst, dstOff + x * ld + c);
        }
        for (; c < cols; c++) {
            int o = srcRow[c];
            for (int x = 0; x < rows; x++) dst[dstOff + x * ld + c] = alpha * src[o + x];
        }
    }

    @Override
    public void unpackTransposed(int rows, int cols, float[] src, int srcOff, int ld, float[] colScale, float[] dst, int[] dstRow) {
        // Per column, gathers of L rows at stride ld and contiguous stores (gathers are much cheaper
        // than scatters).
        int[] map = strideMap(ld);
        int x0 = 0;
        if (map != null) {
            for (; x0 <= rows - L; x0 += L) {
                for (int c = 0; c < cols; c++) {
                    FloatVector.fromArray(S, src, srcOff + x0 * ld + c, map, 0).mul(colScale[c]).intoArray(dst, dstRow[c] + x0);
                }
            }
        }
        for (int c = 0; c < cols; c++) {
            int o = dstRow[c];
            float sc = colScale[c];
            for (int x = x0; x < rows; x++) dst[o + x] = src[srcOff + x * ld + c] * sc;
        }
    }

    /**
     * {@code STRIDE_MAPS[ld] = {0, ld, 2·ld, …}} (L entries) for every ld ≤ 256 (257 × L ints). Built
     * by class initialisation, which publishes the contents safely to every thread (JLS 12.4.2); a map
     * filled lazily into this shared array could be seen by another thread before its contents (zeros),
     * a silent wrong gather.
     */
    static final int[][] STRIDE_MAPS = new int[257][L];

    static {
        for (int ld = 0; ld < STRIDE_MAPS.length; ld++) {
            for (int l = 0; l < L; l++) STRIDE_MAPS[ld][l] = l * ld;
        }
    }

    /** {@code {0, ld, 2·ld, …}} (L entries) for ld ≤ 256, else null. */
    private static int[] strideMap(int ld) {
        return ld < STRIDE_MAPS.length ? STRIDE_MAPS[ld] : null;
    }

    /**
     * Shifted products: per vector of query columns, tiles of 7 (5 at grid-row edges, then 4, 2, 1) shifts × 1 or 2 query
     * rows (14 accumulators, 2 query and 1 key vector: 17 registers; the two rows share every key load),
     * and tiles of {@link #SHIFT_VALUE_TILE} value rows sharing each probability vector.
     */
    @Override
    public void shiftedScores(int d, int n, int shifts, float[] q, int q0, int q1, float[] k, int k0, int ld,
                              float[] s, int s0, int s1, int sLd) {
        boolean two = q1 >= 0;
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = i + L <= n ? null : S.indexInRange(i, n);
            int j = 0;
            while (j < shifts) {
                // 7 shifts at a time, but 5 + 5 (not 7 + 2 + 1: short tiles are latency-bound) for the
                // 10 shifts of a grid row's edge units with a window of 7, and 5 + 3 → 5 + 2 + 1 for 8.
                int rem = shifts - j;
                int t = rem >= 7 && rem != 10 && rem != 8 ? 7 : rem >= 5 && m == null ? 5 : rem >= 4 ? 4 : rem >= 2 ? 2 : 1;
                int qa = q0 + i, qb = two ? q1 + i : 0, kk = k0 + j + i, sa = s0 + j * sLd + i, sb = two ? s1 + j * sLd + i : 0;
                if (m == null) {
                    if (two) {
                        switch (t) {
                            case 7 -> shiftScore7x2(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                            case 5 -> shiftScore5x2(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                            case 4 -> shiftScore4x2(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                            case 2 -> shiftScore2x2(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                            default -> shiftScore1x2(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                        }
                    } else {
                        switch (t) {
                            case 7 -> shiftScore7x1(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                            case 5 -> shiftScore5x1(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                            case 4 -> shiftScore4x1(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                            case 2 -> shiftScore2x1(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                            default -> shiftScore1x1(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd);
                        }
                    }
                } else {
                    if (two) {
                        switch (t) {
                            case 7 -> shiftScore7x2m(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd, m);
                            case 4 -> shiftScore4x2m(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd, m);
                            case 2 -> shiftScore2x2m(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd, m);
                            default -> shiftScore1x2m(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd, m);
                        }
                    } else {
                        switch (t) {
                            case 7 -> shiftScore7x1m(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd, m);
                            case 4 -> shiftScore4x1m(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd, m);
                            case 2 -> shiftScore2x1m(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd, m);
                            default -> shiftScore1x1m(d, q, qa, qb, k, kk, ld, s, sa, sb, sLd, m);
                        }
                    }
                }
                j += t;
            }
        }
    }

    /** Value rows per tile: 16 (one query row) or 8 × 2 query rows on AVX-512, half that on AVX2. */
    private static final int SHIFT_VALUE_TILE = L >= 16 ? 16 : 8;

    @Override
    public void shiftedValues(int dv, int n, int shifts, float[] p, int p0, int p1, int pLd, float[] v, int v0, int ld,
                              float[] o, int o0, int o1, int oLd) {
        boolean two = p1 >= 0;
        int tile = two ? SHIFT_VALUE_TILE / 2 : SHIFT_VALUE_TILE;
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = i + L <= n ? null : S.indexInRange(i, n);
            int pa = p0 + i, pb = two ? p1 + i : 0;
            int x = 0;
            for (; x <= dv - 4; ) {
                int t = dv - x >= tile ? tile : 4;
                int vv = v0 + x * ld + i, oa = o0 + x * oLd + i, ob = two ? o1 + x * oLd + i : 0;
                if (m == null) {
                    if (two) {
                        if (t == 8) shiftValue8x2(shifts, p, pa, pb, pLd, v, vv, ld, o, oa, ob, oLd);
                        else shiftValue4x2(shifts, p, pa, pb, pLd, v, vv, ld, o, oa, ob, oLd);
                    } else {
                        if (t == 16) shiftValue16x1(shifts, p, pa, pb, pLd, v, vv, ld, o, oa, ob, oLd);
                        else if (t == 8) shiftValue8x1(shifts, p, pa, pb, pLd, v, vv, ld, o, oa, ob, oLd);
                        else shiftValue4x1(shifts, p, pa, pb, pLd, v, vv, ld, o, oa, ob, oLd);
                    }
                } else {
                    if (two) shiftValue4x2m(shifts, p, pa, pb, pLd, v, vv, ld, o, oa, ob, oLd, m);
                    else shiftValue4x1m(shifts, p, pa, pb, pLd, v, vv, ld, o, oa, ob, oLd, m);
                    t = 4;
                }
                x += t;
            }
            for (; x < dv; x++) {
                int vv = v0 + x * ld + i;
                if (m == null) {
                    shiftValue1x1(shifts, p, pa, pb, pLd, v, vv, ld, o, o0 + x * oLd + i, 0, oLd);
                    if (two) shiftValue1x1(shifts, p, pb, pa, pLd, v, vv, ld, o, o1 + x * oLd + i, 0, oLd);
                } else {
                    shiftValue1x1m(shifts, p, pa, pb, pLd, v, vv, ld, o, o0 + x * oLd + i, 0, oLd, m);
                    if (two) shiftValue1x1m(shifts, p, pb, pa, pLd, v, vv, ld, o, o1 + x * oLd + i, 0, oLd, m);
                }
            }
        }
    }

    private static void shiftScore7x2(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S), a4 = FloatVector.zero(S), a5 = FloatVector.zero(S), a6 = FloatVector.zero(S), b0 = FloatVector.zero(S), b1 = FloatVector.zero(S), b2 = FloatVector.zero(S), b3 = FloatVector.zero(S), b4 = FloatVector.zero(S), b5 = FloatVector.zero(S), b6 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            FloatVector qw = FloatVector.fromArray(S, q, qb + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
            b0 = qw.fma(k0, b0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1);
            a1 = qv.fma(k1, a1);
            b1 = qw.fma(k1, b1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2);
            a2 = qv.fma(k2, a2);
            b2 = qw.fma(k2, b2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3);
            a3 = qv.fma(k3, a3);
            b3 = qw.fma(k3, b3);
            FloatVector k4 = FloatVector.fromArray(S, k, kp + 4);
            a4 = qv.fma(k4, a4);
            b4 = qw.fma(k4, b4);
            FloatVector k5 = FloatVector.fromArray(S, k, kp + 5);
            a5 = qv.fma(k5, a5);
            b5 = qw.fma(k5, b5);
            FloatVector k6 = FloatVector.fromArray(S, k, kp + 6);
            a6 = qv.fma(k6, a6);
            b6 = qw.fma(k6, b6);
        }
        a0.intoArray(s, sa + 0 * sLd);
        a1.intoArray(s, sa + 1 * sLd);
        a2.intoArray(s, sa + 2 * sLd);
        a3.intoArray(s, sa + 3 * sLd);
        a4.intoArray(s, sa + 4 * sLd);
        a5.intoArray(s, sa + 5 * sLd);
        a6.intoArray(s, sa + 6 * sLd);
        b0.intoArray(s, sb + 0 * sLd);
        b1.intoArray(s, sb + 1 * sLd);
        b2.intoArray(s, sb + 2 * sLd);
        b3.intoArray(s, sb + 3 * sLd);
        b4.intoArray(s, sb + 4 * sLd);
        b5.intoArray(s, sb + 5 * sLd);
        b6.intoArray(s, sb + 6 * sLd);
    }

    private static void shiftScore7x1(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S), a4 = FloatVector.zero(S), a5 = FloatVector.zero(S), a6 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1);
            a1 = qv.fma(k1, a1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2);
            a2 = qv.fma(k2, a2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3);
            a3 = qv.fma(k3, a3);
            FloatVector k4 = FloatVector.fromArray(S, k, kp + 4);
            a4 = qv.fma(k4, a4);
            FloatVector k5 = FloatVector.fromArray(S, k, kp + 5);
            a5 = qv.fma(k5, a5);
            FloatVector k6 = FloatVector.fromArray(S, k, kp + 6);
            a6 = qv.fma(k6, a6);
        }
        a0.intoArray(s, sa + 0 * sLd);
        a1.intoArray(s, sa + 1 * sLd);
        a2.intoArray(s, sa + 2 * sLd);
        a3.intoArray(s, sa + 3 * sLd);
        a4.intoArray(s, sa + 4 * sLd);
        a5.intoArray(s, sa + 5 * sLd);
        a6.intoArray(s, sa + 6 * sLd);
    }

    private static void shiftScore5x2(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S), a4 = FloatVector.zero(S), b0 = FloatVector.zero(S), b1 = FloatVector.zero(S), b2 = FloatVector.zero(S), b3 = FloatVector.zero(S), b4 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            FloatVector qw = FloatVector.fromArray(S, q, qb + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
            b0 = qw.fma(k0, b0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1);
            a1 = qv.fma(k1, a1);
            b1 = qw.fma(k1, b1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2);
            a2 = qv.fma(k2, a2);
            b2 = qw.fma(k2, b2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3);
            a3 = qv.fma(k3, a3);
            b3 = qw.fma(k3, b3);
            FloatVector k4 = FloatVector.fromArray(S, k, kp + 4);
            a4 = qv.fma(k4, a4);
            b4 = qw.fma(k4, b4);
        }
        a0.intoArray(s, sa + 0 * sLd);
        a1.intoArray(s, sa + 1 * sLd);
        a2.intoArray(s, sa + 2 * sLd);
        a3.intoArray(s, sa + 3 * sLd);
        a4.intoArray(s, sa + 4 * sLd);
        b0.intoArray(s, sb + 0 * sLd);
        b1.intoArray(s, sb + 1 * sLd);
        b2.intoArray(s, sb + 2 * sLd);
        b3.intoArray(s, sb + 3 * sLd);
        b4.intoArray(s, sb + 4 * sLd);
    }

    private static void shiftScore5x1(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S), a4 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1);
            a1 = qv.fma(k1, a1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2);
            a2 = qv.fma(k2, a2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3);
            a3 = qv.fma(k3, a3);
            FloatVector k4 = FloatVector.fromArray(S, k, kp + 4);
            a4 = qv.fma(k4, a4);
        }
        a0.intoArray(s, sa + 0 * sLd);
        a1.intoArray(s, sa + 1 * sLd);
        a2.intoArray(s, sa + 2 * sLd);
        a3.intoArray(s, sa + 3 * sLd);
        a4.intoArray(s, sa + 4 * sLd);
    }

    private static void shiftScore4x2(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S), b0 = FloatVector.zero(S), b1 = FloatVector.zero(S), b2 = FloatVector.zero(S), b3 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            FloatVector qw = FloatVector.fromArray(S, q, qb + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
            b0 = qw.fma(k0, b0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1);
            a1 = qv.fma(k1, a1);
            b1 = qw.fma(k1, b1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2);
            a2 = qv.fma(k2, a2);
            b2 = qw.fma(k2, b2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3);
            a3 = qv.fma(k3, a3);
            b3 = qw.fma(k3, b3);
        }
        a0.intoArray(s, sa + 0 * sLd);
        a1.intoArray(s, sa + 1 * sLd);
        a2.intoArray(s, sa + 2 * sLd);
        a3.intoArray(s, sa + 3 * sLd);
        b0.intoArray(s, sb + 0 * sLd);
        b1.intoArray(s, sb + 1 * sLd);
        b2.intoArray(s, sb + 2 * sLd);
        b3.intoArray(s, sb + 3 * sLd);
    }

    private static void shiftScore4x1(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1);
            a1 = qv.fma(k1, a1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2);
            a2 = qv.fma(k2, a2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3);
            a3 = qv.fma(k3, a3);
        }
        a0.intoArray(s, sa + 0 * sLd);
        a1.intoArray(s, sa + 1 * sLd);
        a2.intoArray(s, sa + 2 * sLd);
        a3.intoArray(s, sa + 3 * sLd);
    }

    private static void shiftScore2x2(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), b0 = FloatVector.zero(S), b1 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            FloatVector qw = FloatVector.fromArray(S, q, qb + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
            b0 = qw.fma(k0, b0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1);
            a1 = qv.fma(k1, a1);
            b1 = qw.fma(k1, b1);
        }
        a0.intoArray(s, sa + 0 * sLd);
        a1.intoArray(s, sa + 1 * sLd);
        b0.intoArray(s, sb + 0 * sLd);
        b1.intoArray(s, sb + 1 * sLd);
    }

    private static void shiftScore2x1(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1);
            a1 = qv.fma(k1, a1);
        }
        a0.intoArray(s, sa + 0 * sLd);
        a1.intoArray(s, sa + 1 * sLd);
    }

    private static void shiftScore1x2(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S), b0 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            FloatVector qw = FloatVector.fromArray(S, q, qb + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
            b0 = qw.fma(k0, b0);
        }
        a0.intoArray(s, sa + 0 * sLd);
        b0.intoArray(s, sb + 0 * sLd);
    }

    private static void shiftScore1x1(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd) {
        FloatVector a0 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0);
            a0 = qv.fma(k0, a0);
        }
        a0.intoArray(s, sa + 0 * sLd);
    }

    private static void shiftScore7x2m(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd, VectorMask<Float> m) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S), a4 = FloatVector.zero(S), a5 = FloatVector.zero(S), a6 = FloatVector.zero(S), b0 = FloatVector.zero(S), b1 = FloatVector.zero(S), b2 = FloatVector.zero(S), b3 = FloatVector.zero(S), b4 = FloatVector.zero(S), b5 = FloatVector.zero(S), b6 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo, m);
            FloatVector qw = FloatVector.fromArray(S, q, qb + xo, m);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0, m);
            a0 = qv.fma(k0, a0);
            b0 = qw.fma(k0, b0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1, m);
            a1 = qv.fma(k1, a1);
            b1 = qw.fma(k1, b1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2, m);
            a2 = qv.fma(k2, a2);
            b2 = qw.fma(k2, b2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3, m);
            a3 = qv.fma(k3, a3);
            b3 = qw.fma(k3, b3);
            FloatVector k4 = FloatVector.fromArray(S, k, kp + 4, m);
            a4 = qv.fma(k4, a4);
            b4 = qw.fma(k4, b4);
            FloatVector k5 = FloatVector.fromArray(S, k, kp + 5, m);
            a5 = qv.fma(k5, a5);
            b5 = qw.fma(k5, b5);
            FloatVector k6 = FloatVector.fromArray(S, k, kp + 6, m);
            a6 = qv.fma(k6, a6);
            b6 = qw.fma(k6, b6);
        }
        a0.intoArray(s, sa + 0 * sLd, m);
        a1.intoArray(s, sa + 1 * sLd, m);
        a2.intoArray(s, sa + 2 * sLd, m);
        a3.intoArray(s, sa + 3 * sLd, m);
        a4.intoArray(s, sa + 4 * sLd, m);
        a5.intoArray(s, sa + 5 * sLd, m);
        a6.intoArray(s, sa + 6 * sLd, m);
        b0.intoArray(s, sb + 0 * sLd, m);
        b1.intoArray(s, sb + 1 * sLd, m);
        b2.intoArray(s, sb + 2 * sLd, m);
        b3.intoArray(s, sb + 3 * sLd, m);
        b4.intoArray(s, sb + 4 * sLd, m);
        b5.intoArray(s, sb + 5 * sLd, m);
        b6.intoArray(s, sb + 6 * sLd, m);
    }

    private static void shiftScore7x1m(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd, VectorMask<Float> m) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S), a4 = FloatVector.zero(S), a5 = FloatVector.zero(S), a6 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo, m);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0, m);
            a0 = qv.fma(k0, a0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1, m);
            a1 = qv.fma(k1, a1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2, m);
            a2 = qv.fma(k2, a2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3, m);
            a3 = qv.fma(k3, a3);
            FloatVector k4 = FloatVector.fromArray(S, k, kp + 4, m);
            a4 = qv.fma(k4, a4);
            FloatVector k5 = FloatVector.fromArray(S, k, kp + 5, m);
            a5 = qv.fma(k5, a5);
            FloatVector k6 = FloatVector.fromArray(S, k, kp + 6, m);
            a6 = qv.fma(k6, a6);
        }
        a0.intoArray(s, sa + 0 * sLd, m);
        a1.intoArray(s, sa + 1 * sLd, m);
        a2.intoArray(s, sa + 2 * sLd, m);
        a3.intoArray(s, sa + 3 * sLd, m);
        a4.intoArray(s, sa + 4 * sLd, m);
        a5.intoArray(s, sa + 5 * sLd, m);
        a6.intoArray(s, sa + 6 * sLd, m);
    }

    private static void shiftScore4x2m(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd, VectorMask<Float> m) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S), b0 = FloatVector.zero(S), b1 = FloatVector.zero(S), b2 = FloatVector.zero(S), b3 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo, m);
            FloatVector qw = FloatVector.fromArray(S, q, qb + xo, m);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0, m);
            a0 = qv.fma(k0, a0);
            b0 = qw.fma(k0, b0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1, m);
            a1 = qv.fma(k1, a1);
            b1 = qw.fma(k1, b1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2, m);
            a2 = qv.fma(k2, a2);
            b2 = qw.fma(k2, b2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3, m);
            a3 = qv.fma(k3, a3);
            b3 = qw.fma(k3, b3);
        }
        a0.intoArray(s, sa + 0 * sLd, m);
        a1.intoArray(s, sa + 1 * sLd, m);
        a2.intoArray(s, sa + 2 * sLd, m);
        a3.intoArray(s, sa + 3 * sLd, m);
        b0.intoArray(s, sb + 0 * sLd, m);
        b1.intoArray(s, sb + 1 * sLd, m);
        b2.intoArray(s, sb + 2 * sLd, m);
        b3.intoArray(s, sb + 3 * sLd, m);
    }

    private static void shiftScore4x1m(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd, VectorMask<Float> m) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo, m);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0, m);
            a0 = qv.fma(k0, a0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1, m);
            a1 = qv.fma(k1, a1);
            FloatVector k2 = FloatVector.fromArray(S, k, kp + 2, m);
            a2 = qv.fma(k2, a2);
            FloatVector k3 = FloatVector.fromArray(S, k, kp + 3, m);
            a3 = qv.fma(k3, a3);
        }
        a0.intoArray(s, sa + 0 * sLd, m);
        a1.intoArray(s, sa + 1 * sLd, m);
        a2.intoArray(s, sa + 2 * sLd, m);
        a3.intoArray(s, sa + 3 * sLd, m);
    }

    private static void shiftScore2x2m(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd, VectorMask<Float> m) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), b0 = FloatVector.zero(S), b1 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo, m);
            FloatVector qw = FloatVector.fromArray(S, q, qb + xo, m);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0, m);
            a0 = qv.fma(k0, a0);
            b0 = qw.fma(k0, b0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1, m);
            a1 = qv.fma(k1, a1);
            b1 = qw.fma(k1, b1);
        }
        a0.intoArray(s, sa + 0 * sLd, m);
        a1.intoArray(s, sa + 1 * sLd, m);
        b0.intoArray(s, sb + 0 * sLd, m);
        b1.intoArray(s, sb + 1 * sLd, m);
    }

    private static void shiftScore2x1m(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd, VectorMask<Float> m) {
        FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo, m);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0, m);
            a0 = qv.fma(k0, a0);
            FloatVector k1 = FloatVector.fromArray(S, k, kp + 1, m);
            a1 = qv.fma(k1, a1);
        }
        a0.intoArray(s, sa + 0 * sLd, m);
        a1.intoArray(s, sa + 1 * sLd, m);
    }

    private static void shiftScore1x2m(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd, VectorMask<Float> m) {
        FloatVector a0 = FloatVector.zero(S), b0 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo, m);
            FloatVector qw = FloatVector.fromArray(S, q, qb + xo, m);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0, m);
            a0 = qv.fma(k0, a0);
            b0 = qw.fma(k0, b0);
        }
        a0.intoArray(s, sa + 0 * sLd, m);
        b0.intoArray(s, sb + 0 * sLd, m);
    }

    private static void shiftScore1x1m(int d, float[] q, int qa, int qb, float[] k, int kk, int ld, float[] s, int sa, int sb, int sLd, VectorMask<Float> m) {
        FloatVector a0 = FloatVector.zero(S);
        for (int x = 0, xo = 0; x < d; x++, xo += ld) {
            FloatVector qv = FloatVector.fromArray(S, q, qa + xo, m);
            int kp = kk + xo;
            FloatVector k0 = FloatVector.fromArray(S, k, kp + 0, m);
            a0 = qv.fma(k0, a0);
        }
        a0.intoArray(s, sa + 0 * sLd, m);
    }

    private static void shiftValue16x1(int shifts, float[] p, int pa, int pb, int pLd, float[] v, int vv, int ld, float[] o, int oa, int ob, int oLd) {
        FloatVector c0 = FloatVector.fromArray(S, o, oa + 0 * oLd), c1 = FloatVector.fromArray(S, o, oa + 1 * oLd), c2 = FloatVector.fromArray(S, o, oa + 2 * oLd), c3 = FloatVector.fromArray(S, o, oa + 3 * oLd), c4 = FloatVector.fromArray(S, o, oa + 4 * oLd), c5 = FloatVector.fromArray(S, o, oa + 5 * oLd), c6 = FloatVector.fromArray(S, o, oa + 6 * oLd), c7 = FloatVector.fromArray(S, o, oa + 7 * oLd), c8 = FloatVector.fromArray(S, o, oa + 8 * oLd), c9 = FloatVector.fromArray(S, o, oa + 9 * oLd), c10 = FloatVector.fromArray(S, o, oa + 10 * oLd), c11 = FloatVector.fromArray(S, o, oa + 11 * oLd), c12 = FloatVector.fromArray(S, o, oa + 12 * oLd), c13 = FloatVector.fromArray(S, o, oa + 13 * oLd), c14 = FloatVector.fromArray(S, o, oa + 14 * oLd), c15 = FloatVector.fromArray(S, o, oa + 15 * oLd);
        for (int j = 0; j < shifts; j++) {
            FloatVector pv = FloatVector.fromArray(S, p, pa + j * pLd);
            int vp = vv + j;
            FloatVector v0 = FloatVector.fromArray(S, v, vp + 0 * ld);
            c0 = v0.fma(pv, c0);
            FloatVector v1 = FloatVector.fromArray(S, v, vp + 1 * ld);
            c1 = v1.fma(pv, c1);
            FloatVector v2 = FloatVector.fromArray(S, v, vp + 2 * ld);
            c2 = v2.fma(pv, c2);
            FloatVector v3 = FloatVector.fromArray(S, v, vp + 3 * ld);
            c3 = v3.fma(pv, c3);
            FloatVector v4 = FloatVector.fromArray(S, v, vp + 4 * ld);
            c4 = v4.fma(pv, c4);
            FloatVector v5 = FloatVector.fromArray(S, v, vp + 5 * ld);
            c5 = v5.fma(pv, c5);
            FloatVector v6 = FloatVector.fromArray(S, v, vp + 6 * ld);
            c6 = v6.fma(pv, c6);
            FloatVector v7 = FloatVector.fromArray(S, v, vp + 7 * ld);
            c7 = v7.fma(pv, c7);
            FloatVector v8 = FloatVector.fromArray(S, v, vp + 8 * ld);
            c8 = v8.fma(pv, c8);
            FloatVector v9 = FloatVector.fromArray(S, v, vp + 9 * ld);
            c9 = v9.fma(pv, c9);
            FloatVector v10 = FloatVector.fromArray(S, v, vp + 10 * ld);
            c10 = v10.fma(pv, c10);
            FloatVector v11 = FloatVector.fromArray(S, v, vp + 11 * ld);
            c11 = v11.fma(pv, c11);
            FloatVector v12 = FloatVector.fromArray(S, v, vp + 12 * ld);
            c12 = v12.fma(pv, c12);
            FloatVector v13 = FloatVector.fromArray(S, v, vp + 13 * ld);
            c13 = v13.fma(pv, c13);
            FloatVector v14 = FloatVector.fromArray(S, v, vp + 14 * ld);
            c14 = v14.fma(pv, c14);
            FloatVector v15 = FloatVector.fromArray(S, v, vp + 15 * ld);
            c15 = v15.fma(pv, c15);
        }
        c0.intoArray(o, oa + 0 * oLd);
        c1.intoArray(o, oa + 1 * oLd);
        c2.intoArray(o, oa + 2 * oLd);
        c3.intoArray(o, oa + 3 * oLd);
        c4.intoArray(o, oa + 4 * oLd);
        c5.intoArray(o, oa + 5 * oLd);
        c6.intoArray(o, oa + 6 * oLd);
        c7.intoArray(o, oa + 7 * oLd);
        c8.intoArray(o, oa + 8 * oLd);
        c9.intoArray(o, oa + 9 * oLd);
        c10.intoArray(o, oa + 10 * oLd);
        c11.intoArray(o, oa + 11 * oLd);
        c12.intoArray(o, oa + 12 * oLd);
        c13.intoArray(o, oa + 13 * oLd);
        c14.intoArray(o, oa + 14 * oLd);
        c15.intoArray(o, oa + 15 * oLd);
    }

    private static void shiftValue8x1(int shifts, float[] p, int pa, int pb, int pLd, float[] v, int vv, int ld, float[] o, int oa, int ob, int oLd) {
        FloatVector c0 = FloatVector.fromArray(S, o, oa + 0 * oLd), c1 = FloatVector.fromArray(S, o, oa + 1 * oLd), c2 = FloatVector.fromArray(S, o, oa + 2 * oLd), c3 = FloatVector.fromArray(S, o, oa + 3 * oLd), c4 = FloatVector.fromArray(S, o, oa + 4 * oLd), c5 = FloatVector.fromArray(S, o, oa + 5 * oLd), c6 = FloatVector.fromArray(S, o, oa + 6 * oLd), c7 = FloatVector.fromArray(S, o, oa + 7 * oLd);
        for (int j = 0; j < shifts; j++) {
            FloatVector pv = FloatVector.fromArray(S, p, pa + j * pLd);
            int vp = vv + j;
            FloatVector v0 = FloatVector.fromArray(S, v, vp + 0 * ld);
            c0 = v0.fma(pv, c0);
            FloatVector v1 = FloatVector.fromArray(S, v, vp + 1 * ld);
            c1 = v1.fma(pv, c1);
            FloatVector v2 = FloatVector.fromArray(S, v, vp + 2 * ld);
            c2 = v2.fma(pv, c2);
            FloatVector v3 = FloatVector.fromArray(S, v, vp + 3 * ld);
            c3 = v3.fma(pv, c3);
            FloatVector v4 = FloatVector.fromArray(S, v, vp + 4 * ld);
            c4 = v4.fma(pv, c4);
            FloatVector v5 = FloatVector.fromArray(S, v, vp + 5 * ld);
            c5 = v5.fma(pv, c5);
            FloatVector v6 = FloatVector.fromArray(S, v, vp + 6 * ld);
            c6 = v6.fma(pv, c6);
            FloatVector v7 = FloatVector.fromArray(S, v, vp + 7 * ld);
            c7 = v7.fma(pv, c7);
        }
        c0.intoArray(o, oa + 0 * oLd);
        c1.intoArray(o, oa + 1 * oLd);
        c2.intoArray(o, oa + 2 * oLd);
        c3.intoArray(o, oa + 3 * oLd);
        c4.intoArray(o, oa + 4 * oLd);
        c5.intoArray(o, oa + 5 * oLd);
        c6.intoArray(o, oa + 6 * oLd);
        c7.intoArray(o, oa + 7 * oLd);
    }

    private static void shiftValue4x1(int shifts, float[] p, int pa, int pb, int pLd, float[] v, int vv, int ld, float[] o, int oa, int ob, int oLd) {
        FloatVector c0 = FloatVector.fromArray(S, o, oa + 0 * oLd), c1 = FloatVector.fromArray(S, o, oa + 1 * oLd), c2 = FloatVector.fromArray(S, o, oa + 2 * oLd), c3 = FloatVector.fromArray(S, o, oa + 3 * oLd);
        for (int j = 0; j < shifts; j++) {
            FloatVector pv = FloatVector.fromArray(S, p, pa + j * pLd);
            int vp = vv + j;
            FloatVector v0 = FloatVector.fromArray(S, v, vp + 0 * ld);
            c0 = v0.fma(pv, c0);
            FloatVector v1 = FloatVector.fromArray(S, v, vp + 1 * ld);
            c1 = v1.fma(pv, c1);
            FloatVector v2 = FloatVector.fromArray(S, v, vp + 2 * ld);
            c2 = v2.fma(pv, c2);
            FloatVector v3 = FloatVector.fromArray(S, v, vp + 3 * ld);
            c3 = v3.fma(pv, c3);
        }
        c0.intoArray(o, oa + 0 * oLd);
        c1.intoArray(o, oa + 1 * oLd);
        c2.intoArray(o, oa + 2 * oLd);
        c3.intoArray(o, oa + 3 * oLd);
    }

    private static void shiftValue1x1(int shifts, float[] p, int pa, int pb, int pLd, float[] v, int vv, int ld, float[] o, int oa, int ob, int oLd) {
        FloatVector c0 = FloatVector.fromArray(S, o, oa + 0 * oLd);
        for (int j = 0; j < shifts; j++) {
            FloatVector pv = FloatVector.fromArray(S, p, pa + j * pLd);
            int vp = vv + j;
            FloatVector v0 = FloatVector.fromArray(S, v, vp + 0 * ld);
            c0 = v0.fma(pv, c0);
        }
        c0.intoArray(o, oa + 0 * oLd);
    }

    private static void shiftValue8x2(int shifts, float[] p, int pa, int pb, int pLd, float[] v, int vv, int ld, float[] o, int oa, int ob, int oLd) {
        FloatVector c0 = FloatVector.fromArray(S, o, oa + 0 * oLd), c1 = FloatVector.fromArray(S, o, oa + 1 * oLd), c2 = FloatVector.fromArray(S, o, oa + 2 * oLd), c3 = FloatVector.fromArray(S, o, oa + 3 * oLd), c4 = FloatVector.fromArray(S, o, oa + 4 * oLd), c5 = FloatVector.fromArray(S, o, oa + 5 * oLd), c6 = FloatVector.fromArray(S, o, oa + 6 * oLd), c7 = FloatVector.fromArray(S, o, oa + 7 * oLd), e0 = FloatVector.fromArray(S, o, ob + 0 * oLd), e1 = FloatVector.fromArray(S, o, ob + 1 * oLd), e2 = FloatVector.fromArray(S, o, ob + 2 * oLd), e3 = FloatVector.fromArray(S, o, ob + 3 * oLd), e4 = FloatVector.fromArray(S, o, ob + 4 * oLd), e5 = FloatVector.fromArray(S, o, ob + 5 * oLd), e6 = FloatVector.fromArray(S, o, ob + 6 * oLd), e7 = FloatVector.fromArray(S, o, ob + 7 * oLd);
        for (int j = 0; j < shifts; j++) {
            FloatVector pv = FloatVector.fromArray(S, p, pa + j * pLd);
            FloatVector pw = FloatVector.fromArray(S, p, pb + j * pLd);
            int vp = vv + j;
            FloatVector v0 = FloatVector.fromArray(S, v, vp + 0 * ld);
            c0 = v0.fma(pv, c0);
            e0 = v0.fma(pw, e0);
            FloatVector v1 = FloatVector.fromArray(S, v, vp + 1 * ld);
            c1 = v1.fma(pv, c1);
            e1 = v1.fma(pw, e1);
            FloatVector v2 = FloatVector.fromArray(S, v, vp + 2 * ld);
            c2 = v2.fma(pv, c2);
            e2 = v2.fma(pw, e2);
            FloatVector v3 = FloatVector.fromArray(S, v, vp + 3 * ld);
            c3 = v3.fma(pv, c3);
            e3 = v3.fma(pw, e3);
            FloatVector v4 = FloatVector.fromArray(S, v, vp + 4 * ld);
            c4 = v4.fma(pv, c4);
            e4 = v4.fma(pw, e4);
            FloatVector v5 = FloatVector.fromArray(S, v, vp + 5 * ld);
            c5 = v5.fma(pv, c5);
            e5 = v5.fma(pw, e5);
            FloatVector v6 = FloatVector.fromArray(S, v, vp + 6 * ld);
            c6 = v6.fma(pv, c6);
            e6 = v6.fma(pw, e6);
            FloatVector v7 = FloatVector.fromArray(S, v, vp + 7 * ld);
            c7 = v7.fma(pv, c7);
            e7 = v7.fma(pw, e7);
        }
        c0.intoArray(o, oa + 0 * oLd);
        c1.intoArray(o, oa + 1 * oLd);
        c2.intoArray(o, oa + 2 * oLd);
        c3.intoArray(o, oa + 3 * oLd);
        c4.intoArray(o, oa + 4 * oLd);
        c5.intoArray(o, oa + 5 * oLd);
        c6.intoArray(o, oa + 6 * oLd);
        c7.intoArray(o, oa + 7 * oLd);
        e0.intoArray(o, ob + 0 * oLd);
        e1.intoArray(o, ob + 1 * oLd);
        e2.intoArray(o, ob + 2 * oLd);
        e3.intoArray(o, ob + 3 * oLd);
        e4.intoArray(o, ob + 4 * oLd);
        e5.intoArray(o, ob + 5 * oLd);
        e6.intoArray(o, ob + 6 * oLd);
        e7.intoArray(o, ob + 7 * oLd);
    }

    private static void shiftValue4x2(int shifts, float[] p, int pa, int pb, int pLd, float[] v, int vv, int ld, float[] o, int oa, int ob, int oLd) {
        FloatVector c0 = FloatVector.fromArray(S, o, oa + 0 * oLd), c1 = FloatVector.fromArray(S, o, oa + 1 * oLd), c2 = FloatVector.fromArray(S, o, oa + 2 * oLd), c3 = FloatVector.fromArray(S, o, oa + 3 * oLd), e0 = FloatVector.fromArray(S, o, ob + 0 * oLd), e1 = FloatVector.fromArray(S, o, ob + 1 * oLd), e2 = FloatVector.fromArray(S, o, ob + 2 * oLd), e3 = FloatVector.fromArray(S, o, ob + 3 * oLd);
        for (int j = 0; j < shifts; j++) {
            FloatVector pv = FloatVector.fromArray(S, p, pa + j * pLd);
            FloatVector pw = FloatVector.fromArray(S, p, pb + j * pLd);
            int vp = vv + j;
            FloatVector v0 = FloatVector.fromArray(S, v, vp + 0 * ld);
            c0 = v0.fma(pv, c0);
            e0 = v0.fma(pw, e0);
            FloatVector v1 = FloatVector.fromArray(S, v, vp + 1 * ld);
            c1 = v1.fma(pv, c1);
            e1 = v1.fma(pw, e1);
            FloatVector v2 = FloatVector.fromArray(S, v, vp + 2 * ld);
            c2 = v2.fma(pv, c2);
            e2 = v2.fma(pw, e2);
            FloatVector v3 = FloatVector.fromArray(S, v, vp + 3 * ld);
            c3 = v3.fma(pv, c3);
            e3 = v3.fma(pw, e3);
        }
        c0.intoArray(o, oa + 0 * oLd);
        c1.intoArray(o, oa + 1 * oLd);
        c2.intoArray(o, oa + 2 * oLd);
        c3.intoArray(o, oa + 3 * oLd);
        e0.intoArray(o, ob + 0 * oLd);
        e1.intoArray(o, ob + 1 * oLd);
        e2.intoArray(o, ob + 2 * oLd);
        e3.intoArray(o, ob + 3 * oLd);
    }

    private static void shiftValue4x1m(int shifts, float[] p, int pa, int pb, int pLd, float[] v, int vv, int ld, float[] o, int oa, int ob, int oLd, VectorMask<Float> m) {
        FloatVector c0 = FloatVector.fromArray(S, o, oa + 0 * oLd, m), c1 = FloatVector.fromArray(S, o, oa + 1 * oLd, m), c2 = FloatVector.fromArray(S, o, oa + 2 * oLd, m), c3 = FloatVector.fromArray(S, o, oa + 3 * oLd, m);
        for (int j = 0; j < shifts; j++) {
            FloatVector pv = FloatVector.fromArray(S, p, pa + j * pLd, m);
            int vp = vv + j;
            FloatVector v0 = FloatVector.fromArray(S, v, vp + 0 * ld, m);
            c0 = v0.fma(pv, c0);
            FloatVector v1 = FloatVector.fromArray(S, v, vp + 1 * ld, m);
            c1 = v1.fma(pv, c1);
            FloatVector v2 = FloatVector.fromArray(S, v, vp + 2 * ld, m);
            c2 = v2.fma(pv, c2);
            FloatVector v3 = FloatVector.fromArray(S, v, vp + 3 * ld, m);
            c3 = v3.fma(pv, c3);
        }
        c0.intoArray(o, oa + 0 * oLd, m);
        c1.intoArray(o, oa + 1 * oLd, m);
        c2.intoArray(o, oa + 2 * oLd, m);
        c3.intoArray(o, oa + 3 * oLd, m);
    }

    private static void shiftValue4x2m(int shifts, float[] p, int pa, int pb, int pLd, float[] v, int vv, int ld, float[] o, int oa, int ob, int oLd, VectorMask<Float> m) {
        FloatVector c0 = FloatVector.fromArray(S, o, oa + 0 * oLd, m), c1 = FloatVector.fromArray(S, o, oa + 1 * oLd, m), c2 = FloatVector.fromArray(S, o, oa + 2 * oLd, m), c3 = FloatVector.fromArray(S, o, oa + 3 * oLd, m), e0 = FloatVector.fromArray(S, o, ob + 0 * oLd, m), e1 = FloatVector.fromArray(S, o, ob + 1 * oLd, m), e2 = FloatVector.fromArray(S, o, ob + 2 * oLd, m), e3 = FloatVector.fromArray(S, o, ob + 3 * oLd, m);
        for (int j = 0; j < shifts; j++) {
            FloatVector pv = FloatVector.fromArray(S, p, pa + j * pLd, m);
            FloatVector pw = FloatVector.fromArray(S, p, pb + j * pLd, m);
            int vp = vv + j;
            FloatVector v0 = FloatVector.fromArray(S, v, vp + 0 * ld, m);
            c0 = v0.fma(pv, c0);
            e0 = v0.fma(pw, e0);
            FloatVector v1 = FloatVector.fromArray(S, v, vp + 1 * ld, m);
            c1 = v1.fma(pv, c1);
            e1 = v1.fma(pw, e1);
            FloatVector v2 = FloatVector.fromArray(S, v, vp + 2 * ld, m);
            c2 = v2.fma(pv, c2);
            e2 = v2.fma(pw, e2);
            FloatVector v3 = FloatVector.fromArray(S, v, vp + 3 * ld, m);
            c3 = v3.fma(pv, c3);
            e3 = v3.fma(pw, e3);
        }
        c0.intoArray(o, oa + 0 * oLd, m);
        c1.intoArray(o, oa + 1 * oLd, m);
        c2.intoArray(o, oa + 2 * oLd, m);
        c3.intoArray(o, oa + 3 * oLd, m);
        e0.intoArray(o, ob + 0 * oLd, m);
        e1.intoArray(o, ob + 1 * oLd, m);
        e2.intoArray(o, ob + 2 * oLd, m);
        e3.intoArray(o, ob + 3 * oLd, m);
    }

    private static void shiftValue1x1m(int shifts, float[] p, int pa, int pb, int pLd, float[] v, int vv, int ld, float[] o, int oa, int ob, int oLd, VectorMask<Float> m) {
        FloatVector c0 = FloatVector.fromArray(S, o, oa + 0 * oLd, m);
        for (int j = 0; j < shifts; j++) {
            FloatVector pv = FloatVector.fromArray(S, p, pa + j * pLd, m);
            int vp = vv + j;
            FloatVector v0 = FloatVector.fromArray(S, v, vp + 0 * ld, m);
            c0 = v0.fma(pv, c0);
        }
        c0.intoArray(o, oa + 0 * oLd, m);
    }

    // exp for the softmax, x <= 0 (column max subtracted): 2^n · e^r with n = round(x·log2 e),
    // r = x − n·ln 2 split in two parts, e^r = 1 + r + r²·P(r) with Cephes' expf coefficients
    // (~1 ulp; measured max relative error 8e-8). Only IEEE-exact operations (fma, mul, add, compare),
    // so compiled and interpreted code give bit-identical results — lanewise(EXP) does not (its
    // intrinsic and its Java fallback round differently), which made results depend on JIT warm-up.
    // As fast as lanewise(EXP) here. Inputs below −87.3 (subnormal results) and −inf give 0.
    private static final float EXP_LO = -87.3f, LOG2E = 1.44269504088896341f, ROUND = 12582912f; // 1.5·2^23
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
    private static final float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f,
            E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;

    /** In place e^(s[p] − sh) for {@code count} vectors at p, p + step, …; returns their sum. */
    private static FloatVector expRun(float[] s, int p, int count, int step, FloatVector sh) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < count; i++, p += step) {
            FloatVector x = FloatVector.fromArray(S, s, p).sub(sh);
            VectorMask<Float> under = x.lt(EXP_LO);
            FloatVector xc = x.max(EXP_LO);
            FloatVector t = xc.fma(FloatVector.broadcast(S, LOG2E), FloatVector.broadcast(S, ROUND));
            FloatVector n = t.sub(ROUND);
            FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
            r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
            FloatVector poly = r.fma(FloatVector.broadcast(S, E0), FloatVector.broadcast(S, E1))
                    .fma(r, FloatVector.broadcast(S, E2)).fma(r, FloatVector.broadcast(S, E3))
                    .fma(r, FloatVector.broadcast(S, E4)).fma(r, FloatVector.broadcast(S, E5));
            poly = poly.fma(r.mul(r), r).add(1f);
            // 2^n from the integer that the rounding constant left in t's low mantissa bits.
            FloatVector scale = t.reinterpretAsInts().add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
            FloatVector e = poly.mul(scale).blend(0f, under);
            e.intoArray(s, p);
            acc = acc.add(e);
        }
        return acc;
    }

    /** The same formula in scalar code, for tails: bit-identical to a lane of {@link #expRun}. */
    static float expScalar(float x) {
        if (x < EXP_LO) return 0f;
        float t = Math.fma(x, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float poly = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, E0, E1), r, E2), r, E3), r, E4), r, E5);
        poly = Math.fma(poly, r * r, r) + 1f;
        return poly * Float.intBitsToFloat((Float.floatToRawIntBits(t) + 127) << 23);
    }
}
