package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Each structured mask form equals the same mask written out explicitly as a boolean or float
 * tensor built by the test from the definitions (a different code path in the kernels).
 */
class MaskFormsTest {
    final Random rnd = new Random(42);
    final int b = 2, h = 4, nq = 37, nk = 101, d = 24;
    final Tensor q = Inputs.gaussian(rnd, 1f, b, h, nq, d);
    final Tensor k = Inputs.gaussian(rnd, 1f, b, 2, nk, d);
    final Tensor v = Inputs.gaussian(rnd, 1f, b, 2, nk, d);

    interface Rule { boolean visible(int b, int i, int j); }

    BoolTensor explicit(Rule rule) {
        boolean[] m = new boolean[b * nq * nk];
        for (int bb = 0; bb < b; bb++)
            for (int i = 0; i < nq; i++)
                for (int j = 0; j < nk; j++) m[(bb * nq + i) * nk + j] = rule.visible(bb, i, j);
        return BoolTensor.of(m, b, 1, nq, nk);
    }

    void assertSame(AttentionSpec structured, AttentionSpec explicit) {
        for (KernelChoice kc : KernelChoice.values()) {
            float[] a = Attention.sdpa(q, k, v, structured.toBuilder().kernel(kc).build()).output().data();
            float[] e = Attention.sdpa(q, k, v, explicit.toBuilder().kernel(kc).build()).output().data();
            Inputs.assertClose(kc.toString(), e, a, 1e-6, 1e-6);
        }
    }

    @Test
    void causalTopLeftIsLowerTriangle() {
        assertSame(AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).build(),
                AttentionSpec.builder().mask(explicit((bb, i, j) -> j <= i)).build());
    }

    @Test
    void causalBottomRightIsShiftedLowerTriangle() {
        assertSame(AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).build(),
                AttentionSpec.builder().mask(explicit((bb, i, j) -> j <= i + nk - nq)).build());
    }

    @Test
    void windowIsBandAroundBottomRightDiagonal() {
        assertSame(AttentionSpec.builder().window(5, 2).build(),
                AttentionSpec.builder().mask(explicit((bb, i, j) -> j >= i + nk - nq - 5 && j <= i + nk - nq + 2)).build());
        assertSame(AttentionSpec.builder().window(7, AttentionSpec.UNBOUNDED).build(),
                AttentionSpec.builder().mask(explicit((bb, i, j) -> j >= i + nk - nq - 7)).build());
    }

    @Test
    void keyLengthsArePaddingMask() {
        int[] len = {40, 101};
        assertSame(AttentionSpec.builder().kvLengths(len).build(),
                AttentionSpec.builder().mask(explicit((bb, i, j) -> j < len[bb])).build());
    }

    @Test
    void causalBottomRightWithKeyLengthsAlignsOnEachSequencesEnd() {
        int[] len = {50, 90};
        assertSame(AttentionSpec.builder().kvLengths(len).causal(CausalAlignment.BOTTOM_RIGHT).build(),
                AttentionSpec.builder().mask(explicit((bb, i, j) -> j < len[bb] && j <= i + len[bb] - nq)).build());
    }

    @Test
    void alibiIsItsExplicitBias() {
        float[] bias = new float[h * nq * nk];
        for (int hh = 0; hh < h; hh++) {
            double slope = Math.pow(2, -8.0 * (hh + 1) / h);
            for (int i = 0; i < nq; i++)
                for (int j = 0; j < nk; j++) bias[(hh * nq + i) * nk + j] = (float) (-slope * Math.abs(i + nk - nq - j));
        }
        assertSame(AttentionSpec.builder().alibi(true).build(), AttentionSpec.builder().bias(Tensor.of(bias, 1, h, nq, nk)).build());
    }

    @Test
    void minusInfinityBiasIsFalseMask() {
        BoolTensor mask = explicit((bb, i, j) -> (i * 7 + j * 3 + bb) % 4 != 0);
        float[] bias = new float[b * nq * nk];
        for (int x = 0; x < bias.length; x++) bias[x] = mask.data()[x] ? 0f : Float.NEGATIVE_INFINITY;
        assertSame(AttentionSpec.builder().mask(mask).build(), AttentionSpec.builder().bias(Tensor.of(bias, b, 1, nq, nk)).build());
    }

    @Test
    void softcapBoundsLogits() {
        // With cap c every logit lies in (-c, c): a cap far above the logits changes nothing measurable,
        // a tiny cap makes attention uniform to within e^(2·cap).
        float[] plain = Attention.sdpa(q, k, v).output().data();
        float[] loose = Attention.sdpa(q, k, v, AttentionSpec.builder().softcap(1e4f).build()).output().data();
        Inputs.assertClose("cap 1e4", plain, loose, 1e-5, 1e-5);
        float[] tight = Attention.sdpa(q, k, v, AttentionSpec.builder().softcap(1e-7f).build()).output().data();
        float[] uniform = new float[tight.length];
        for (int bb = 0; bb < b; bb++)
            for (int hh = 0; hh < h; hh++)
                for (int x = 0; x < d; x++) {
                    double mean = 0;
                    for (int j = 0; j < nk; j++) mean += v.get(bb, hh / 2, j, x);
                    for (int i = 0; i < nq; i++) uniform[((bb * h + hh) * nq + i) * d + x] = (float) (mean / nk);
                }
        Inputs.assertClose("cap 1e-7", uniform, tight, 1e-6, 1e-5);
    }

    @Test
    void stridedViewEqualsContiguousCopy() {
        Tensor qs = Inputs.gaussianStrided(new Random(1), 1f, b, h, nq, d);
        Tensor qc = Tensor.of(qs.toArray(), qs.shape());
        for (KernelChoice kc : KernelChoice.values()) {
            AttentionSpec spec = AttentionSpec.builder().kernel(kc).build();
            assertEquals(0, java.util.Arrays.compare(Attention.sdpa(qc, k, v, spec).output().data(),
                    Attention.sdpa(qs, k, v, spec).output().data()), kc.toString());
        }
    }
}
