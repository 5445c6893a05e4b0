package org.attn4j.core.simd;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API Q8 products: bytes widened to floats ({@code B2F}, one vector of L lanes from L bytes),
 * multiplied by the activations per block of 32, the block sum scaled by its {@code d} into a
 * running vector, reduced once per row. Two rows at a time share the activation loads.
 */
final class VectorQ8Kernels implements Q8Kernels {
    static final VectorQ8Kernels INSTANCE = new VectorQ8Kernels();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.length() > 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8));

    private VectorQ8Kernels() {}

    /** Whether this species layout fits a 32-weight block (L divides 32, bytes species exists). */
    static boolean usable() { return L >= 4 && BLOCK % L == 0; }

    @Override
    public void gemv(int rows, int n, byte[] q, int qOff, float[] d, int dOff, float[] x, int xOff, float[] y, int yOff) {
        int blocks = n / BLOCK;
        int r = 0;
        for (; r + 2 <= rows; r += 2) {
            int q0 = qOff + r * n, q1 = q0 + n, d0 = dOff + r * blocks, d1 = d0 + blocks;
            FloatVector acc0 = FloatVector.zero(F), acc1 = acc0;
            for (int b = 0; b < blocks; b++) {
                FloatVector s0 = FloatVector.zero(F), s1 = s0;
                int base = b * BLOCK;
                for (int j = 0; j < BLOCK; j += L) {
                    FloatVector xv = FloatVector.fromArray(F, x, xOff + base + j);
                    FloatVector w0 = (FloatVector) ByteVector.fromArray(B, q, q0 + base + j).convertShape(VectorOperators.B2F, F, 0);
                    FloatVector w1 = (FloatVector) ByteVector.fromArray(B, q, q1 + base + j).convertShape(VectorOperators.B2F, F, 0);
                    s0 = w0.fma(xv, s0);
                    s1 = w1.fma(xv, s1);
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
                for (int j = 0; j < BLOCK; j += L) {
                    FloatVector w0 = (FloatVector) ByteVector.fromArray(B, q, q0 + base + j).convertShape(VectorOperators.B2F, F, 0);
                    s0 = w0.fma(FloatVector.fromArray(F, x, xOff + base + j), s0);
                }
                acc0 = s0.fma(FloatVector.broadcast(F, d[d0 + b]), acc0);
            }
            y[yOff + r] = acc0.reduceLanes(VectorOperators.ADD);
        }
    }
}
