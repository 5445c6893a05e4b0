package org.attn4j.core.simd;

import static org.attn4j.core.simd.Lanes.L;
import static org.attn4j.core.simd.Lanes.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

/**
 * Vector API shifted (diagonal) score and value products on transposed rows: sliding windows on a
 * grid row with no wasted products. Called through {@link VectorMicroKernels}.
 */
final class VectorShifted {
    private VectorShifted() {}

    /**
     * Shifted products: per vector of query columns, tiles of 7 (5 at grid-row edges, then 4, 2, 1) shifts × 1 or 2 query
     * rows (14 accumulators, 2 query and 1 key vector: 17 registers; the two rows share every key load),
     * and tiles of {@link #SHIFT_VALUE_TILE} value rows sharing each probability vector.
     */
    static void shiftedScores(int d, int n, int shifts, float[] q, int q0, int q1, float[] k, int k0, int ld,
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

    static void shiftedValues(int dv, int n, int shifts, float[] p, int p0, int p1, int pLd, float[] v, int v0, int ld,
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
}
