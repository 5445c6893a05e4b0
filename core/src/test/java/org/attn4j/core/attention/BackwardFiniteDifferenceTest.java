package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.attn4j.core.kernel.ReferenceKernel;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The reference backward against central finite differences of the float64 reference forward,
 * for L = Σ dO ∘ out with a random dO, on every input element of small problems: each mask form
 * alone and combined, GQA and MQA, Dv ≠ D, Nq = 1, Nq ≠ Nk, and dBias in full and broadcast shapes.
 *
 * <p>Tolerance: |g − fd| ≤ 1e-9 + 2^-23·|fd|. Inputs are multiples of 2^-12 below 4 in magnitude,
 * so x ± 2^-10 and x ± 2^-11 are exact in fp32 and the differences see exactly the perturbation
 * they divide by. Richardson's combination of the two central differences leaves a truncation
 * error of h⁴/480·|L⁽⁵⁾| ≈ 2e-15·|L⁽⁵⁾| (h = 2^-10), and L is a float64 sum of terms of order 1,
 * computed to ~1e-14, so float64 rounding contributes ~3·1e-14/h ≈ 3e-11: the finite differences
 * are good to ~1e-10 (beyond the fp32 rounding, the worst deviation observed over all cases is
 * 5e-12), hence the absolute 1e-9. The reference backward is exact in float64 and rounds each
 * gradient once to fp32, an error of at most 2^-24·|g|: the relative term allows twice that. A
 * wrong derivative anywhere (a dropped soft-cap factor, a missing scale, a sign) is off by far more.
 */
class BackwardFiniteDifferenceTest {
    static final double ATOL = 1e-9, RTOL = 0x1p-23;

    record Dims(int b, int hq, int hkv, int nq, int nk, int d, int dv) {}

    interface Setup { void apply(AttentionSpec.Builder s, Random r, Dims x); }

    record Case(String name, Dims dims, double qSigma, Setup setup) {
        @Override
        public String toString() {
            return name + " " + dims;
        }
    }

    static Case c(String name, int b, int hq, int hkv, int nq, int nk, int d, int dv, Setup setup) {
        return new Case(name, new Dims(b, hq, hkv, nq, nk, d, dv), 1.0, setup);
    }

    static Case c(String name, double qSigma, int b, int hq, int hkv, int nq, int nk, int d, int dv, Setup setup) {
        return new Case(name, new Dims(b, hq, hkv, nq, nk, d, dv), qSigma, setup);
    }

    /** A boolean mask with some rows all false (rows i ≡ 1 mod 3 of every other head/batch slice). */
    static BoolTensor maskWithEmptyRows(Random r, int... shape) {
        BoolTensor m = BackwardChecks.mask(r, 0.6, shape);
        boolean[] data = m.data();
        int nk = shape[shape.length - 1], rows = data.length / nk;
        for (int row = 0; row < rows; row += 3) Arrays.fill(data, row * nk, row * nk + nk, false);
        return m;
    }

    /** A bias [B, Hq, Nq, Nk] with a few −inf entries and one row of −inf only. */
    static Tensor biasWithNegInfRow(Random r, Dims x) {
        Tensor t = BackwardChecks.bias(r, 1.0, 0.15, x.b(), x.hq(), x.nq(), x.nk());
        for (int j = 0; j < x.nk(); j++) t.set(Float.NEGATIVE_INFINITY, 0, 0, 1 % x.nq(), j);
        return t;
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        cases.add(c("plain", 2, 2, 2, 5, 6, 4, 3, (s, r, x) -> { }));
        cases.add(c("causal top-left Nq<Nk", 1, 2, 2, 5, 7, 4, 4, (s, r, x) -> s.causal(CausalAlignment.TOP_LEFT)));
        cases.add(c("causal top-left Nq>Nk", 1, 2, 2, 7, 4, 3, 4, (s, r, x) -> s.causal(CausalAlignment.TOP_LEFT)));
        cases.add(c("causal bottom-right Nq<Nk", 2, 2, 1, 4, 7, 4, 3, (s, r, x) -> s.causal(CausalAlignment.BOTTOM_RIGHT)));
        cases.add(c("causal bottom-right Nq>Nk (empty rows)", 1, 2, 2, 7, 4, 4, 4, (s, r, x) -> s.causal(CausalAlignment.BOTTOM_RIGHT)));
        cases.add(c("window 1,1", 1, 2, 2, 6, 6, 4, 4, (s, r, x) -> s.window(1, 1)));
        cases.add(c("window 2,unbounded Nq<Nk", 1, 2, 2, 4, 7, 3, 3, (s, r, x) -> s.window(2, AttentionSpec.UNBOUNDED)));
        cases.add(c("window unbounded,0 Nq>Nk", 1, 2, 2, 7, 5, 3, 3, (s, r, x) -> s.window(AttentionSpec.UNBOUNDED, 0)));
        cases.add(c("kvLengths", 2, 2, 2, 5, 6, 4, 4, (s, r, x) -> s.kvLengths(3, 6)));
        cases.add(c("kvLengths with a zero", 2, 2, 2, 4, 5, 3, 3, (s, r, x) -> s.kvLengths(0, 4)));
        cases.add(c("qLengths", 2, 2, 2, 5, 6, 4, 4, (s, r, x) -> s.qLengths(4, 2)));
        cases.add(c("kvLengths qLengths causal bottom-right", 2, 2, 2, 6, 7, 4, 4,
                (s, r, x) -> s.kvLengths(5, 7).qLengths(3, 6).causal(CausalAlignment.BOTTOM_RIGHT)));
        cases.add(c("mask [B,Hq,Nq,Nk] with empty rows", 2, 2, 2, 5, 6, 4, 4,
                (s, r, x) -> s.mask(maskWithEmptyRows(r, x.b(), x.hq(), x.nq(), x.nk()))));
        cases.add(c("mask [Nq,Nk]", 1, 3, 3, 6, 5, 4, 4, (s, r, x) -> s.mask(BackwardChecks.mask(r, 0.7, x.nq(), x.nk()))));
        cases.add(c("bias with -inf, no gradient", 1, 2, 2, 5, 6, 4, 4, (s, r, x) -> s.bias(biasWithNegInfRow(r, x))));
        cases.add(c("dbias [B,Hq,Nq,Nk] with -inf", 2, 2, 2, 5, 6, 4, 4, (s, r, x) -> s.bias(biasWithNegInfRow(r, x), true)));
        cases.add(c("dbias [Nq,Nk]", 2, 2, 2, 5, 6, 4, 4, (s, r, x) -> s.bias(BackwardChecks.bias(r, 1, 0.1, x.nq(), x.nk()), true)));
        cases.add(c("dbias [1,Hq,1,Nk]", 2, 3, 3, 5, 6, 4, 4,
                (s, r, x) -> s.bias(BackwardChecks.bias(r, 1, 0, 1, x.hq(), 1, x.nk())).biasRequiresGrad(true)));
        cases.add(c("dbias [B,1,Nq,Nk]", 2, 2, 2, 5, 6, 4, 4, (s, r, x) -> s.bias(BackwardChecks.bias(r, 1, 0.1, x.b(), 1, x.nq(), x.nk()), true)));
        cases.add(c("dbias [Nk]", 2, 2, 2, 4, 6, 3, 3, (s, r, x) -> s.bias(BackwardChecks.bias(r, 1, 0, x.nk()), true)));
        cases.add(c("dbias [1,Hq,Nq,1]", 1, 2, 2, 5, 6, 3, 3, (s, r, x) -> s.bias(BackwardChecks.bias(r, 1, 0, 1, x.hq(), x.nq(), 1), true)));
        cases.add(c("dbias [Nq,Nk] GQA causal", 2, 4, 2, 5, 5, 3, 3,
                (s, r, x) -> s.bias(BackwardChecks.bias(r, 1, 0, x.nq(), x.nk()), true).causal(CausalAlignment.TOP_LEFT)));
        cases.add(c("alibi default slopes", 1, 4, 4, 5, 7, 3, 3, (s, r, x) -> s.alibi(true)));
        cases.add(c("alibi default slopes causal", 1, 2, 2, 6, 6, 3, 3, (s, r, x) -> s.alibi(true).causal(CausalAlignment.TOP_LEFT)));
        cases.add(c("alibi explicit slopes", 2, 3, 3, 5, 6, 3, 3, (s, r, x) -> s.alibiSlopes(0.75f, 0.25f, 1.5f)));
        cases.add(c("soft-cap", 2.0, 1, 2, 2, 5, 6, 5, 4, (s, r, x) -> s.softcap(1.5f)));
        cases.add(c("soft-cap with bias", 2.0, 1, 2, 2, 5, 6, 5, 4,
                (s, r, x) -> s.softcap(2.5f).bias(BackwardChecks.bias(r, 1, 0.1, x.nq(), x.nk()), true)));
        cases.add(c("custom scale 0.7", 1, 2, 2, 5, 6, 4, 4, (s, r, x) -> s.scale(0.7f)));
        cases.add(c("custom scale 1.9", 1, 2, 2, 5, 6, 4, 4, (s, r, x) -> s.scale(1.9f)));
        cases.add(c("GQA Hq=4 Hkv=2", 2, 4, 2, 5, 6, 4, 4, (s, r, x) -> { }));
        cases.add(c("MQA Hq=4 Hkv=1", 2, 4, 1, 5, 6, 4, 4, (s, r, x) -> s.causal(CausalAlignment.BOTTOM_RIGHT)));
        cases.add(c("Dv > D", 1, 2, 2, 5, 6, 2, 5, (s, r, x) -> { }));
        cases.add(c("Dv < D", 1, 2, 1, 5, 6, 5, 1, (s, r, x) -> { }));
        cases.add(c("D = 1", 1, 2, 2, 5, 6, 1, 3, (s, r, x) -> { }));
        cases.add(c("Nq = 1", 2, 2, 2, 1, 7, 4, 4, (s, r, x) -> { }));
        cases.add(c("Nq = 1 causal bottom-right kvLengths", 2, 4, 2, 1, 7, 4, 4,
                (s, r, x) -> s.causal(CausalAlignment.BOTTOM_RIGHT).kvLengths(4, 7)));
        cases.add(c("Nk = 1", 1, 2, 2, 5, 1, 3, 3, (s, r, x) -> { }));
        cases.add(c("combined GQA", 2.0, 2, 4, 2, 6, 7, 4, 3, (s, r, x) -> s
                .causal(CausalAlignment.BOTTOM_RIGHT).window(3, 1).kvLengths(7, 5).qLengths(6, 4)
                .mask(BackwardChecks.mask(r, 0.8, x.b(), 1, x.nq(), x.nk()))
                .bias(BackwardChecks.bias(r, 1, 0.1, x.b(), x.hq(), x.nq(), x.nk()), true)
                .alibi(true).softcap(3f).scale(0.6f)));
        cases.add(c("combined MQA", 2.0, 2, 4, 1, 5, 6, 3, 4, (s, r, x) -> s
                .causal(CausalAlignment.TOP_LEFT).window(AttentionSpec.UNBOUNDED, 2)
                .mask(BackwardChecks.mask(r, 0.75, x.nq(), x.nk()))
                .bias(BackwardChecks.bias(r, 1, 0.1, 1, x.hq(), 1, x.nk()), true)
                .alibiSlopes(0.5f, 0.125f, 1f, 0.25f).softcap(2f)));
        return cases;
    }

    @TestFactory
    Stream<DynamicTest> referenceBackwardMatchesFiniteDifferences() {
        List<Case> cases = cases();
        List<DynamicTest> tests = new ArrayList<>();
        for (int n = 0; n < cases.size(); n++) {
            Case c = cases.get(n);
            long seed = 1000 + n;
            tests.add(DynamicTest.dynamicTest(c.toString(), () -> check(c, seed)));
        }
        return tests.stream();
    }

    static void check(Case c, long seed) {
        Dims x = c.dims();
        Random r = new Random(seed);
        Tensor q = BackwardChecks.quantised(r, c.qSigma(), x.b(), x.hq(), x.nq(), x.d());
        Tensor k = BackwardChecks.quantised(r, 1, x.b(), x.hkv(), x.nk(), x.d());
        Tensor v = BackwardChecks.quantised(r, 1, x.b(), x.hkv(), x.nk(), x.dv());
        Tensor dOut = BackwardChecks.quantised(r, 1, x.b(), x.hq(), x.nq(), x.dv());
        AttentionSpec.Builder builder = AttentionSpec.builder();
        c.setup().apply(builder, r, x);
        AttentionSpec spec = builder.kernel(KernelChoice.REFERENCE).threads(1).build();

        // The function differentiated is the textbook one: an independent float64 forward agrees, up
        // to its use of the float64 default scale 1/√D and ALiBi slopes where the engine rounds them
        // to fp32 (a relative change of 2^-24 in a logit).
        double[] out64 = ReferenceKernel.forward64(AttentionProblem.of(q, k, v, spec), 1);
        double[] textbook = NaiveAttention.run(q, k, v, spec);
        for (int i = 0; i < out64.length; i++) {
            assertTrue(Math.abs(out64[i] - textbook[i]) <= 1e-6 * (1 + Math.abs(textbook[i])),
                    "forward64 " + out64[i] + " vs textbook " + textbook[i] + " at " + i);
        }

        ForwardBackward fb = Attention.forwardBackward(q, k, v, dOut, spec);
        AttentionGradients g = fb.gradients();
        assertEquals(KernelChoice.REFERENCE, g.dispatch().kernel());
        float[] dO = dOut.data();
        compare(c + ": dq", g.dq().data(), BackwardChecks.finiteDifferences(q, q, k, v, spec, dO));
        compare(c + ": dk", g.dk().data(), BackwardChecks.finiteDifferences(k, q, k, v, spec, dO));
        compare(c + ": dv", g.dv().data(), BackwardChecks.finiteDifferences(v, q, k, v, spec, dO));
        if (spec.biasRequiresGrad()) {
            assertEquals(Arrays.toString(spec.bias().shape()), Arrays.toString(g.dbias().shape()), "dbias has the bias's shape");
            compare(c + ": dbias", g.dbias().data(), BackwardChecks.finiteDifferences(spec.bias(), q, k, v, spec, dO));
        } else {
            assertNull(g.dbias(), "no bias gradient was requested");
        }
        // Not vacuous: every case has rows that see keys, so dv carries signal, and so does dq unless a
        // single key makes every softmax constant.
        assertTrue(maxAbs(g.dv().data()) > 1e-3 && (x.nk() == 1 || maxAbs(g.dq().data()) > 1e-3), c + ": gradients are (nearly) all zero");
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float x : a) m = Math.max(m, Math.abs(x));
        return m;
    }

    static void compare(String what, float[] got, double[] fd) {
        assertEquals(fd.length, got.length, what + " length");
        for (int i = 0; i < fd.length; i++) {
            double err = Math.abs(got[i] - fd[i]);
            if (!(err <= ATOL + RTOL * Math.abs(fd[i]))) {
                throw new AssertionError(what + "[" + i + "]: backward " + got[i] + ", finite differences " + fd[i] + " (|diff| = " + err
                        + " > " + ATOL + " + 2^-23·|fd|)");
            }
        }
    }
}
