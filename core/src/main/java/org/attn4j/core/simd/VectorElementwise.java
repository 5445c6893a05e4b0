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
            FloatVector.fromArray(S, x, off + p).mul(inv).lanewise(VectorOperators.TANH).mul(cap).intoArray(x, off + p);
        }
        for (; p < n; p++) x[off + p] = (float) (cap * Math.tanh(x[off + p] * inv));
    }
}
