package org.attn4j.core.simd;

import static org.attn4j.core.simd.Lanes.L;
import static org.attn4j.core.simd.Lanes.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Vector API products on gathered rows (the block-sparse kernels' key and value rows that are not
 * evenly spaced) and the transposing pack/unpack of query rows. Called through {@link VectorMicroKernels}.
 */
final class VectorGather {
    private VectorGather() {}

    /**
     * Gathered-row GEMMs for the sparse kernel's few query columns (one or two vectors): tiles of
     * {@link #GATHER_TILE} rows × 1 vector keep that many independent accumulators in flight (the
     * 6 × 1 tile of {@link #gemm} is latency-bound), with 1 B vector and 1 broadcast: 14 registers
     * for 12 rows (AVX2's 16), 18 for 16 rows (AVX-512's 32).
     */
    private static final int GATHER_TILE = Integer.getInteger("attn4j.simd.gatherTile", L >= 16 ? 16 : 12);

    static void gemmRowGather(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc) {
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

    static void gemmColumnGatherAcc(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc, float[] colScale) {
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

    static void packTransposed(int rows, int cols, float[] src, int[] srcRow, float alpha, float[] dst, int dstOff, int ld) {
        int c = 0;
        for (; c <= cols - L; c += L) {
            for (int x = 0; x < rows; x++) FloatVector.fromArray(S, src, x, srcRow, c).mul(alpha).intoArray(dst, dstOff + x * ld + c);
        }
        for (; c < cols; c++) {
            int o = srcRow[c];
            for (int x = 0; x < rows; x++) dst[dstOff + x * ld + c] = alpha * src[o + x];
        }
    }

    static void unpackTransposed(int rows, int cols, float[] src, int srcOff, int ld, float[] colScale, float[] dst, int[] dstRow) {
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
}
