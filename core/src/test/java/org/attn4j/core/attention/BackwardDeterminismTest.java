package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The tiled backward deals its work units to per-thread slices before running and sums the dQ
 * (and shared dBias) partials in slice order, so the same inputs and thread count give the same
 * bits on every call, however the threads are scheduled.
 */
class BackwardDeterminismTest {
    static final int REPEATS = 3;

    record Problem(String label, Tensor q, Tensor k, Tensor v, Tensor dOut, AttentionSpec spec) {}

    static List<Problem> problems() {
        Random r = new Random(77);
        int b = 2, hq = 4, hkv = 2, nq = 130, nk = 300, d = 24;
        Tensor q = Inputs.gaussian(r, 1f, b, hq, nq, d), k = Inputs.gaussian(r, 1f, b, hkv, nk, d);
        Tensor v = Inputs.gaussian(r, 1f, b, hkv, nk, d), dOut = Inputs.gaussian(r, 1f, b, hq, nq, d);
        Tensor shared = Inputs.gaussian(r, 1f, nq, nk);
        Tensor perHead = Inputs.gaussian(r, 1f, 1, hq, 1, nk);
        Tensor perRow = Inputs.gaussian(r, 1f, 1, hq, nq, 1);
        Tensor full = Inputs.gaussian(r, 1f, b, hq, nq, nk);
        Tensor qDecode = Inputs.gaussian(r, 1f, b, hq, 1, d), dDecode = Inputs.gaussian(r, 1f, b, hq, 1, d);
        Tensor qs = Inputs.gaussianStrided(r, 1f, b, hq, nq, d), ks = Inputs.gaussianStrided(r, 1f, b, hkv, nk, d);
        return List.of(
                new Problem("plain", q, k, v, dOut, AttentionSpec.builder().build()),
                new Problem("dbias [Nq,Nk] (shared by every unit)", q, k, v, dOut, AttentionSpec.builder().bias(shared, true).build()),
                new Problem("dbias [1,Hq,1,Nk] causal", q, k, v, dOut,
                        AttentionSpec.builder().bias(perHead, true).causal(CausalAlignment.BOTTOM_RIGHT).build()),
                new Problem("dbias [1,Hq,Nq,1] (shared across key blocks) alibi window", q, k, v, dOut,
                        AttentionSpec.builder().bias(perRow, true).alibi(true).window(150, 20).build()),
                new Problem("dbias [B,Hq,Nq,Nk] kvLengths qLengths", q, k, v, dOut,
                        AttentionSpec.builder().bias(full, true).kvLengths(300, 170).qLengths(130, 77).build()),
                new Problem("soft-cap", q, k, v, dOut, AttentionSpec.builder().softcap(3f).build()),
                new Problem("Nq=1 GQA kvLengths", qDecode, k, v, dDecode, AttentionSpec.builder().kvLengths(300, 9).build()),
                new Problem("strided", qs, ks, v, dOut, AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).build()));
    }

    @TestFactory
    Stream<DynamicTest> repeatedCallsGiveIdenticalBits() {
        return problems().stream().map(pr -> DynamicTest.dynamicTest(pr.label(), () -> check(pr)));
    }

    static void check(Problem pr) {
        for (int threads = 1; threads <= 3; threads++) {
            AttentionSpec spec = pr.spec().toBuilder().kernel(KernelChoice.FLASH).threads(threads).build();
            String what = pr.label() + ", " + threads + " thread(s)";
            // The backward alone, on one saved forward state...
            AttentionResult fwd = Attention.sdpa(pr.q(), pr.k(), pr.v(), spec.toBuilder().returnLse(true).build());
            AttentionGradients first = Attention.backward(pr.q(), pr.k(), pr.v(), fwd.output(), fwd.lse(), pr.dOut(), spec);
            assertEquals(KernelChoice.FLASH, first.dispatch().kernel());
            for (int n = 1; n < REPEATS; n++) {
                BackwardChecks.assertIdentical(what + ", call " + (n + 1),
                        first, Attention.backward(pr.q(), pr.k(), pr.v(), fwd.output(), fwd.lse(), pr.dOut(), spec));
            }
            // ...and forward plus backward end to end.
            BackwardChecks.assertIdentical(what + ", forwardBackward",
                    first, Attention.forwardBackward(pr.q(), pr.k(), pr.v(), pr.dOut(), spec).gradients());
        }
    }
}
