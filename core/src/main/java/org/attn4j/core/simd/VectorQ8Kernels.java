package org.attn4j.core.simd;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API Q8 products: a block's 32 bytes loaded as one vector and widened to floats part by part
 * ({@code B2F}; one load per block ran about twice as fast as one 8-byte load per part in a noisy
 * 256-bit microbenchmark, while whole-model decode with 512-bit vectors did not change measurably),
 * multiplied by the activations, the block sum scaled by its {@code d} into a running vector,
 * reduced once per row. Two rows at a time share the activation loads.
 */
final class VectorQ8Kernels implements Q8Kernels {
    static final VectorQ8Kernels INSTANCE = new VectorQ8Kernels();

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED.length() > 16 ? FloatVector.SPECIES_512 : FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
    private static final int PARTS = BLOCK / L;

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
