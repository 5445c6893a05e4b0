package org.attn4j.variants.linear;

import org.attn4j.core.simd.MicroKernels;

/**
 * Vectorised {@code x ← exp(x − shift)} for arguments ≤ 0 (after the shift), on the micro-kernels'
 * softmax exponential ({@link MicroKernels#expColumns}): the same numbers on every thread count and
 * JIT state. Arguments below about −87 give 0.
 */
final class VecExp {
    private VecExp() {}

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});

    /** x[off .. off+n) ← exp(x − shift); every x − shift must be ≤ 0. */
    static void exp(float[] x, int off, int n, float shift) {
        if (n <= 0) return;
        float[][] s = SCRATCH.get();
        if (s[0].length < n) {
            s[0] = new float[n];
            s[1] = new float[n];
        }
        float[] sh = s[0];
        java.util.Arrays.fill(sh, 0, n, shift);
        // one row of n columns: flat, so the whole run goes through the vector loop
        MicroKernels.get().expColumns(x, off, 1, n, n, sh, s[1]);
    }
}
