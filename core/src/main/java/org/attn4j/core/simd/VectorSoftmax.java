package org.attn4j.core.simd;

import static org.attn4j.core.simd.Lanes.L;
import static org.attn4j.core.simd.Lanes.S;
import static org.attn4j.core.simd.Lanes.SI;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector API kernels of the softmax on transposed score tiles (keys × queries): column maxima, band
 * masking, the exponential step with column sums, and the softmax backward step; the exp itself
 * ({@link #expRun}, {@link #expScalar}). Called through {@link VectorMicroKernels}.
 */
final class VectorSoftmax {
    private VectorSoftmax() {}

    /** dSᵀ = Pᵀ ∘ (dPᵀ − D) in place on dp (see {@link MicroKernels#softmaxBackwardColumns}). */
    static void softmaxBackwardColumns(float[] p, float[] dp, int off, int rows, int cols, int ld, float[] rowDot, int rdOff) {
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

    /**
     * A compact tile ({@code ld == cols}) whose few columns divide the vector length (decoding: 1, 2,
     * 4 … queries) is one contiguous array in which lane l always holds column l % cols, so it is
     * processed flat, L elements at a time, instead of one scalar column at a time.
     */
    private static boolean flat(int cols, int ld) {
        return ld == cols && cols < L && L % cols == 0;
    }

    static void columnMax(float[] s, int off, int rows, int cols, int ld, float[] out) {
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

    static void maskBand(float[] s, int off, int rows, int cols, int ld, int j0, int[] lo, int[] hi) {
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

    static void expColumns(float[] s, int off, int rows, int cols, int ld, float[] shift, float[] sums) {
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

    /**
     * In place e^(s[p] − sh) for {@code count} vectors at p, p + step, …; returns their sum.
     * Two rows per iteration with two partial sums: one exp is a chain of ~15 dependent operations,
     * and the compiled single-row loop ran them one chain at a time (about 2× slower, measured);
     * two independent chains keep both FMA pipes busy. (Three or four exps per iteration exceed
     * C2's inlining budget, and the exp then runs boxed.)
     */
    private static FloatVector expRun(float[] s, int p, int count, int step, FloatVector sh) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = acc0;
        int i = 0;
        for (; i + 2 <= count; i += 2, p += 2 * step) {
            FloatVector e0 = exp(FloatVector.fromArray(S, s, p).sub(sh));
            e0.intoArray(s, p);
            acc0 = acc0.add(e0);
            FloatVector e1 = exp(FloatVector.fromArray(S, s, p + step).sub(sh));
            e1.intoArray(s, p + step);
            acc1 = acc1.add(e1);
        }
        if (i < count) {
            FloatVector e0 = exp(FloatVector.fromArray(S, s, p).sub(sh));
            e0.intoArray(s, p);
            acc0 = acc0.add(e0);
        }
        return acc0.add(acc1);
    }

    /**
     * e^x lane-wise for x ≤ 0 (and up to about 88), by the formula above: only IEEE-exact
     * operations, so the result does not depend on whether the code is compiled; −inf gives 0.
     * Shared with the element-wise kernels (GELU's erf, soft-cap's tanh) for the same reason.
     */
    static FloatVector exp(FloatVector x) {
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
        return poly.mul(scale).blend(0f, under);
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
