package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * Where the true gradient is zero, both backward kernels return exactly zero, never NaN: rows
 * that see no key (all-false mask row, all −inf bias row, a band emptied by the window, causal
 * alignment or lengths), padded query rows, keys beyond kvLengths, −inf bias entries. And what
 * the forward ignores, the backward ignores too: changing the inputs of such rows or keys leaves
 * every other gradient bit-for-bit unchanged.
 */
class BackwardZerosTest {
    static final int B = 2, HQ = 4, HKV = 2, NQ = 70, NK = 200, D = 16, DV = 12;
    static final KernelChoice[] KERNELS = {KernelChoice.REFERENCE, KernelChoice.FLASH};

    final Random rnd = new Random(5);
    final Tensor q = Inputs.gaussian(rnd, 1f, B, HQ, NQ, D);
    final Tensor k = Inputs.gaussian(rnd, 1f, B, HKV, NK, D);
    final Tensor v = Inputs.gaussian(rnd, 1f, B, HKV, NK, DV);
    final Tensor dOut = Inputs.gaussian(rnd, 1f, B, HQ, NQ, DV);

    static AttentionGradients run(Tensor q, Tensor k, Tensor v, Tensor dOut, AttentionSpec spec, KernelChoice kernel) {
        ForwardBackward fb = Attention.forwardBackward(q, k, v, dOut, spec.toBuilder().kernel(kernel).threads(2).build());
        assertEquals(kernel, fb.gradients().dispatch().kernel());
        return fb.gradients();
    }

    /** Rows (b, h, i flattened) that see no key, from the reference forward's lse. */
    boolean[] emptyRows(AttentionSpec spec) {
        float[] lse = Attention.sdpa(q, k, v, spec.toBuilder().kernel(KernelChoice.REFERENCE).returnLse(true).build()).lse().data();
        boolean[] empty = new boolean[lse.length];
        for (int row = 0; row < lse.length; row++) empty[row] = lse[row] == Float.NEGATIVE_INFINITY;
        return empty;
    }

    /** A copy of the [B, H, N, X] tensor t with the rows marked in {@code rows} (flattened b, h, n) redrawn, larger. */
    static Tensor redraw(Tensor t, boolean[] rows, Random r) {
        Tensor c = BackwardChecks.copy(t);
        int x = t.dim(3);
        float[] data = c.data();
        for (int row = 0; row < rows.length; row++) {
            if (!rows[row]) continue;
            for (int e = 0; e < x; e++) data[row * x + e] = (float) (r.nextGaussian() * 30);
        }
        return c;
    }

    static void assertZeroRows(String what, float[] g, boolean[] rows, int width) {
        for (int row = 0; row < rows.length; row++) {
            if (!rows[row]) continue;
            for (int e = 0; e < width; e++) {
                float x = g[row * width + e];
                if (x != 0f) throw new AssertionError(what + ": row " + row + " element " + e + " is " + x + ", expected exactly 0");
            }
        }
    }

    static void assertSameRows(String what, float[] expected, float[] actual, boolean[] skip, int width) {
        for (int row = 0; row < skip.length; row++) {
            if (skip[row]) continue;
            for (int e = 0; e < width; e++) {
                int at = row * width + e;
                if (Float.floatToRawIntBits(expected[at]) != Float.floatToRawIntBits(actual[at])) {
                    throw new AssertionError(what + ": row " + row + " element " + e + " changed: " + expected[at] + " -> " + actual[at]);
                }
            }
        }
    }

    static void assertSame(String what, float[] expected, float[] actual) {
        assertSameRows(what, expected, actual, new boolean[expected.length], 1);
    }

    static BoolTensor maskWithEmptyRows() {
        boolean[] m = new boolean[NQ * NK];
        for (int i = 0; i < NQ; i++) for (int j = 0; j < NK; j++) m[i * NK + j] = i % 3 != 0 && (i + j) % 5 != 0;
        return BoolTensor.of(m, NQ, NK);
    }

    /** A bias [B, Hq, Nq, Nk] whose rows i ≡ 2 (mod 7) are −inf only, with a few more −inf entries elsewhere. */
    static Tensor biasWithEmptyRows(Random r) {
        Tensor bias = Inputs.gaussian(r, 1f, B, HQ, NQ, NK);
        float[] data = bias.data();
        for (int row = 0; row < B * HQ * NQ; row++) {
            boolean empty = row % NQ % 7 == 2;
            for (int j = 0; j < NK; j++) if (empty || r.nextInt(9) == 0) data[row * NK + j] = Float.NEGATIVE_INFINITY;
        }
        return bias;
    }

    @TestFactory
    Stream<DynamicTest> rowsThatSeeNoKeyGetExactlyZeroGradientsAndContributeNothing() {
        List<AttentionSpec> specs = List.of(
                AttentionSpec.builder().mask(maskWithEmptyRows()).build(),
                AttentionSpec.builder().bias(biasWithEmptyRows(new Random(1)), true).build(),
                AttentionSpec.builder().kvLengths(0, 17).build(),
                AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).kvLengths(5, 200).qLengths(70, 70).build(),
                AttentionSpec.builder().window(0, 0).kvLengths(200, 10).build(),
                AttentionSpec.builder().window(3, 1).causal(CausalAlignment.BOTTOM_RIGHT).kvLengths(40, 200).qLengths(70, 60).build(),
                AttentionSpec.builder().mask(maskWithEmptyRows()).alibi(true).softcap(4f).build(),
                AttentionSpec.builder().bias(biasWithEmptyRows(new Random(2)), true).alibi(true).softcap(3f).causal(CausalAlignment.TOP_LEFT).build());
        return specs.stream().map(spec -> DynamicTest.dynamicTest(label(spec), () -> checkRowsThatSeeNoKey(spec)));
    }

    void checkRowsThatSeeNoKey(AttentionSpec spec) {
        Random r = new Random(9);
        boolean[] empty = emptyRows(spec);
        int count = 0;
        for (boolean e : empty) if (e) count++;
        assertTrue(count > 0 && count < empty.length, "the spec must produce some, not only, rows that see no key");
        Tensor q2 = redraw(q, empty, r), dOut2 = redraw(dOut, empty, r);
        for (KernelChoice kernel : KERNELS) {
            String what = kernel + " " + label(spec);
            AttentionGradients g = run(q, k, v, dOut, spec, kernel);
            BackwardChecks.assertFinite(what, g);
            assertZeroRows(what + " dq", g.dq().data(), empty, D);
            if (g.dbias() != null) assertZeroRows(what + " dbias", g.dbias().data(), empty, NK);
            // Other inputs in those rows change nothing else, bit for bit.
            AttentionGradients g2 = run(q2, k, v, dOut2, spec, kernel);
            assertZeroRows(what + " dq (redrawn rows)", g2.dq().data(), empty, D);
            assertSameRows(what + " dq of rows that see keys", g.dq().data(), g2.dq().data(), empty, D);
            assertSame(what + " dk", g.dk().data(), g2.dk().data());
            assertSame(what + " dv", g.dv().data(), g2.dv().data());
            if (g.dbias() != null) assertSame(what + " dbias", g.dbias().data(), g2.dbias().data());
        }
    }

    @Test
    void paddedQueryRowsGetExactlyZeroDq() {
        AttentionSpec spec = AttentionSpec.builder().qLengths(37, 70).causal(CausalAlignment.BOTTOM_RIGHT)
                .bias(Inputs.gaussian(new Random(3), 1f, 1, HQ, NQ, NK), true).build();
        boolean[] padded = new boolean[B * HQ * NQ];
        for (int h = 0; h < HQ; h++) for (int i = 37; i < NQ; i++) padded[h * NQ + i] = true;
        Tensor q2 = redraw(q, padded, new Random(4)), dOut2 = redraw(dOut, padded, new Random(5));
        for (KernelChoice kernel : KERNELS) {
            AttentionGradients g = run(q, k, v, dOut, spec, kernel);
            BackwardChecks.assertFinite(kernel.toString(), g);
            assertZeroRows(kernel + " dq of padded rows", g.dq().data(), padded, D);
            AttentionGradients g2 = run(q2, k, v, dOut2, spec, kernel);
            assertZeroRows(kernel + " dq of redrawn padded rows", g2.dq().data(), padded, D);
            assertSameRows(kernel + " dq of valid rows", g.dq().data(), g2.dq().data(), padded, D);
            assertSame(kernel + " dk", g.dk().data(), g2.dk().data());
            assertSame(kernel + " dv", g.dv().data(), g2.dv().data());
            assertSame(kernel + " dbias", g.dbias().data(), g2.dbias().data());
        }
    }

    @Test
    void keysBeyondKvLengthsGetExactlyZeroDkDv() {
        int[] len = {150, 61};
        AttentionSpec spec = AttentionSpec.builder().kvLengths(len).window(AttentionSpec.UNBOUNDED, 20).softcap(6f).build();
        boolean[] padded = new boolean[B * HKV * NK];
        for (int b = 0; b < B; b++) for (int h = 0; h < HKV; h++) for (int j = len[b]; j < NK; j++) padded[(b * HKV + h) * NK + j] = true;
        Tensor k2 = redraw(k, padded, new Random(6)), v2 = redraw(v, padded, new Random(7));
        for (KernelChoice kernel : KERNELS) {
            AttentionGradients g = run(q, k, v, dOut, spec, kernel);
            BackwardChecks.assertFinite(kernel.toString(), g);
            assertZeroRows(kernel + " dk of padded keys", g.dk().data(), padded, D);
            assertZeroRows(kernel + " dv of padded keys", g.dv().data(), padded, DV);
            AttentionGradients g2 = run(q, k2, v2, dOut, spec, kernel);
            assertZeroRows(kernel + " dk of redrawn padded keys", g2.dk().data(), padded, D);
            assertZeroRows(kernel + " dv of redrawn padded keys", g2.dv().data(), padded, DV);
            assertSame(kernel + " dq", g.dq().data(), g2.dq().data());
            assertSameRows(kernel + " dk of valid keys", g.dk().data(), g2.dk().data(), padded, D);
            assertSameRows(kernel + " dv of valid keys", g.dv().data(), g2.dv().data(), padded, DV);
        }
    }

    @Test
    void negInfBiasEntriesMaskedEntriesAndEntriesOutsideTheBandGetExactlyZeroDbias() {
        Random r = new Random(8);
        Tensor full = Inputs.gaussian(r, 1f, B, HQ, NQ, NK);
        Tensor shared = Inputs.gaussian(r, 1f, NQ, NK);
        for (Tensor bias : new Tensor[] {full, shared}) {
            float[] data = bias.data();
            for (int x = 0; x < data.length; x++) if (r.nextInt(6) == 0) data[x] = Float.NEGATIVE_INFINITY;
        }
        BoolTensor mask = Inputs.mask(r, 0.8, B, HQ, NQ, NK);
        List<AttentionSpec> specs = List.of(
                AttentionSpec.builder().bias(full, true).build(),
                AttentionSpec.builder().bias(full, true).mask(mask).causal(CausalAlignment.TOP_LEFT).alibi(true).build(),
                AttentionSpec.builder().bias(shared, true).softcap(5f).build());
        for (AttentionSpec spec : specs) {
            float[] bias = spec.bias().data();
            boolean fullShape = spec.bias().rank() == 4;
            for (KernelChoice kernel : KERNELS) {
                AttentionGradients g = run(q, k, v, dOut, spec, kernel);
                BackwardChecks.assertFinite(kernel.toString(), g);
                float[] dbias = g.dbias().data();
                int nonZero = 0;
                for (int x = 0; x < dbias.length; x++) {
                    boolean zero = bias[x] == Float.NEGATIVE_INFINITY;
                    if (fullShape && spec.mask() != null) {
                        int j = x % NK, i = x / NK % NQ;
                        zero |= !spec.mask().data()[x] || j > i;
                    }
                    if (zero && dbias[x] != 0f) {
                        throw new AssertionError(kernel + " " + label(spec) + ": dbias[" + x + "] = " + dbias[x] + " at a −inf, masked or out-of-band entry");
                    }
                    if (dbias[x] != 0f) nonZero++;
                }
                assertTrue(nonZero > dbias.length / 10, "dbias carries signal elsewhere");
            }
        }
    }

    @Test
    void emptyShapesGiveZeroGradients() {
        Tensor someK = Inputs.gaussian(new Random(10), 1f, 1, 2, 3, 4), someV = Inputs.gaussian(new Random(11), 1f, 1, 2, 3, 5);
        for (KernelChoice kernel : KERNELS) {
            // No keys: every row sees nothing.
            AttentionGradients noKeys = run(Inputs.gaussian(new Random(13), 1f, 1, 2, 3, 4), Tensor.zeros(1, 2, 0, 4), Tensor.zeros(1, 2, 0, 5),
                    Inputs.gaussian(new Random(12), 1f, 1, 2, 3, 5), AttentionSpec.builder().bias(Tensor.zeros(1, 2, 3, 0), true).build(), kernel);
            for (float x : noKeys.dq().data()) assertEquals(0f, x, kernel + " dq without keys");
            assertEquals(0, noKeys.dk().size() + noKeys.dv().size() + noKeys.dbias().size());
            // No queries: nothing reaches the keys.
            AttentionGradients noQueries = run(Tensor.zeros(1, 2, 0, 4), someK, someV, Tensor.zeros(1, 2, 0, 5), AttentionSpec.builder().build(), kernel);
            for (float x : noQueries.dk().data()) assertEquals(0f, x, kernel + " dk without queries");
            for (float x : noQueries.dv().data()) assertEquals(0f, x, kernel + " dv without queries");
        }
    }

    static String label(AttentionSpec s) {
        StringBuilder sb = new StringBuilder();
        if (s.causal() != null) sb.append("causal=").append(s.causal()).append(' ');
        if (s.hasWindow()) sb.append("window ");
        if (s.kvLengths() != null) sb.append("kvLengths=").append(java.util.Arrays.toString(s.kvLengths())).append(' ');
        if (s.qLengths() != null) sb.append("qLengths=").append(java.util.Arrays.toString(s.qLengths())).append(' ');
        if (s.mask() != null) sb.append("mask ");
        if (s.bias() != null) sb.append("bias").append(java.util.Arrays.toString(s.bias().shape())).append(' ');
        if (s.alibi()) sb.append("alibi ");
        if (s.softcap() > 0) sb.append("softcap ");
        return sb.toString().trim();
    }
}
