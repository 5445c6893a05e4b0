package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Flash and split-KV decode against the float64 reference on randomised shapes and every mask
 * kind, at |out − ref| ≤ 1e-5 + 1e-5·|ref|.
 */
class KernelDifferentialTest {
    static final double ATOL = 1e-5, RTOL = 1e-5;
    static final int[] N = {1, 7, 63, 64, 65, 257, 1000};
    static final int[] DIMS = {1, 8, 31, 64, 80, 128};
    static final int[][] HEADS = {{1, 1}, {4, 4}, {8, 2}, {8, 1}};
    /** Upper bound on B·Hq·Nq·Nk·(D+Dv) per case so the float64 oracle stays quick. */
    static final double COST_CAP = 1.5e8;

    record Case(int seed, int b, int hq, int hkv, int nq, int nk, int d, int dv, AttentionSpec spec, boolean strided,
                boolean extreme, String label) {
        @Override
        public String toString() {
            return "seed=" + seed + " B=" + b + " Hq=" + hq + " Hkv=" + hkv + " Nq=" + nq + " Nk=" + nk + " D=" + d + " Dv=" + dv + " " + label;
        }
    }

    @TestFactory
    Stream<DynamicTest> flashAndDecodeMatchReference() {
        List<Case> cases = new ArrayList<>();
        for (int seed = 1; cases.size() < 170; seed++) {
            Case c = randomCase(seed);
            if (c != null) cases.add(c);
        }
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.toString(), () -> check(c)));
    }

    static Case randomCase(int seed) {
        Random r = new Random(seed * 7919L);
        int b = 1 + r.nextInt(3);
        int[] heads = HEADS[r.nextInt(HEADS.length)];
        int nq = N[r.nextInt(N.length)], nk = N[r.nextInt(N.length)];
        int d = DIMS[r.nextInt(DIMS.length)], dv = DIMS[r.nextInt(DIMS.length)];
        // Keep the oracle fast: shrink batch and heads on the largest shapes rather than skip them.
        while ((double) b * heads[0] * nq * nk * (d + dv) > COST_CAP && (b > 1 || heads[0] > 1)) {
            if (b > 1) b--;
            else heads = new int[] {1, 1};
        }
        if ((double) b * heads[0] * nq * nk * (d + dv) > COST_CAP) return null;
        boolean extreme = r.nextInt(8) == 0;
        AttentionSpec.Builder s = AttentionSpec.builder();
        List<String> label = new ArrayList<>();
        int hq = heads[0];
        switch (r.nextInt(4)) {
            case 1 -> { s.causal(CausalAlignment.TOP_LEFT); label.add("causal=top-left"); }
            case 2 -> { s.causal(CausalAlignment.BOTTOM_RIGHT); label.add("causal=bottom-right"); }
            default -> { }
        }
        if (r.nextInt(4) == 0) {
            int left = r.nextInt(3) == 0 ? AttentionSpec.UNBOUNDED : r.nextInt(Math.max(1, nk));
            int right = r.nextInt(3) == 0 ? AttentionSpec.UNBOUNDED : r.nextInt(Math.max(1, nk / 2 + 1));
            s.window(left, right);
            label.add("window=" + left + "," + right);
        }
        if (r.nextInt(4) == 0) {
            int[] len = new int[b];
            for (int i = 0; i < b; i++) len[i] = r.nextInt(5) == 0 ? 0 : 1 + r.nextInt(nk);
            s.kvLengths(len);
            label.add("kvLengths");
            if (r.nextBoolean()) {
                int[] ql = new int[b];
                for (int i = 0; i < b; i++) ql[i] = r.nextInt(nq + 1);
                s.qLengths(ql);
                label.add("qLengths");
            }
        }
        Random mr = new Random(seed * 31L + 5);
        if (r.nextInt(4) == 0) {
            int[][] shapes = {{b, hq, nq, nk}, {nq, nk}, {b, 1, 1, nk}, {1, hq, nq, 1}, {nk}};
            int[] shape = shapes[r.nextInt(shapes.length)];
            BoolTensor m = Inputs.mask(mr, 0.75, shape);
            s.mask(m);
            label.add("mask" + java.util.Arrays.toString(shape));
        }
        if (r.nextInt(4) == 0) {
            int[][] shapes = {{b, hq, nq, nk}, {nq, nk}, {1, hq, 1, nk}};
            int[] shape = shapes[r.nextInt(shapes.length)];
            Tensor bias = Inputs.gaussian(mr, 2f, shape);
            if (extreme) roundToIntegers(bias); // exact at logit magnitude 1e4 too
            if (r.nextBoolean()) {
                float[] data = bias.data();
                for (int i = 0; i < data.length; i++) if (mr.nextInt(10) == 0) data[i] = Float.NEGATIVE_INFINITY;
            }
            s.bias(bias);
            label.add("bias" + java.util.Arrays.toString(shape));
        }
        if (r.nextInt(5) == 0) { s.alibi(true); label.add("alibi"); }
        if (r.nextInt(5) == 0) { s.softcap(5f + r.nextInt(30)); label.add("softcap"); }
        if (r.nextInt(6) == 0) { s.scale(0.05f + r.nextFloat()); label.add("scale"); }
        if (extreme) {
            // Logits of order ±1e4. Inputs are small integers and the scale a power of two, so every
            // logit is exact in fp32 as in float64: what is tested is the softmax's stability at that
            // magnitude (no overflow, no NaN, exact max handling), not the conditioning of a fp32 dot
            // product of 1e4-sized terms, whose rounding (~1e-3 absolute) no fp32 kernel can avoid.
            // Rounding the scale down keeps |logit| < 2^15, so ALiBi's 2^-8 steps stay exact as well.
            double sigmaLogit = EXTREME_Q * EXTREME_K * Math.sqrt(d);
            s.scale((float) Math.pow(2, Math.floor(Math.log(1e4 / (4 * sigmaLogit)) / Math.log(2))));
            label.add("extreme-logits");
        }
        boolean strided = r.nextInt(5) == 0;
        if (strided) label.add("strided");
        return new Case(seed, b, hq, heads[1], nq, nk, d, dv, s.returnLse(true).build(), strided, extreme, String.join(" ", label));
    }

    static final float EXTREME_Q = 60f, EXTREME_K = 3f;

    static void roundToIntegers(Tensor t) {
        float[] data = t.data();
        for (int i = 0; i < data.length; i++) if (Float.isFinite(data[i])) data[i] = Math.round(data[i]);
    }

    static Tensor input(Random r, Case c, float sigma, int h, int n, int d) {
        Tensor t = c.strided ? Inputs.gaussianStrided(r, sigma, c.b, h, n, d) : Inputs.gaussian(r, sigma, c.b, h, n, d);
        if (c.extreme) roundToIntegers(t);
        return t;
    }

    static void check(Case c) {
        Random r = new Random(c.seed);
        Tensor q = input(r, c, c.extreme ? EXTREME_Q : 1f, c.hq, c.nq, c.d);
        Tensor k = input(r, c, c.extreme ? EXTREME_K : 1f, c.hkv, c.nk, c.d);
        Tensor v = input(r, c, 1f, c.hkv, c.nk, c.dv);
        AttentionResult ref = Attention.sdpa(q, k, v, c.spec.toBuilder().kernel(KernelChoice.REFERENCE).build());
        for (KernelChoice kernel : new KernelChoice[] {KernelChoice.FLASH, KernelChoice.DECODE}) {
            for (int threads : new int[] {1, 2}) {
                AttentionResult got = Attention.sdpa(q, k, v, c.spec.toBuilder().kernel(kernel).threads(threads).build());
                assertEquals(kernel, got.dispatch().kernel());
                Inputs.assertClose(c + ": " + kernel + " output, " + threads + " thread(s)", ref.output().data(), got.output().data(), ATOL, RTOL);
                Inputs.assertClose(c + ": " + kernel + " lse, " + threads + " thread(s)", ref.lse().data(), got.lse().data(), ATOL, RTOL);
            }
        }
    }

    /** The reference kernel itself against a second oracle written straight from the definitions. */
    @TestFactory
    Stream<DynamicTest> referenceMatchesTextbookDefinition() {
        List<DynamicTest> tests = new ArrayList<>();
        for (int seed = 1000; tests.size() < 60; seed++) {
            Case c = randomCase(seed);
            if (c == null || (double) c.b * c.hq * c.nq * c.nk * (c.d + c.dv) > 4e6) continue;
            tests.add(DynamicTest.dynamicTest(c.toString(), () -> {
                Random r = new Random(c.seed);
                Tensor q = input(r, c, c.extreme ? EXTREME_Q : 1f, c.hq, c.nq, c.d);
                Tensor k = input(r, c, c.extreme ? EXTREME_K : 1f, c.hkv, c.nk, c.d);
                Tensor v = input(r, c, 1f, c.hkv, c.nk, c.dv);
                double[] expected = NaiveAttention.run(q, k, v, c.spec);
                float[] exp32 = new float[expected.length];
                for (int i = 0; i < expected.length; i++) exp32[i] = (float) expected[i];
                float[] got = Attention.sdpa(q, k, v, c.spec.toBuilder().kernel(KernelChoice.REFERENCE).build()).output().data();
                Inputs.assertClose("reference vs textbook", exp32, got, 1e-6, 1e-6);
            }));
        }
        return tests.stream();
    }

    @Test
    void fullyMaskedRowsGiveZerosAndMinusInfinityNeverNaN() {
        Random r = new Random(3);
        int b = 2, h = 4, nq = 70, nk = 300, d = 31;
        Tensor q = Inputs.gaussian(r, 1f, b, h, nq, d);
        Tensor k = Inputs.gaussian(r, 1f, b, 2, nk, d);
        Tensor v = Inputs.gaussian(r, 1f, b, 2, nk, d);
        boolean[] m = new boolean[nq * nk];
        for (int i = 0; i < nq; i++) for (int j = 0; j < nk; j++) m[i * nk + j] = i % 3 != 0 && (j + i) % 5 != 0;
        List<AttentionSpec> specs = List.of(
                AttentionSpec.builder().mask(BoolTensor.of(m, nq, nk)).build(),
                AttentionSpec.builder().kvLengths(0, 17).build(),
                AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).kvLengths(5, 300).qLengths(70, 70).build(),
                AttentionSpec.builder().window(0, 0).kvLengths(300, 10).build());
        for (AttentionSpec spec : specs) {
            AttentionResult ref = Attention.sdpa(q, k, v, spec.toBuilder().kernel(KernelChoice.REFERENCE).returnLse(true).build());
            int emptyRows = 0;
            for (float x : ref.lse().data()) if (x == Float.NEGATIVE_INFINITY) emptyRows++;
            assertTrue(emptyRows > 0, "the spec must produce fully masked rows");
            for (KernelChoice kc : new KernelChoice[] {KernelChoice.FLASH, KernelChoice.DECODE}) {
                AttentionResult got = Attention.sdpa(q, k, v, spec.toBuilder().kernel(kc).returnLse(true).build());
                float[] out = got.output().data(), lse = got.lse().data();
                for (int row = 0; row < lse.length; row++) {
                    if (ref.lse().data()[row] == Float.NEGATIVE_INFINITY) {
                        assertEquals(Float.NEGATIVE_INFINITY, lse[row], kc + " lse of empty row " + row);
                        for (int x = 0; x < d; x++) assertEquals(0f, out[row * d + x], kc + " output of empty row " + row);
                    }
                }
                Inputs.assertClose(kc + " output", ref.output().data(), out, ATOL, RTOL);
            }
        }
    }

    @Test
    void singleQueryAgainstManyKeysSplitsAndMatches() {
        Random r = new Random(11);
        Tensor q = Inputs.gaussian(r, 1f, 1, 8, 1, 128);
        Tensor k = Inputs.gaussian(r, 1f, 1, 2, 5000, 128);
        Tensor v = Inputs.gaussian(r, 1f, 1, 2, 5000, 128);
        AttentionSpec spec = AttentionSpec.builder().returnLse(true).threads(2).build();
        AttentionResult auto = Attention.sdpa(q, k, v, spec);
        assertEquals(KernelChoice.DECODE, auto.dispatch().kernel(), auto.dispatch().explain());
        assertTrue(auto.dispatch().splits() > 1);
        AttentionResult ref = Attention.sdpa(q, k, v, spec.toBuilder().kernel(KernelChoice.REFERENCE).build());
        Inputs.assertClose("decode", ref.output().data(), auto.output().data(), ATOL, RTOL);
        Inputs.assertClose("decode lse", ref.lse().data(), auto.lse().data(), ATOL, RTOL);
    }
}
