package org.attn4j.core.simd;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API Q8 products: a block's 32 bytes loaded as one vector and widened to floats part by part
 * ({@code B2F}; one load per block ran about twice as fast as one 8-byte load per part in a noisy
 * 256-bit microbenchmark, while whole-model decode with 512-bit vectors did not change measurably),
 * multiplied by the activations, the block sum scaled by its {@code d} into a running vector,
 * reduced once per row. Two rows at a time share the activation loads.
 *
 * <p>{@link #gemmQ8} (int8 × int8): weight bytes are widened to 16-bit lanes ({@code B2S}) and
 * multiplied by the pre-widened activation quanta (|w·x| ≤ 128·127, so a product and the sum of two
 * fit 16 bits); adjacent product pairs are added into 32-bit lanes by viewing the 16-bit vector as
 * 32-bit lanes and adding the sign-extended low half to the arithmetic-shifted high half (what
 * {@code pmaddwd} does in one instruction). The block's int lanes become floats once and are scaled by
 * {@code d_w·d_x} into a float accumulator, reduced once per row and token. The vector width is the
 * preferred one (capped at 512 bits): 16 or 32 bytes of a block per step.
 */
final class VectorQ8Kernels implements Q8Kernels {
    static final VectorQ8Kernels INSTANCE = new VectorQ8Kernels();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.length() > 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final int PARTS = BLOCK / L;

    /** 16-bit lanes of the widened weights and quanta; the bytes species has as many lanes. */
    private static final VectorSpecies<Short> SS = VectorSpecies.of(short.class, F.vectorShape());
    private static final int LS = SS.length();
    private static final VectorSpecies<Byte> SB = VectorSpecies.of(byte.class, VectorShape.forBitSize(LS * 8));
    private static final VectorSpecies<Integer> SI = VectorSpecies.of(int.class, SS.vectorShape());
    private static final VectorSpecies<Float> SF = VectorSpecies.of(float.class, SS.vectorShape());
    private static final int QPARTS = BLOCK / LS;

    private VectorQ8Kernels() {}

    /** Whether this species layout fits a 32-weight block (L and the 16-bit lanes divide 32, bytes species exists). */
    static boolean usable() { return L >= 4 && BLOCK % L == 0 && (LS == 16 || LS == 32); }

    @Override
    public void gemm(int t, int rows, int n, byte[] q, int qOff, float[] d, int dOff, float[] x, int xOff, float[] y, int yOff, int ldy) {
        if (PARTS != 2) { // a block is not two float vectors: token by token
            for (int i = 0; i < t; i++) gemv(rows, n, q, qOff, d, dOff, x, xOff + i * n, y, yOff + i * ldy);
            return;
        }
        int blocks = n / BLOCK;
        int r = 0;
        for (; r + 2 <= rows; r += 2) {
            // Two rows × up to four tokens: a block of each row is widened and scaled once, then
            // multiplied into every token's accumulator; a token's activations serve both rows.
            int q0 = qOff + r * n, q1 = q0 + n, d0 = dOff + r * blocks, d1 = d0 + blocks;
            for (int i = 0; i < t; i += 4) {
                int m = Math.min(4, t - i);
                int x0 = xOff + i * n, x1 = x0 + (m > 1 ? n : 0), x2 = x0 + (m > 2 ? 2 * n : 0), x3 = x0 + (m > 3 ? 3 * n : 0);
                FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
                for (int b = 0; b < blocks; b++) {
                    int base = b * BLOCK;
                    ByteVector b0 = ByteVector.fromArray(B, q, q0 + base), b1 = ByteVector.fromArray(B, q, q1 + base);
                    FloatVector s0 = FloatVector.broadcast(F, d[d0 + b]), s1 = FloatVector.broadcast(F, d[d1 + b]);
                    FloatVector w00 = ((FloatVector) b0.convertShape(VectorOperators.B2F, F, 0)).mul(s0);
                    FloatVector w01 = ((FloatVector) b0.convertShape(VectorOperators.B2F, F, 1)).mul(s0);
                    FloatVector w10 = ((FloatVector) b1.convertShape(VectorOperators.B2F, F, 0)).mul(s1);
                    FloatVector w11 = ((FloatVector) b1.convertShape(VectorOperators.B2F, F, 1)).mul(s1);
                    FloatVector xa = FloatVector.fromArray(F, x, x0 + base), xb = FloatVector.fromArray(F, x, x0 + base + L);
                    a00 = w01.fma(xb, w00.fma(xa, a00)); a10 = w11.fma(xb, w10.fma(xa, a10));
                    xa = FloatVector.fromArray(F, x, x1 + base); xb = FloatVector.fromArray(F, x, x1 + base + L);
                    a01 = w01.fma(xb, w00.fma(xa, a01)); a11 = w11.fma(xb, w10.fma(xa, a11));
                    xa = FloatVector.fromArray(F, x, x2 + base); xb = FloatVector.fromArray(F, x, x2 + base + L);
                    a02 = w01.fma(xb, w00.fma(xa, a02)); a12 = w11.fma(xb, w10.fma(xa, a12));
                    xa = FloatVector.fromArray(F, x, x3 + base); xb = FloatVector.fromArray(F, x, x3 + base + L);
                    a03 = w01.fma(xb, w00.fma(xa, a03)); a13 = w11.fma(xb, w10.fma(xa, a13));
                }
                // Lanes past m repeat token 0 (x1..x3 fall back to x0) and are not stored.
                int yi = yOff + i * ldy + r;
                y[yi] = a00.reduceLanes(VectorOperators.ADD); y[yi + 1] = a10.reduceLanes(VectorOperators.ADD);
                if (m > 1) { y[yi + ldy] = a01.reduceLanes(VectorOperators.ADD); y[yi + ldy + 1] = a11.reduceLanes(VectorOperators.ADD); }
                if (m > 2) { y[yi + 2 * ldy] = a02.reduceLanes(VectorOperators.ADD); y[yi + 2 * ldy + 1] = a12.reduceLanes(VectorOperators.ADD); }
                if (m > 3) { y[yi + 3 * ldy] = a03.reduceLanes(VectorOperators.ADD); y[yi + 3 * ldy + 1] = a13.reduceLanes(VectorOperators.ADD); }
            }
        }
        if (r < rows) {
            for (int i = 0; i < t; i++) gemv(1, n, q, qOff + r * n, d, dOff + r * blocks, x, xOff + i * n, y, yOff + i * ldy + r);
        }
    }

    /** Σ over one block of w·x in 32-bit lanes (each lane the sum of 2·QPARTS products). */
    private static IntVector blockDot(byte[] q, int qb, short[] xq, int xb) {
        ShortVector w0 = widen(q, qb);
        return blockDot(w0, QPARTS == 2 ? widen(q, qb + LS) : w0, xq, xb);
    }

    private static ShortVector widen(byte[] q, int at) {
        return (ShortVector) ByteVector.fromArray(SB, q, at).convertShape(VectorOperators.B2S, SS, 0);
    }

    /** The block sum of already-widened weights {@code w} (QPARTS vectors) with one token's quanta. */
    private static IntVector blockDot(ShortVector w0, ShortVector w1, short[] xq, int xb) {
        IntVector p = w0.mul(ShortVector.fromArray(SS, xq, xb)).reinterpretAsInts();
        IntVector s = p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16).add(p.lanewise(VectorOperators.ASHR, 16));
        if (QPARTS == 2) {
            p = w1.mul(ShortVector.fromArray(SS, xq, xb + LS)).reinterpretAsInts();
            s = s.add(p.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)).add(p.lanewise(VectorOperators.ASHR, 16));
        }
        return s;
    }

    private static FloatVector toFloats(IntVector v) { return (FloatVector) v.convert(VectorOperators.I2F, 0); }

    @Override
    public void gemmQ8(int t, int rows, int n, byte[] q, int qOff, float[] d, int dOff, short[] xq, float[] dx, float[] y, int yOff, int ldy) {
        // The two shapes are separate methods so that each gets its own compilation: in one method,
        // once calls with t ≥ 4 had run, C2's code ran the one-token loop 10× slower (1.9 against
        // 18.5 GB/s over 276 MB of weights; the second line of Q8ColdBench).
        if (t >= 4) {
            gemmQ8Tokens(t, rows, n, q, qOff, d, dOff, xq, dx, y, yOff, ldy);
            return;
        }
        int blocks = n / BLOCK;
        for (int i = 0; i < t; i++) gemvQ8(rows, n, q, qOff, d, dOff, xq, i * n, dx, i * blocks, y, yOff + i * ldy);
    }

    /** {@code t ≥ 4} tokens: each row's blocks widened once per group of four tokens; the row stays in L1 across groups. */
    private static void gemmQ8Tokens(int t, int rows, int n, byte[] q, int qOff, float[] d, int dOff, short[] xq, float[] dx, float[] y, int yOff, int ldy) {
        int blocks = n / BLOCK;
        for (int r = 0; r < rows; r++) {
            int qr = qOff + r * n, dr = dOff + r * blocks;
            int i = 0;
            for (; i + 4 <= t; i += 4) {
                FloatVector a0 = FloatVector.zero(SF), a1 = a0, a2 = a0, a3 = a0;
                int x0 = i * n, x1 = x0 + n, x2 = x1 + n, x3 = x2 + n, e0 = i * blocks, e1 = e0 + blocks, e2 = e1 + blocks, e3 = e2 + blocks;
                for (int b = 0; b < blocks; b++) {
                    int qb = qr + b * BLOCK, xb = b * BLOCK;
                    ShortVector w0 = widen(q, qb), w1 = QPARTS == 2 ? widen(q, qb + LS) : w0;
                    float dw = d[dr + b];
                    a0 = toFloats(blockDot(w0, w1, xq, x0 + xb)).fma(FloatVector.broadcast(SF, dw * dx[e0 + b]), a0);
                    a1 = toFloats(blockDot(w0, w1, xq, x1 + xb)).fma(FloatVector.broadcast(SF, dw * dx[e1 + b]), a1);
                    a2 = toFloats(blockDot(w0, w1, xq, x2 + xb)).fma(FloatVector.broadcast(SF, dw * dx[e2 + b]), a2);
                    a3 = toFloats(blockDot(w0, w1, xq, x3 + xb)).fma(FloatVector.broadcast(SF, dw * dx[e3 + b]), a3);
                }
                y[yOff + i * ldy + r] = a0.reduceLanes(VectorOperators.ADD);
                y[yOff + (i + 1) * ldy + r] = a1.reduceLanes(VectorOperators.ADD);
                y[yOff + (i + 2) * ldy + r] = a2.reduceLanes(VectorOperators.ADD);
                y[yOff + (i + 3) * ldy + r] = a3.reduceLanes(VectorOperators.ADD);
            }
            for (; i < t; i++) y[yOff + i * ldy + r] = row(q, qr, d, dr, blocks, xq, i * n, dx, i * blocks);
        }
    }

    /** One token's quanta ({@code xq} from {@code xi}, scales from {@code ei}) against {@code rows} rows into {@code y[yOff..]}. */
    private static void gemvQ8(int rows, int n, byte[] q, int qOff, float[] d, int dOff, short[] xq, int xi, float[] dx, int ei, float[] y, int yOff) {
        int blocks = n / BLOCK;
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            // Four rows share the quanta loads, and four weight streams in flight read memory
            // faster than two (a pass over 276 MB of weights: 9.6–11.9 GB/s against 6.6–7.1).
            int q0 = qOff + r * n, q1 = q0 + n, q2 = q1 + n, q3 = q2 + n;
            int d0 = dOff + r * blocks, d1 = d0 + blocks, d2 = d1 + blocks, d3 = d2 + blocks;
            FloatVector a0 = FloatVector.zero(SF), a1 = a0, a2 = a0, a3 = a0;
            for (int b = 0; b < blocks; b++) {
                int xb = xi + b * BLOCK, qb = b * BLOCK;
                float s = dx[ei + b];
                a0 = toFloats(blockDot(q, q0 + qb, xq, xb)).fma(FloatVector.broadcast(SF, d[d0 + b] * s), a0);
                a1 = toFloats(blockDot(q, q1 + qb, xq, xb)).fma(FloatVector.broadcast(SF, d[d1 + b] * s), a1);
                a2 = toFloats(blockDot(q, q2 + qb, xq, xb)).fma(FloatVector.broadcast(SF, d[d2 + b] * s), a2);
                a3 = toFloats(blockDot(q, q3 + qb, xq, xb)).fma(FloatVector.broadcast(SF, d[d3 + b] * s), a3);
            }
            y[yOff + r] = a0.reduceLanes(VectorOperators.ADD);
            y[yOff + r + 1] = a1.reduceLanes(VectorOperators.ADD);
            y[yOff + r + 2] = a2.reduceLanes(VectorOperators.ADD);
            y[yOff + r + 3] = a3.reduceLanes(VectorOperators.ADD);
        }
        for (; r + 2 <= rows; r += 2) {
            // Two rows share the quanta loads.
            int q0 = qOff + r * n, q1 = q0 + n, d0 = dOff + r * blocks, d1 = d0 + blocks;
            FloatVector a0 = FloatVector.zero(SF), a1 = a0;
            for (int b = 0; b < blocks; b++) {
                int xb = xi + b * BLOCK;
                float s = dx[ei + b];
                a0 = toFloats(blockDot(q, q0 + b * BLOCK, xq, xb)).fma(FloatVector.broadcast(SF, d[d0 + b] * s), a0);
                a1 = toFloats(blockDot(q, q1 + b * BLOCK, xq, xb)).fma(FloatVector.broadcast(SF, d[d1 + b] * s), a1);
            }
            y[yOff + r] = a0.reduceLanes(VectorOperators.ADD);
            y[yOff + r + 1] = a1.reduceLanes(VectorOperators.ADD);
        }
        for (; r < rows; r++) y[yOff + r] = row(q, qOff + r * n, d, dOff + r * blocks, blocks, xq, xi, dx, ei);
    }

    private static float row(byte[] q, int qr, float[] d, int dr, int blocks, short[] xq, int xi, float[] dx, int ei) {
        FloatVector a = FloatVector.zero(SF);
        for (int b = 0; b < blocks; b++) {
            a = toFloats(blockDot(q, qr + b * BLOCK, xq, xi + b * BLOCK)).fma(FloatVector.broadcast(SF, d[dr + b] * dx[ei + b]), a);
        }
        return a.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void gemv(int rows, int n, byte[] q, int qOff, float[] d, int dOff, float[] x, int xOff, float[] y, int yOff) {
        int blocks = n / BLOCK;
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            // Four weight streams in flight read memory faster than two (see gemmQ8).
            int q0 = qOff + r * n, q1 = q0 + n, q2 = q1 + n, q3 = q2 + n;
            int d0 = dOff + r * blocks, d1 = d0 + blocks, d2 = d1 + blocks, d3 = d2 + blocks;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0, acc2 = acc0, acc3 = acc0;
            for (int b = 0; b < blocks; b++) {
                FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
                int base = b * BLOCK;
                ByteVector b0 = ByteVector.fromArray(B, q, q0 + base), b1 = ByteVector.fromArray(B, q, q1 + base);
                ByteVector b2 = ByteVector.fromArray(B, q, q2 + base), b3 = ByteVector.fromArray(B, q, q3 + base);
                for (int part = 0; part < PARTS; part++) {
                    FloatVector xv = FloatVector.fromArray(F, x, xOff + base + part * L);
                    s0 = ((FloatVector) b0.convertShape(VectorOperators.B2F, F, part)).fma(xv, s0);
                    s1 = ((FloatVector) b1.convertShape(VectorOperators.B2F, F, part)).fma(xv, s1);
                    s2 = ((FloatVector) b2.convertShape(VectorOperators.B2F, F, part)).fma(xv, s2);
                    s3 = ((FloatVector) b3.convertShape(VectorOperators.B2F, F, part)).fma(xv, s3);
                }
                acc0 = s0.fma(FloatVector.broadcast(F, d[d0 + b]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(F, d[d1 + b]), acc1);
                acc2 = s2.fma(FloatVector.broadcast(F, d[d2 + b]), acc2);
                acc3 = s3.fma(FloatVector.broadcast(F, d[d3 + b]), acc3);
            }
            y[yOff + r] = acc0.reduceLanes(VectorOperators.ADD);
            y[yOff + r + 1] = acc1.reduceLanes(VectorOperators.ADD);
            y[yOff + r + 2] = acc2.reduceLanes(VectorOperators.ADD);
            y[yOff + r + 3] = acc3.reduceLanes(VectorOperators.ADD);
        }
        for (; r + 2 <= rows; r += 2) {
            int q0 = qOff + r * n, q1 = q0 + n, d0 = dOff + r * blocks, d1 = d0 + blocks;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            for (int b = 0; b < blocks; b++) {
                FloatVector s0 = FloatVector.zero(F), s1 = s0;
                int base = b * BLOCK;
                ByteVector b0 = ByteVector.fromArray(B, q, q0 + base), b1 = ByteVector.fromArray(B, q, q1 + base);
                for (int part = 0; part < PARTS; part++) {
                    FloatVector xv = FloatVector.fromArray(F, x, xOff + base + part * L);
                    s0 = ((FloatVector) b0.convertShape(VectorOperators.B2F, F, part)).fma(xv, s0);
                    s1 = ((FloatVector) b1.convertShape(VectorOperators.B2F, F, part)).fma(xv, s1);
                }
                acc0 = s0.fma(FloatVector.broadcast(F, d[d0 + b]), acc0);
                acc1 = s1.fma(FloatVector.broadcast(F, d[d1 + b]), acc1);
            }
            y[yOff + r] = acc0.reduceLanes(VectorOperators.ADD);
            y[yOff + r + 1] = acc1.reduceLanes(VectorOperators.ADD);
        }
        for (; r < rows; r++) {
            int q0 = qOff + r * n, d0 = dOff + r * blocks;
            FloatVector acc0 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                FloatVector s0 = FloatVector.zero(F);
                int base = b * BLOCK;
                ByteVector b0 = ByteVector.fromArray(B, q, q0 + base);
                for (int part = 0; part < PARTS; part++) {
                    s0 = ((FloatVector) b0.convertShape(VectorOperators.B2F, F, part)).fma(FloatVector.fromArray(F, x, xOff + base + part * L), s0);
                }
                acc0 = s0.fma(FloatVector.broadcast(F, d[d0 + b]), acc0);
            }
            y[yOff + r] = acc0.reduceLanes(VectorOperators.ADD);
        }
    }
}
