package org.attn4j.core.attention;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;

/**
 * Invariants of the gradients, on both backward kernels over random shapes (key counts on both
 * sides of the tiled kernel's 96-key blocks).
 *
 * <p>Where an invariant rearranges the fp32 sums of the tiled kernel, two results are compared at
 * C·(bound₁ + bound₂) + 2u·(|g₁| + |g₂|), each bound being {@link BackwardChecks#errorBounds} of its
 * own call (C as in {@link BackwardDifferentialTest}): each result lies within C·bound of the exact
 * gradient. The float64 reference rounds once to fp32 at the end, so its two results agree to
 * 2u·(|g₁| + |g₂|). Where nothing is rearranged (rows that do not interact), the bits must agree.
 */
class BackwardPropertiesTest {
    static final double C = BackwardDifferentialTest.C;

    static KernelChoice kernel(int pick) {
        return pick == 0 ? KernelChoice.REFERENCE : KernelChoice.FLASH;
    }

    /** Gradients of one call and, for the tiled kernel, their error bounds (null for the reference). */
    record Run(float[][] g, double[][] bound) {}

    static Run run(Tensor q, Tensor k, Tensor v, Tensor dOut, AttentionSpec spec) {
        AttentionResult fwd = Attention.sdpa(q, k, v, spec.toBuilder().returnLse(true).build());
        AttentionGradients g = Attention.backward(q, k, v, fwd.output(), fwd.lse(), dOut, spec);
        double[][] bound = spec.kernel() == KernelChoice.REFERENCE ? null : BackwardChecks.errorBounds(q, k, v, dOut, spec, fwd);
        return new Run(BackwardChecks.arrays(g), bound);
    }

    /** |a[i] − b[map[i]]| within the tolerance of the class comment; map null for the identity. */
    static void assertClose(String what, float[] a, double[] boundA, float[] b, double[] boundB, int[] map) {
        for (int i = 0; i < a.length; i++) {
            int j = map == null ? i : map[i];
            double tol = 2 * BackwardChecks.EPS32 * (Math.abs(a[i]) + Math.abs(b[j])) + BackwardChecks.UNDERFLOW;
            if (boundA != null) tol += C * (boundA[i] + boundB[j]);
            double diff = Math.abs((double) a[i] - b[j]);
            if (!(diff <= tol)) throw new AssertionError(what + " at " + i + ": " + a[i] + " vs " + b[j] + " (|diff| = " + diff + " > " + tol + ")");
        }
    }

    static int[] shuffle(Random r, int n) {
        int[] perm = new int[n];
        for (int j = 0; j < n; j++) perm[j] = j;
        for (int j = n - 1; j > 0; j--) {
            int x = r.nextInt(j + 1), t = perm[j];
            perm[j] = perm[x];
            perm[x] = t;
        }
        return perm;
    }

    /** Index maps of [rows, n, width] tensors whose axis 1 is permuted: result[(r·n + j)·w + x] = (r·n + perm[j])·w + x. */
    static int[] permutedIndex(int rows, int n, int width, int[] perm) {
        int[] map = new int[rows * n * width];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++)
                for (int x = 0; x < width; x++) map[(r * n + j) * width + x] = (r * n + perm[j]) * width + x;
        return map;
    }

    static Tensor permuteAxis(Tensor t, int rows, int n, int width, int[] perm) {
        float[] src = t.toArray(), dst = new float[src.length];
        int[] map = permutedIndex(rows, n, width, perm);
        for (int i = 0; i < dst.length; i++) dst[i] = src[map[i]];
        return Tensor.of(dst, t.shape());
    }

    /**
     * Permuting the keys — k, v and the key columns of the mask and the bias together — permutes
     * dK, dV and the key columns of dBias the same way and leaves dQ unchanged (no causal or
     * positional mask: those tie keys to positions).
     */
    @Property(tries = 25)
    void permutingKeysPermutesDkDvDbiasAndLeavesDqUnchanged(@ForAll long seed, @ForAll @IntRange(min = 1, max = 40) int nq,
                                                           @ForAll @IntRange(min = 1, max = 220) int nk,
                                                           @ForAll @IntRange(min = 1, max = 40) int d,
                                                           @ForAll @IntRange(min = 0, max = 1) int pick) {
        Random r = new Random(seed);
        int b = 1 + r.nextInt(2), hkv = 1 + r.nextInt(2), hq = hkv * (1 + r.nextInt(2)), dv = 1 + r.nextInt(24);
        Tensor q = Inputs.gaussian(r, 1f, b, hq, nq, d), k = Inputs.gaussian(r, 1f, b, hkv, nk, d);
        Tensor v = Inputs.gaussian(r, 1f, b, hkv, nk, dv), dOut = Inputs.gaussian(r, 1f, b, hq, nq, dv);
        BoolTensor mask = Inputs.mask(r, 0.8, nq, nk);
        Tensor bias = Inputs.gaussian(r, 1f, b, hq, nq, nk);
        int[] perm = shuffle(r, nk);
        boolean[] pm = new boolean[nq * nk];
        for (int i = 0; i < nq; i++) for (int j = 0; j < nk; j++) pm[i * nk + j] = mask.data()[i * nk + perm[j]];
        AttentionSpec.Builder s = AttentionSpec.builder().kernel(kernel(pick)).threads(2);
        if (r.nextBoolean()) s.softcap(4f + r.nextInt(10));
        AttentionSpec spec = s.mask(mask).bias(bias, true).build();
        AttentionSpec permuted = s.mask(BoolTensor.of(pm, nq, nk)).bias(permuteAxis(bias, b * hq * nq, nk, 1, perm), true).build();
        Run a = run(q, k, v, dOut, spec);
        Run p = run(q, permuteAxis(k, b * hkv, nk, d, perm), permuteAxis(v, b * hkv, nk, dv, perm), dOut, permuted);
        String what = spec.kernel() + " B=" + b + " Hq=" + hq + " Hkv=" + hkv + " Nq=" + nq + " Nk=" + nk + " D=" + d + " Dv=" + dv;
        assertClose(what + " dq", p.g()[0], bound(p, 0), a.g()[0], bound(a, 0), null);
        assertClose(what + " dk", p.g()[1], bound(p, 1), a.g()[1], bound(a, 1), permutedIndex(b * hkv, nk, d, perm));
        assertClose(what + " dv", p.g()[2], bound(p, 2), a.g()[2], bound(a, 2), permutedIndex(b * hkv, nk, dv, perm));
        assertClose(what + " dbias", p.g()[3], bound(p, 3), a.g()[3], bound(a, 3), permutedIndex(b * hq * nq, nk, 1, perm));
    }

    static double[] bound(Run r, int t) {
        return r.bound() == null ? null : r.bound()[t];
    }

    /**
     * dQ of query row i depends only on row i of q and dOut (and on k, v): redrawing another row
     * leaves row i's dQ bit-for-bit unchanged, under any mask.
     */
    @Property(tries = 25)
    void dqOfARowDependsOnlyOnThatRow(@ForAll long seed, @ForAll @IntRange(min = 2, max = 120) int nq,
                                      @ForAll @IntRange(min = 1, max = 220) int nk,
                                      @ForAll @IntRange(min = 1, max = 40) int d,
                                      @ForAll @IntRange(min = 0, max = 1) int pick) {
        Random r = new Random(seed);
        int hkv = 1 + r.nextInt(2), hq = hkv * (1 + r.nextInt(3)), dv = 1 + r.nextInt(24);
        Tensor q = Inputs.gaussian(r, 1f, 1, hq, nq, d), k = Inputs.gaussian(r, 1f, 1, hkv, nk, d);
        Tensor v = Inputs.gaussian(r, 1f, 1, hkv, nk, dv), dOut = Inputs.gaussian(r, 1f, 1, hq, nq, dv);
        AttentionSpec.Builder s = AttentionSpec.builder().kernel(kernel(pick)).threads(1 + r.nextInt(3));
        switch (r.nextInt(4)) {
            case 1 -> s.causal(CausalAlignment.BOTTOM_RIGHT);
            case 2 -> s.causal(CausalAlignment.TOP_LEFT).alibi(true);
            case 3 -> s.window(r.nextInt(nk), r.nextInt(nk)).bias(Inputs.gaussian(r, 1f, nq, nk));
            default -> { }
        }
        AttentionSpec spec = s.build();
        int row = r.nextInt(nq);
        Tensor q2 = BackwardChecks.copy(q), dOut2 = BackwardChecks.copy(dOut);
        for (int h = 0; h < hq; h++) {
            for (int x = 0; x < d; x++) q2.set((float) r.nextGaussian() * 3, 0, h, row, x);
            for (int x = 0; x < dv; x++) dOut2.set((float) r.nextGaussian() * 3, 0, h, row, x);
        }
        float[] a = run(q, k, v, dOut, spec).g()[0], c = run(q2, k, v, dOut2, spec).g()[0];
        for (int h = 0; h < hq; h++) {
            for (int i = 0; i < nq; i++) {
                if (i == row) continue;
                for (int x = 0; x < d; x++) {
                    int at = (h * nq + i) * d + x;
                    if (Float.floatToRawIntBits(a[at]) != Float.floatToRawIntBits(c[at])) {
                        throw new AssertionError(spec.kernel() + ": dq of head " + h + " row " + i + " changed when row " + row + " was redrawn: "
                                + a[at] + " vs " + c[at]);
                    }
                }
            }
        }
    }

    /**
     * Grouped-query attention has the gradients of the problem with each kv head repeated for its
     * query heads, dK and dV summed over each group.
     */
    @Property(tries = 25)
    void gqaEqualsRepeatedHeadsWithDkDvSummedOverTheGroup(@ForAll long seed, @ForAll @IntRange(min = 1, max = 60) int nq,
                                                         @ForAll @IntRange(min = 1, max = 220) int nk,
                                                         @ForAll @IntRange(min = 1, max = 40) int d,
                                                         @ForAll @IntRange(min = 1, max = 2) int hkv,
                                                         @ForAll @IntRange(min = 2, max = 4) int group,
                                                         @ForAll @IntRange(min = 0, max = 1) int pick) {
        Random r = new Random(seed);
        int hq = hkv * group, dv = 1 + r.nextInt(24), b = 1 + r.nextInt(2);
        Tensor q = Inputs.gaussian(r, 1f, b, hq, nq, d), k = Inputs.gaussian(r, 1f, b, hkv, nk, d);
        Tensor v = Inputs.gaussian(r, 1f, b, hkv, nk, dv), dOut = Inputs.gaussian(r, 1f, b, hq, nq, dv);
        Tensor kr = Tensor.zeros(b, hq, nk, d), vr = Tensor.zeros(b, hq, nk, dv);
        for (int bb = 0; bb < b; bb++)
            for (int h = 0; h < hq; h++)
                for (int j = 0; j < nk; j++) {
                    for (int x = 0; x < d; x++) kr.set(k.get(bb, h / group, j, x), bb, h, j, x);
                    for (int x = 0; x < dv; x++) vr.set(v.get(bb, h / group, j, x), bb, h, j, x);
                }
        AttentionSpec.Builder s = AttentionSpec.builder().kernel(kernel(pick)).threads(2);
        if (r.nextBoolean()) s.causal(CausalAlignment.BOTTOM_RIGHT);
        if (r.nextBoolean()) s.alibi(true).bias(Inputs.gaussian(r, 1f, 1, hq, nq, nk));
        AttentionSpec spec = s.build();
        Run g = run(q, k, v, dOut, spec), m = run(q, kr, vr, dOut, spec);
        String what = spec.kernel() + " B=" + b + " Hq=" + hq + " Hkv=" + hkv + " Nq=" + nq + " Nk=" + nk;
        assertClose(what + " dq", g.g()[0], bound(g, 0), m.g()[0], bound(m, 0), null);
        for (int t = 1; t <= 2; t++) {
            int width = t == 1 ? d : dv;
            float[] summed = new float[g.g()[t].length];
            double[] summedBound = g.bound() == null ? null : new double[summed.length];
            double[] sumAbs = new double[summed.length];
            for (int bb = 0; bb < b; bb++)
                for (int hk = 0; hk < hkv; hk++)
                    for (int e = 0; e < nk * width; e++) {
                        double sum = 0;
                        int at = (bb * hkv + hk) * nk * width + e;
                        for (int gg = 0; gg < group; gg++) {
                            int from = (bb * hq + hk * group + gg) * nk * width + e;
                            sum += m.g()[t][from];
                            sumAbs[at] += Math.abs(m.g()[t][from]);
                            if (summedBound != null) summedBound[at] += m.bound()[t][from];
                        }
                        summed[at] = (float) sum;
                    }
            // The repeated-heads results were rounded once per head before the sum: 2u·Σ|·| covers that.
            for (int e = 0; e < summed.length; e++) {
                double tol = 2 * BackwardChecks.EPS32 * (Math.abs(g.g()[t][e]) + sumAbs[e]) + BackwardChecks.UNDERFLOW;
                if (summedBound != null) tol += C * (g.bound()[t][e] + summedBound[e]);
                double diff = Math.abs((double) g.g()[t][e] - summed[e]);
                if (!(diff <= tol)) {
                    throw new AssertionError(what + " " + BackwardChecks.NAMES[t] + " at " + e + ": GQA " + g.g()[t][e] + " vs summed "
                            + summed[e] + " (|diff| = " + diff + " > " + tol + ")");
                }
            }
        }
    }

    /**
     * The gradients are linear in dOut: g(2·dO₁ + dO₂) = 2·g(dO₁) + g(dO₂). dO₁ and dO₂ are
     * multiples of 2^-12 below 4, so 2·dO₁ + dO₂ is exact in fp32.
     */
    @Property(tries = 25)
    void gradientsAreLinearInDOut(@ForAll long seed, @ForAll @IntRange(min = 1, max = 60) int nq,
                                  @ForAll @IntRange(min = 1, max = 220) int nk,
                                  @ForAll @IntRange(min = 1, max = 40) int d,
                                  @ForAll @IntRange(min = 0, max = 1) int pick) {
        Random r = new Random(seed);
        int hkv = 1 + r.nextInt(2), hq = hkv * (1 + r.nextInt(2)), dv = 1 + r.nextInt(24);
        Tensor q = Inputs.gaussian(r, 1f, 1, hq, nq, d), k = Inputs.gaussian(r, 1f, 1, hkv, nk, d);
        Tensor v = Inputs.gaussian(r, 1f, 1, hkv, nk, dv);
        Tensor d1 = BackwardChecks.quantised(r, 1, 1, hq, nq, dv), d2 = BackwardChecks.quantised(r, 1, 1, hq, nq, dv);
        float[] sum = new float[d1.data().length];
        for (int i = 0; i < sum.length; i++) sum[i] = 2 * d1.data()[i] + d2.data()[i];
        AttentionSpec.Builder s = AttentionSpec.builder().kernel(kernel(pick)).threads(2).bias(Inputs.gaussian(r, 1f, nq, nk), true);
        if (r.nextBoolean()) s.causal(CausalAlignment.TOP_LEFT).softcap(6f);
        AttentionSpec spec = s.build();
        Run g1 = run(q, k, v, d1, spec), g2 = run(q, k, v, d2, spec), gs = run(q, k, v, Tensor.of(sum, d1.shape()), spec);
        for (int t = 0; t < 4; t++) {
            float[] a = g1.g()[t], b = g2.g()[t], c = gs.g()[t];
            for (int e = 0; e < c.length; e++) {
                double expected = 2.0 * a[e] + b[e];
                double tol = 2 * BackwardChecks.EPS32 * (Math.abs(c[e]) + 2 * Math.abs(a[e]) + Math.abs(b[e])) + BackwardChecks.UNDERFLOW;
                if (g1.bound() != null) tol += C * (gs.bound()[t][e] + 2 * g1.bound()[t][e] + g2.bound()[t][e]);
                double diff = Math.abs(c[e] - expected);
                if (!(diff <= tol)) {
                    throw new AssertionError(spec.kernel() + " " + BackwardChecks.NAMES[t] + " at " + e + ": g(2·dO1 + dO2) = " + c[e]
                            + " vs 2·g(dO1) + g(dO2) = " + expected + " (|diff| = " + diff + " > " + tol + ")");
                }
            }
        }
    }
}
