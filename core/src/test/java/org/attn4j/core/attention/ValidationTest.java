package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input fails where it enters, naming the argument, the expected and the actual value. */
class ValidationTest {
    final Tensor q = Tensor.zeros(2, 8, 5, 16);
    final Tensor k = Tensor.zeros(2, 4, 7, 16);
    final Tensor v = Tensor.zeros(2, 4, 7, 12);

    static void fails(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
    }

    @Test
    void shapes() {
        fails(() -> Attention.sdpa(Tensor.zeros(8, 5, 16), k, v), "q:", "rank 4", "[8, 5, 16]");
        fails(() -> Attention.sdpa(q, Tensor.zeros(2, 4, 7, 15), v), "k:", "D", "16", "15");
        fails(() -> Attention.sdpa(q, Tensor.zeros(3, 4, 7, 16), v), "k:", "B", "2", "3");
        fails(() -> Attention.sdpa(q, k, Tensor.zeros(2, 4, 6, 12)), "v:", "Nk", "7", "6");
        fails(() -> Attention.sdpa(q, k, Tensor.zeros(2, 2, 7, 12)), "v:", "Hkv", "4", "2");
        fails(() -> Attention.sdpa(q, Tensor.zeros(2, 3, 7, 16), Tensor.zeros(2, 3, 7, 12)), "heads", "Hq=8", "Hkv=3");
        fails(() -> Attention.sdpa(null, k, v), "q:", "null");
    }

    @Test
    void masksAndBiases() {
        fails(() -> Attention.sdpa(q, k, v, AttentionSpec.builder().mask(BoolTensor.of(new boolean[15], 3, 5)).build()),
                "mask:", "[3, 5]", "[2, 8, 5, 7]");
        fails(() -> Attention.sdpa(q, k, v, AttentionSpec.builder().bias(Tensor.zeros(2, 3, 5, 7)).build()), "bias:", "[2, 3, 5, 7]");
        Tensor nanBias = Tensor.zeros(5, 7);
        nanBias.set(Float.NaN, 1, 2);
        fails(() -> Attention.sdpa(q, k, v, AttentionSpec.builder().bias(nanBias).build()), "bias:", "NaN", "[1, 2]");
        // −inf is a legal mask value: it removes that key from that row, as a false in a boolean mask does
        Tensor ninf = Tensor.zeros(5, 7);
        ninf.set(Float.NEGATIVE_INFINITY, 1, 2);
        Tensor vr = Inputs.gaussian(new java.util.Random(3), 1f, 2, 4, 7, 12);
        boolean[] keep = new boolean[35];
        java.util.Arrays.fill(keep, true);
        keep[1 * 7 + 2] = false;
        float[] withBias = Attention.sdpa(q, k, vr, AttentionSpec.builder().bias(ninf).build()).output().toArray();
        float[] withMask = Attention.sdpa(q, k, vr, AttentionSpec.builder().mask(BoolTensor.of(keep, 5, 7)).build()).output().toArray();
        Inputs.assertClose("-inf bias against a false mask entry", withMask, withBias, 0, 0);
        // q and k are 0, so row 1 is the mean of v over the six other keys
        for (int c = 0; c < 12; c++) {
            double mean = 0;
            for (int j = 0; j < 7; j++) if (j != 2) mean += vr.get(0, 0, j, c) / 6.0;
            org.junit.jupiter.api.Assertions.assertEquals(mean, withBias[1 * 12 + c], 1e-6, "row 1, column " + c);
        }
    }

    @Test
    void lengthsWindowsAndOptions() {
        fails(() -> Attention.sdpa(q, k, v, AttentionSpec.builder().kvLengths(3).build()), "kvLengths", "2 entries", "got 1");
        fails(() -> Attention.sdpa(q, k, v, AttentionSpec.builder().kvLengths(3, 8).build()), "kvLengths[1]", "Nk=7", "8");
        fails(() -> Attention.sdpa(q, k, v, AttentionSpec.builder().qLengths(-1, 2).build()), "qLengths[0]", "-1");
        fails(() -> AttentionSpec.builder().window(-1, 2), "window left", "-1");
        fails(() -> AttentionSpec.builder().scale(Float.NaN), "scale", "NaN");
        fails(() -> AttentionSpec.builder().softcap(-2f), "softcap", "-2.0");
        fails(() -> AttentionSpec.builder().threads(-3), "threads", "-3");
        fails(() -> Attention.sdpa(q, k, v, AttentionSpec.builder().alibiSlopes(1f, 2f).build()), "alibiSlopes", "Hq=8", "got 2");
        fails(() -> Attention.sdpa(q, k, v, AttentionSpec.builder().returnProbs(true).kernel(KernelChoice.FLASH).build()),
                "kernel", "FLASH", "probabilities");
    }

    @Test
    void nonFiniteInputs() {
        Tensor bad = Tensor.zeros(2, 8, 5, 16);
        bad.set(Float.POSITIVE_INFINITY, 1, 3, 2, 9);
        fails(() -> Attention.sdpa(bad, k, v), "q:", "Infinity", "[1, 3, 2, 9]");
        Tensor badV = Tensor.zeros(2, 4, 7, 12).permute(0, 2, 1, 3).permute(0, 2, 1, 3);
        badV.set(Float.NaN, 0, 1, 2, 3);
        fails(() -> Attention.sdpa(q, k, badV), "v:", "NaN", "[0, 1, 2, 3]");
        // validation off: no scan, no exception (the caller vouches for the data); the Inf reaches only its own row
        Tensor vr = Inputs.gaussian(new java.util.Random(4), 1f, 2, 4, 7, 12);
        Tensor kr = Inputs.gaussian(new java.util.Random(5), 1f, 2, 4, 7, 16);
        float[] unchecked = Attention.sdpa(bad, kr, vr, AttentionSpec.builder().validate(false).build()).output().toArray();
        float[] clean = Attention.sdpa(Tensor.zeros(2, 8, 5, 16), kr, vr).output().toArray();
        int poisoned = ((1 * 8 + 3) * 5 + 2) * 12;
        for (int i = 0; i < clean.length; i++) {
            if (i >= poisoned && i < poisoned + 12) continue; // that row's value is unspecified
            org.junit.jupiter.api.Assertions.assertEquals(clean[i], unchecked[i], 0f, "element " + i + " outside the row of the Inf");
        }
    }

    /** Views into a fused buffer (rows contiguous, other strides not) are scanned too, and name the element. */
    @Test
    void nonFiniteInStridedViews() {
        // v as the third part of a fused [B, N, 3·H·D] buffer: strides (N·3HD, D, 3HD, 1), offset 2·H·D.
        int b = 2, h = 4, n = 7, d = 12, row = 3 * h * d;
        float[] fused = new float[b * n * row];
        Tensor fusedV = Tensor.view(fused, 2 * h * d, new int[] {b, h, n, d}, new int[] {n * row, d, row, 1});
        Tensor kk = Tensor.zeros(2, 4, 7, 16);
        Attention.sdpa(q, kk, fusedV); // all finite: passes
        fusedV.set(Float.NaN, 1, 2, 5, 7);
        fails(() -> Attention.sdpa(q, kk, fusedV), "v:", "NaN", "[1, 2, 5, 7]");
        // a view whose last stride is not 1 (a transpose) takes the general path
        Tensor t = Tensor.zeros(2, 4, 12, 7).permute(0, 1, 3, 2);
        t.set(Float.NEGATIVE_INFINITY, 0, 3, 6, 11);
        fails(() -> Attention.sdpa(q, kk, t), "v:", "Infinity", "[0, 3, 6, 11]");
    }

    @Test
    void emptyShapesAreLegal() {
        Tensor out = Attention.sdpa(Tensor.zeros(1, 2, 0, 4), Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 2, 3, 4)).output();
        assertTrue(out.size() == 0);
        AttentionResult r = Attention.sdpa(Tensor.zeros(1, 2, 3, 4), Tensor.zeros(1, 2, 0, 4), Tensor.zeros(1, 2, 0, 4),
                AttentionSpec.builder().returnLse(true).build());
        for (float x : r.lse().data()) assertTrue(x == Float.NEGATIVE_INFINITY);
        for (float x : r.output().data()) assertTrue(x == 0f);
    }
}
