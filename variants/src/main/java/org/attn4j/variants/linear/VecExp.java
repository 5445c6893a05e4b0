package org.attn4j.variants.linear;

import org.attn4j.core.simd.MicroKernels;

/**
 * Vectorised {@code x ← exp(x − shift)} for arguments ≤ 0 (after the shift), on the micro-kernels'
 * softmax exponential ({@link MicroKernels#expColumns}): the same numbers on every thread count and
 * JIT state. Arguments below about −87 give 0.
 */
final class VecExp {
    private VecExp() {}

    /** Columns per call of the micro-kernel (a multiple of every vector length, so the pieces change no result). */
    static final int CHUNK = 4096;
    /** The most scratch one thread holds: a shift row and a sums row of {@link #CHUNK} floats (32 KiB). */
    static final int MAX_SCRATCH_FLOATS = 2 * CHUNK;

    /**
     * Per-thread scratch (a shift row and a sums row), at most {@link #MAX_SCRATCH_FLOATS} floats per
     * thread whatever the row length, released with the thread.
     */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[0]});

    /** x[off .. off+n) ← exp(x − shift); every x − shift must be ≤ 0. */
    static void exp(float[] x, int off, int n, float shift) {
        if (n <= 0) return;
        float[][] s = SCRATCH.get();
        int need = Math.min(n, CHUNK);
        if (s[0].length < need) {
            s[0] = new float[need];
            s[1] = new float[need];
        }
        float[] sh = s[0];
        java.util.Arrays.fill(sh, 0, need, shift);
        // pieces of one row of columns: flat, so each piece goes through the vector loop
        MicroKernels mk = MicroKernels.get();
        for (int c = 0; c < n; c += CHUNK) {
            int len = Math.min(CHUNK, n - c);
            mk.expColumns(x, off + c, 1, len, len, sh, s[1]);
        }
    }

    /** Floats of scratch the calling thread holds now. */
    static int scratchFloats() {
        float[][] s = SCRATCH.get();
        return s[0].length + s[1].length;
    }
}
