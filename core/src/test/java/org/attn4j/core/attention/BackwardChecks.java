package org.attn4j.core.attention;

import java.util.Random;
import org.attn4j.core.kernel.ReferenceKernel;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Layout;
import org.attn4j.core.tensor.Tensor;

/**
 * Helpers for the tests of the backward pass: exactly representable inputs, strided copies,
 * central finite differences of the float64 reference forward, and a componentwise bound on the
 * fp32 error of a tiled backward (the tolerance of {@link BackwardDifferentialTest}).
 */
final class BackwardChecks {
    private BackwardChecks() {}

    /** Unit roundoff of fp32: half an ulp of 1. */
    static final double EPS32 = 0x1p-24;
    /** Grid of the quantised inputs. */
    static final double GRID = 0x1p-12;

    /**
     * Gaussian values clamped to ±3σ and rounded to multiples of 2^-12: every multiple of 2^-12 below
     * 2^12 in magnitude is exact in fp32, so x ± 2^-10 and x ± 2^-11 (finite-difference steps) are too.
     */
    static Tensor quantised(Random r, double sigma, int... shape) {
        float[] data = new float[Math.toIntExact(Layout.count(shape))];
        for (int i = 0; i < data.length; i++) data[i] = quantise(Math.max(-3, Math.min(3, r.nextGaussian())) * sigma);
        return Tensor.of(data, shape);
    }

    static float quantise(double x) {
        return (float) (Math.rint(x / GRID) * GRID);
    }

    /** Quantised Gaussian bias with a fraction {@code pNegInf} of −inf entries. */
    static Tensor bias(Random r, double sigma, double pNegInf, int... shape) {
        Tensor t = quantised(r, sigma, shape);
        float[] data = t.data();
        for (int i = 0; i < data.length; i++) if (r.nextDouble() < pNegInf) data[i] = Float.NEGATIVE_INFINITY;
        return t;
    }

    /** A copy of the rank-4 [B, H, N, D] tensor t stored as [B, N, H, D] and viewed through a permutation. */
    static Tensor strided(Tensor t) {
        int b = t.dim(0), h = t.dim(1), n = t.dim(2), d = t.dim(3);
        Tensor s = Tensor.zeros(b, n, h, d).permute(0, 2, 1, 3);
        for (int bb = 0; bb < b; bb++)
            for (int hh = 0; hh < h; hh++)
                for (int i = 0; i < n; i++)
                    for (int x = 0; x < d; x++) s.set(t.get(bb, hh, i, x), bb, hh, i, x);
        return s;
    }

    /** A copy of t (rank ≥ 2) stored with its last two axes swapped and viewed back through a permutation. */
    static Tensor transposedView(Tensor t) {
        int r = t.rank();
        int[] shape = t.shape(), stored = shape.clone(), axes = new int[r];
        stored[r - 2] = shape[r - 1];
        stored[r - 1] = shape[r - 2];
        for (int a = 0; a < r; a++) axes[a] = a;
        axes[r - 2] = r - 1;
        axes[r - 1] = r - 2;
        Tensor view = Tensor.zeros(stored).permute(axes);
        float[] src = t.toArray();
        int[] pos = positions(view);
        for (int i = 0; i < src.length; i++) view.data()[pos[i]] = src[i];
        return view;
    }

    /** A row-major copy. */
    static Tensor copy(Tensor t) {
        return Tensor.of(t.toArray(), t.shape());
    }

    /** {@code t} unchanged or as a strided copy. */
    static Tensor maybeStrided(Tensor t, boolean strided) {
        return strided ? strided(t) : t;
    }

    /** Flat positions (into {@code t.data()}) of the elements of t in row-major logical order. */
    static int[] positions(Tensor t) {
        int[] shape = t.shape();
        int n = Math.toIntExact(t.size());
        int[] pos = new int[n];
        int[] idx = new int[shape.length];
        for (int o = 0; o < n; o++) {
            pos[o] = t.layout().index(idx);
            for (int a = idx.length - 1; a >= 0; a--) {
                if (++idx[a] < shape[a]) break;
                idx[a] = 0;
            }
        }
        return pos;
    }

    /** L = Σ dO ∘ out in float64, the scalar loss whose gradients are checked ({@code out} row-major). */
    static double loss(Tensor q, Tensor k, Tensor v, AttentionSpec spec, float[] dO) {
        double[] out = ReferenceKernel.forward64(AttentionProblem.of(q, k, v, spec), 1);
        double l = 0;
        for (int i = 0; i < out.length; i++) l += dO[i] * out[i];
        return l;
    }

    /** Step of the central differences; half of it is taken too, for Richardson extrapolation. */
    static final float FD_STEP = 0x1p-10f;

    /**
     * ∂L/∂x for every element x of {@code target} (one of q, k, v or the spec's bias), in row-major
     * logical order: central differences at h and h/2 combined by Richardson extrapolation,
     * (4·D(h/2) − D(h))/3, whose truncation error is O(h⁴). The element is perturbed in place and
     * restored. A −inf bias entry stays −inf, so its derivative comes out as exactly 0.
     */
    static double[] finiteDifferences(Tensor target, Tensor q, Tensor k, Tensor v, AttentionSpec spec, float[] dO) {
        float[] data = target.data();
        int[] pos = positions(target);
        double[] grad = new double[pos.length];
        for (int e = 0; e < pos.length; e++) {
            float x = data[pos[e]];
            double[] central = new double[2];
            for (int s = 0; s < 2; s++) {
                float h = s == 0 ? FD_STEP : FD_STEP / 2;
                data[pos[e]] = x + h;
                double plus = loss(q, k, v, spec, dO);
                data[pos[e]] = x - h;
                double minus = loss(q, k, v, spec, dO);
                data[pos[e]] = x;
                central[s] = (plus - minus) / (2.0 * h);
            }
            grad[e] = (4 * central[1] - central[0]) / 3;
        }
        return grad;
    }

    /** The gradients of a backward call, row-major, in the order dq, dk, dv, dbias (null when absent). */
    static float[][] arrays(AttentionGradients g) {
        return new float[][] {g.dq().data(), g.dk().data(), g.dv().data(), g.dbias() == null ? null : g.dbias().data()};
    }

    static final String[] NAMES = {"dq", "dk", "dv", "dbias"};

    /** Every gradient finite (no NaN, no ±inf). */
    static void assertFinite(String what, AttentionGradients g) {
        float[][] all = arrays(g);
        for (int t = 0; t < all.length; t++) {
            if (all[t] == null) continue;
            for (int i = 0; i < all[t].length; i++) {
                if (!Float.isFinite(all[t][i])) throw new AssertionError(what + ": " + NAMES[t] + "[" + i + "] = " + all[t][i]);
            }
        }
    }

    /** Bit-for-bit equality of two gradient sets. */
    static void assertIdentical(String what, AttentionGradients expected, AttentionGradients actual) {
        float[][] e = arrays(expected), a = arrays(actual);
        for (int t = 0; t < e.length; t++) {
            if (e[t] == null && a[t] == null) continue;
            if (e[t] == null || a[t] == null) throw new AssertionError(what + ": " + NAMES[t] + " present in one result only");
            for (int i = 0; i < e[t].length; i++) {
                if (Float.floatToRawIntBits(e[t][i]) != Float.floatToRawIntBits(a[t][i])) {
                    throw new AssertionError(what + ": " + NAMES[t] + "[" + i + "] differs: " + e[t][i] + " vs " + a[t][i]);
                }
            }
        }
    }

    /**
     * Absolute floor of {@link #assertWithinBound}: an fp32 kernel loses probabilities below fp32's
     * normal range (2^-126 ≈ 1.2e-38) to underflow, where the float64 reference keeps them; their
     * contributions, P·|dP − D|·scale·|K or Q| summed over a few hundred keys, stay below
     * 2^-126·1e6 ≈ 1e-32 for these inputs.
     */
    static final double UNDERFLOW = 1e-30;

    /**
     * {@code |actual − expected| ≤ c·bound + 2·EPS32·|expected| + UNDERFLOW} element by element.
     * Reports the worst element.
     */
    static void assertWithinBound(String what, float[] expected, float[] actual, double[] bound, double c) {
        if (expected.length != actual.length || bound.length != expected.length) {
            throw new AssertionError(what + ": lengths " + expected.length + ", " + actual.length + ", " + bound.length);
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (Double.isNaN(a) || Double.isInfinite(a)) throw new AssertionError(what + ": " + a + " at " + i + " (expected " + e + ")");
            double excess = Math.abs(a - e) - (c * bound[i] + 2 * EPS32 * Math.abs(e) + UNDERFLOW);
            if (excess > 0 && (at < 0 || excess > worst)) {
                worst = excess;
                at = i;
            }
        }
        if (at >= 0) {
            throw new AssertionError(what + ": at " + at + " expected " + expected[at] + " got " + actual[at] + " (|diff| = "
                    + Math.abs(actual[at] - expected[at]) + ", allowed " + (c * bound[at] + 2 * EPS32 * Math.abs(expected[at]) + UNDERFLOW)
                    + " = " + c + " × error bound " + bound[at] + " + 2u·|expected| + " + UNDERFLOW + ")");
        }
    }

    /**
     * A componentwise first-order bound on the error of an fp32 backward in the FlashAttention-2
     * style (P recomputed from the saved fp32 lse, Dᵢ = dOᵢ·Oᵢ from the saved fp32 output), for the
     * given forward state {@code fwd} (output and lse of the kernel under test). Per gradient element
     * it is the sum of the magnitudes that fp32 rounding, and the forward's own error, can perturb:
     * <ul>
     *   <li>each recomputed Pᵢⱼ carries a relative error
     *       δᵢⱼ = uᵢ + u·(scale·Σ|qᵢ||kⱼ| + |ALiBi + bias| + |sᵢⱼ| + |log Pᵢⱼ| + 4) (the rounding of its logit,
     *       of the exponent's argument and of exp), where uᵢ = |lseᵢ − lse64ᵢ| + ulp(lseᵢ) + ulp(rowShiftᵢ) is the error of the saved lse (at
     *       logits of 1e4 an ulp of lse is 1e-3: no kernel that recomputes P from an fp32 lse avoids it);</li>
     *   <li>dSᵢⱼ = Pᵢⱼ(dPᵢⱼ − Dᵢ) then errs by Wᵢⱼ = u·Pᵢⱼ·(Σ|dOᵢ||Vⱼ| + Σ|dOᵢ||Oᵢ|) + Pᵢⱼ·Σ|dOᵢ||Oᵢ − O64ᵢ|
     *       + |dSᵢⱼ|·(u + δᵢⱼ) (+ |dSᵢⱼ|·u·|s₀|/cap through a soft-cap);</li>
     *   <li>dQᵢ ≤ scale·Σⱼ Wᵢⱼ|Kⱼ|, dKⱼ ≤ scale·Σᵢ Wᵢⱼ|Qᵢ|, dVⱼ ≤ Σᵢ Pᵢⱼ(u + δᵢⱼ)|dOᵢ|, dBias ≤ Σ Wᵢⱼ over
     *       the broadcast dimensions.</li>
     * </ul>
     * u is the fp32 unit roundoff; the length of the fp32 sums is left to the caller's constant.
     * Masked entries and rows that see no key have P = 0 and so a zero bound: there the kernel must
     * be exact. Returns {dq, dk, dv, dbias} (dbias null without a bias gradient), row-major.
     */
    static double[][] errorBounds(Tensor q, Tensor k, Tensor v, Tensor dOut, AttentionSpec spec, AttentionResult fwd) {
        AttentionProblem p = AttentionProblem.of(q, k, v, spec);
        AttentionResult ref = Attention.sdpa(q, k, v, spec.toBuilder().kernel(KernelChoice.REFERENCE).returnProbs(true).returnLse(true).build());
        int nb = p.batch, hq = p.qHeads, hkv = p.kvHeads, nq = p.nq, nk = p.nk, d = p.d, dv = p.dv, g = p.group;
        double scale = p.scale, u = EPS32, cap = spec.softcap();
        double[] dq = new double[nb * hq * nq * d], dk = new double[nb * hkv * nk * d], dvB = new double[nb * hkv * nk * dv];
        double[] dbias = null;
        Layout dbiasAt = null;
        if (spec.biasRequiresGrad()) {
            dbias = new double[Math.toIntExact(spec.bias().size())];
            dbiasAt = Layout.contiguous(spec.bias().shape()).broadcastTo(new int[] {nb, hq, nq, nk});
        }
        float[] probs = ref.probs().data(), oRef = ref.output().data(), lseRef = ref.lse().data();
        float[] oFwd = fwd.output().toArray(), lseFwd = fwd.lse().toArray();
        float[] qa = q.toArray(), ka = k.toArray(), va = v.toArray(), dOa = dOut.toArray();
        for (int b = 0; b < nb; b++) {
            for (int h = 0; h < hq; h++) {
                int hk = h / g, kvRow0 = (b * hkv + hk) * nk;
                for (int i = 0; i < nq; i++) {
                    int row = (b * hq + h) * nq + i, qo = row * d, oo = row * dv;
                    if (lseRef[row] == Float.NEGATIVE_INFINITY) continue;
                    double c = 0, dRow = 0, e = 0;
                    for (int x = 0; x < dv; x++) {
                        double go = dOa[oo + x], o = oRef[oo + x];
                        c += Math.abs(go * o);
                        dRow += go * o;
                        e += Math.abs(go) * Math.abs(oFwd[oo + x] - o);
                    }
                    double ui = Math.abs(lseFwd[row] - lseRef[row]) + Math.ulp(lseRef[row]) + Math.ulp(p.mask.rowShift(b, h, i));
                    for (int j = 0; j < nk; j++) {
                        double pij = probs[row * nk + j];
                        if (pij == 0) continue;
                        int ko = (kvRow0 + j) * d, vo = (kvRow0 + j) * dv;
                        double a = 0, dp = 0, sigma = 0, s0 = 0;
                        for (int x = 0; x < dv; x++) {
                            double t = (double) dOa[oo + x] * va[vo + x];
                            a += Math.abs(t);
                            dp += t;
                        }
                        for (int x = 0; x < d; x++) {
                            double t = (double) qa[qo + x] * ka[ko + x];
                            sigma += Math.abs(t);
                            s0 += t;
                        }
                        sigma *= scale;
                        s0 *= scale;
                        double added = Math.abs(p.mask.logit(b, h, i, j, 0.0)); // |ALiBi + bias|
                        double logit = Math.abs(p.mask.logit(b, h, i, j, s0));
                        double delta = ui + u * (sigma + added + logit + Math.abs(Math.log(pij)) + 4);
                        double ds = Math.abs(pij * (dp - dRow));
                        double w = u * pij * (a + c) + pij * e + ds * (u + delta) + (cap > 0 ? ds * u * sigma / cap : 0);
                        double sw = scale * w;
                        for (int x = 0; x < d; x++) {
                            dq[qo + x] += sw * Math.abs(ka[ko + x]);
                            dk[ko + x] += sw * Math.abs(qa[qo + x]);
                        }
                        double pv = pij * (u + delta);
                        for (int x = 0; x < dv; x++) dvB[vo + x] += pv * Math.abs(dOa[oo + x]);
                        if (dbias != null) {
                            dbias[dbiasAt.offset() + b * dbiasAt.stride(0) + h * dbiasAt.stride(1) + i * dbiasAt.stride(2)
                                    + j * dbiasAt.stride(3)] += w;
                        }
                    }
                }
            }
        }
        return new double[][] {dq, dk, dvB, dbias};
    }

    /** A random boolean mask with {@code pTrue} of its entries true. */
    static BoolTensor mask(Random r, double pTrue, int... shape) {
        boolean[] data = new boolean[Math.toIntExact(Layout.count(shape))];
        for (int i = 0; i < data.length; i++) data[i] = r.nextDouble() < pTrue;
        return BoolTensor.of(data, shape);
    }
}
