package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Bad input to the backward pass fails before any work with an IllegalArgumentException that
 * names the argument, the expected and the actual value, whichever kernel was asked for.
 */
class BackwardValidationTest {
    final Tensor q = Tensor.zeros(2, 8, 5, 16);
    final Tensor k = Tensor.zeros(2, 4, 7, 16);
    final Tensor v = Tensor.zeros(2, 4, 7, 12);
    final Tensor out = Tensor.zeros(2, 8, 5, 12);
    final Tensor lse = Tensor.zeros(2, 8, 5);
    final Tensor dOut = Tensor.zeros(2, 8, 5, 12);
    static final KernelChoice[] KERNELS = {KernelChoice.AUTO, KernelChoice.REFERENCE, KernelChoice.FLASH};

    static void fails(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' lacks '" + f + "'");
    }

    static AttentionSpec spec(KernelChoice kernel) {
        return AttentionSpec.builder().kernel(kernel).build();
    }

    @Test
    void wrongShapesOfOutLseAndDOut() {
        for (KernelChoice kc : KERNELS) {
            AttentionSpec s = spec(kc);
            fails(() -> Attention.backward(q, k, v, out, lse, Tensor.zeros(2, 8, 5, 11), s), "dOut:", "[2, 8, 5, 12]", "[2, 8, 5, 11]");
            fails(() -> Attention.backward(q, k, v, out, lse, Tensor.zeros(2, 8, 5 * 12), s), "dOut:", "[2, 8, 5, 12]", "[2, 8, 60]");
            fails(() -> Attention.backward(q, k, v, Tensor.zeros(2, 8, 6, 12), lse, dOut, s), "out:", "[2, 8, 5, 12]", "[2, 8, 6, 12]");
            fails(() -> Attention.backward(q, k, v, out, Tensor.zeros(2, 8, 5, 1), dOut, s), "lse:", "[2, 8, 5]", "[2, 8, 5, 1]");
            fails(() -> Attention.backward(q, k, v, out, Tensor.zeros(2, 4, 5), dOut, s), "lse:", "[2, 8, 5]", "[2, 4, 5]");
            fails(() -> Attention.forwardBackward(q, k, v, Tensor.zeros(2, 8, 5, 16), s), "dOut:", "[2, 8, 5, 12]", "[2, 8, 5, 16]");
        }
    }

    @Test
    void nullOutLseOrDOut() {
        for (KernelChoice kc : KERNELS) {
            AttentionSpec s = spec(kc);
            fails(() -> Attention.backward(q, k, v, out, lse, null, s), "dOut:", "[2, 8, 5, 12]", "null");
            fails(() -> Attention.forwardBackward(q, k, v, null, s), "dOut:", "[2, 8, 5, 12]", "null");
            fails(() -> Attention.backward(q, k, v, out, null, dOut, s), "lse:", "[2, 8, 5]", "null", "returnLse(true)");
            fails(() -> Attention.backward(q, k, v, null, lse, dOut, s), "out:", "[2, 8, 5, 12]", "null");
        }
        fails(() -> Attention.forwardBackward(q, k, v, dOut, null), "spec:", "null");
        fails(() -> Attention.backward(q, k, v, out, lse, dOut, null), "spec:", "null");
    }

    @Test
    void nonFiniteDOutOutOrLse() {
        for (KernelChoice kc : KERNELS) {
            AttentionSpec s = spec(kc);
            Tensor nanGrad = Tensor.zeros(2, 8, 5, 12);
            nanGrad.set(Float.NaN, 1, 2, 3, 4);
            fails(() -> Attention.backward(q, k, v, out, lse, nanGrad, s), "dOut:", "finite", "NaN", "[1, 2, 3, 4]");
            fails(() -> Attention.forwardBackward(q, k, v, nanGrad, s), "dOut:", "finite", "NaN", "[1, 2, 3, 4]");
            // A strided view reports the logical index.
            Tensor stridedGrad = Tensor.zeros(2, 5, 8, 12).permute(0, 2, 1, 3);
            stridedGrad.set(Float.NEGATIVE_INFINITY, 0, 7, 1, 11);
            fails(() -> Attention.backward(q, k, v, out, lse, stridedGrad, s), "dOut:", "-Infinity", "[0, 7, 1, 11]");
            Tensor infOut = Tensor.zeros(2, 8, 5, 12);
            infOut.set(Float.POSITIVE_INFINITY, 0, 0, 4, 0);
            fails(() -> Attention.backward(q, k, v, infOut, lse, dOut, s), "out:", "Infinity", "[0, 0, 4, 0]");
            Tensor badLse = Tensor.zeros(2, 8, 5);
            badLse.set(Float.POSITIVE_INFINITY, 1, 0, 2);
            fails(() -> Attention.backward(q, k, v, out, badLse, dOut, s), "lse:", "Infinity", "[1, 0, 2]");
            Tensor emptyRow = Tensor.zeros(2, 8, 5);
            emptyRow.set(Float.NEGATIVE_INFINITY, 1, 0, 2);
            Attention.backward(q, k, v, out, emptyRow, dOut, s); // −inf is the lse of a row that saw no key
            // validation off: no scan, no exception (the caller vouches for the data)
            Attention.backward(q, k, v, out, lse, nanGrad, s.toBuilder().validate(false).build());
        }
    }

    @Test
    void biasGradientWithoutABias() {
        for (KernelChoice kc : KERNELS) {
            AttentionSpec s = AttentionSpec.builder().kernel(kc).biasRequiresGrad(true).build();
            fails(() -> Attention.backward(q, k, v, out, lse, dOut, s), "biasRequiresGrad", "no bias");
            fails(() -> Attention.forwardBackward(q, k, v, dOut, s), "biasRequiresGrad", "no bias");
            fails(() -> Attention.backward(q, k, v, out, lse, dOut, s.toBuilder().bias(null, true).build()), "biasRequiresGrad", "no bias");
        }
    }

    @Test
    void badForwardInputsAreReportedAsInTheForward() {
        for (KernelChoice kc : KERNELS) {
            AttentionSpec s = spec(kc);
            fails(() -> Attention.backward(q, Tensor.zeros(2, 4, 7, 15), v, out, lse, dOut, s), "k:", "D", "16", "15");
            fails(() -> Attention.forwardBackward(q, k, Tensor.zeros(2, 4, 6, 12), dOut, s), "v:", "Nk", "7", "6");
            fails(() -> Attention.explainBackward(q, k, v, s.toBuilder().bias(Tensor.zeros(3, 5, 7)).build()), "bias:", "[3, 5, 7]");
        }
    }
}
