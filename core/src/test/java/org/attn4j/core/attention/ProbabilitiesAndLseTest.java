package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The probabilities and the log-sum-exp against oracles that share no code with the kernels:
 * probabilities from {@link NaiveAttention} run with V = I (then output row i is probability row i),
 * and log-sum-exp from its textbook definition {@code log Σⱼ exp(sᵢⱼ)}, summed directly.
 */
class ProbabilitiesAndLseTest {
    final Random rnd = new Random(23);

    /** [B, Hkv, Nk, Nk]: an identity matrix per batch entry and kv head. */
    static Tensor identityValues(int b, int hkv, int nk) {
        float[] a = new float[b * hkv * nk * nk];
        for (int m = 0; m < b * hkv; m++) for (int j = 0; j < nk; j++) a[(m * nk + j) * nk + j] = 1f;
        return Tensor.of(a, b, hkv, nk, nk);
    }

    @Test
    void probabilitiesEqualTheNaiveOracleForEveryMaskAndBiasForm() {
        int b = 2, hq = 4, hkv = 2, nq = 9, nk = 13, d = 8;
        Tensor q = Inputs.gaussian(rnd, 1f, b, hq, nq, d);
        Tensor k = Inputs.gaussian(rnd, 1f, b, hkv, nk, d);
        Tensor v = Inputs.gaussian(rnd, 1f, b, hkv, nk, 5);
        Tensor bias = Inputs.gaussian(rnd, 1f, b, 1, nq, nk);
        bias.data()[3] = Float.NEGATIVE_INFINITY;
        List<AttentionSpec> specs = List.of(
                AttentionSpec.builder().build(),
                AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).build(),
                AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).window(3, 1).build(),
                AttentionSpec.builder().kvLengths(7, 0).qLengths(5, 9).build(), // entry 1 sees no key: rows of 0
                AttentionSpec.builder().mask(Inputs.mask(rnd, 0.6, b, 1, nq, nk)).scale(0.3f).build(),
                AttentionSpec.builder().alibi(true).softcap(2.5f).build(),
                AttentionSpec.builder().bias(bias).causal(CausalAlignment.BOTTOM_RIGHT).build());
        Tensor eye = identityValues(b, hkv, nk);
        for (AttentionSpec spec : specs) {
            AttentionResult r = Attention.sdpa(q, k, v, spec.toBuilder().returnProbs(true).build());
            assertArrayEquals(new int[] {b, hq, nq, nk}, r.probs().shape());
            double[] oracle = NaiveAttention.run(q, k, eye, spec);
            float[] expected = new float[oracle.length];
            for (int i = 0; i < oracle.length; i++) expected[i] = (float) oracle[i];
            Inputs.assertClose("probs " + spec, expected, r.probs().toArray(), 1e-6, 1e-5);
            // and the output is those probabilities times V
            double[] out = NaiveAttention.run(q, k, v, spec);
            float[] o = new float[out.length];
            for (int i = 0; i < out.length; i++) o[i] = (float) out[i];
            Inputs.assertClose("output " + spec, o, r.output().toArray(), 1e-5, 1e-5);
        }
    }

    @Test
    void logSumExpIsTheTextbookDefinitionInEveryKernel() {
        int b = 1, h = 2, nq = 5, nk = 700, d = 16;
        Tensor q = Inputs.gaussian(rnd, 1f, b, h, nq, d);
        Tensor k = Inputs.gaussian(rnd, 1f, b, h, nk, d);
        Tensor v = Inputs.gaussian(rnd, 1f, b, h, nk, d);
        Tensor bias = Inputs.gaussian(rnd, 2f, b, h, nq, nk);
        for (int j = 0; j < nk; j += 3) bias.data()[j] = Float.NEGATIVE_INFINITY; // row 0 of head 0 loses every third key
        float scale = 0.25f;
        for (boolean causal : new boolean[] {false, true}) {
            // textbook: lse_i = log Σ_{j visible} exp(s_ij), s_ij = scale·q_i·k_j + bias_ij; small logits, so no max is needed
            float[] expected = new float[b * h * nq];
            for (int hh = 0; hh < h; hh++) for (int i = 0; i < nq; i++) {
                double sum = 0;
                for (int j = 0; j < nk; j++) {
                    if (causal && j > i + nk - nq) continue; // bottom-right: query i is the (nk - nq + i)-th token
                    double s = 0;
                    for (int c = 0; c < d; c++) s += (double) q.get(0, hh, i, c) * k.get(0, hh, j, c);
                    sum += Math.exp(scale * s + bias.get(0, hh, i, j));
                }
                expected[hh * nq + i] = (float) Math.log(sum);
            }
            for (KernelChoice kc : List.of(KernelChoice.REFERENCE, KernelChoice.FLASH, KernelChoice.DECODE)) {
                AttentionSpec spec = AttentionSpec.builder().scale(scale).bias(bias).returnLse(true).kernel(kc)
                        .causal(causal ? CausalAlignment.BOTTOM_RIGHT : null).threads(2).build();
                AttentionResult r = Attention.sdpa(q, k, v, spec);
                assertEquals(kc, r.dispatch().kernel());
                Inputs.assertClose("lse " + kc + (causal ? " causal" : ""), expected, r.lse().toArray(), 1e-5, 1e-5);
            }
        }
    }
}
