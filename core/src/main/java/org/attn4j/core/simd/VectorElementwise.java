package org.attn4j.core.simd;

import static org.attn4j.core.simd.Lanes.L;
import static org.attn4j.core.simd.Lanes.S;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Vector API element-wise kernels: erf-GELU, residual + LayerNorm, scaling and soft-capping.
 * Called through {@link VectorMicroKernels}.
 */
final class VectorElementwise {
    private VectorElementwise() {}

    static void gelu(float[] x, int off, int n) {
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
            FloatVector e = VectorSoftmax.exp(az.mul(az).neg());
            FloatVector erfAbs = one.sub(poly.mul(e));
            FloatVector erf = erfAbs.blend(erfAbs.neg(), z.lt(0f));
            half.mul(v).mul(one.add(erf)).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            double v = x[off + i];
            x[off + i] = (float) (0.5 * v * (1 + Erf.erf(v * Erf.INV_SQRT2)));
        }
    }

    static void addLayerNorm(float[] x, int off, float[] r, int rOff, int n, float[] gamma, float[] beta, float eps) {
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

    static void scale(float[] x, int off, int n, float alpha) {
        int p = 0;
        for (int bound = S.loopBound(n); p < bound; p += L) {
            FloatVector.fromArray(S, x, off + p).mul(alpha).intoArray(x, off + p);
        }
        for (; p < n; p++) x[off + p] *= alpha;
    }

    static void softcap(float[] x, int off, int n, float cap) {
        float inv = 1f / cap;
        int p = 0;
        for (int bound = S.loopBound(n); p < bound; p += L) {
            tanh(FloatVector.fromArray(S, x, off + p).mul(inv)).mul(cap).intoArray(x, off + p);
        }
        for (; p < n; p++) x[off + p] = cap * tanhScalar(x[off + p] * inv);
    }

    // tanh for the soft-cap, written with IEEE-exact operations only (fma, mul, div, compare), so that
    // compiled and interpreted code agree bit for bit: lanewise(TANH) does not (its intrinsic and its
    // Java fallback differ by an ulp in ~1 % of lanes), which made soft-capped attention change from
    // call to call while the JIT warmed up. Cephes' tanhf: below |y| = 0.625 an odd polynomial
    // y + y·z·P(z), z = y²; above, (1 − e)/(1 + e) with e = e^(−2|y|) and the sign of y. ~2 ulp.
    private static final float TANH_SMALL = 0.625f;
    private static final float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f,
            T3 = 1.33314422036e-1f, T4 = -3.33332819422e-1f;

    static FloatVector tanh(FloatVector y) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector z = y.mul(y);
        FloatVector poly = z.fma(FloatVector.broadcast(S, T0), FloatVector.broadcast(S, T1)).fma(z, FloatVector.broadcast(S, T2))
                .fma(z, FloatVector.broadcast(S, T3)).fma(z, FloatVector.broadcast(S, T4));
        FloatVector small = poly.mul(z).fma(y, y);
        FloatVector a = y.abs();
        FloatVector e = VectorSoftmax.exp(a.mul(-2f));
        FloatVector big = one.sub(e).div(one.add(e));
        big = big.blend(big.neg(), y.lt(0f));
        return small.blend(big, a.compare(VectorOperators.GE, TANH_SMALL));
    }

    /** The same formula in scalar code, for tails: bit-identical to a lane of {@link #tanh}. */
    static float tanhScalar(float y) {
        float a = Math.abs(y);
        if (a >= TANH_SMALL) {
            float e = VectorSoftmax.expScalar(a * -2f);
            float big = (1f - e) / (1f + e);
            return y < 0f ? -big : big;
        }
        float z = y * y;
        float poly = Math.fma(Math.fma(Math.fma(Math.fma(z, T0, T1), z, T2), z, T3), z, T4);
        return Math.fma(poly * z, y, y);
    }
}
