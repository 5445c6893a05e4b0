package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.optim.AdamW;
import org.attn4j.train.optim.GradientClipping;
import org.attn4j.train.optim.LearningRate;
import org.junit.jupiter.api.Test;

/** AdamW, the learning-rate schedule and gradient clipping against values worked out from their definitions. */
class OptimTest {

    /**
     * Two steps, lr 0.1, λ 0.1, β = (0.9, 0.999), ε = 1e-8, on θ = (1, −2), the first tensor decayed:
     * <pre>
     * step 1, g = (0.5, −0.25): m̂ = g, v̂ = g², so the update is g/(|g| + ε) ≈ ±1:
     *   θ₀ = 1·(1 − 0.1·0.1) − 0.1·0.5/(0.5 + 1e-8)    = 0.890000002
     *   θ₁ = −2 − 0.1·(−0.25)/(0.25 + 1e-8)            = −1.900000004
     * step 2, g = (−0.1, 0.3):
     *   m₀ = 0.9·0.05 − 0.01 = 0.035, v₀ = 0.999·0.00025 + 0.001·0.01 = 0.00025975
     *   m̂₀ = 0.035/0.19, v̂₀ = 0.00025975/0.001999
     *   θ₀ = 0.890000002·0.99 − 0.1·m̂₀/(√v̂₀ + ε)      = 0.8299973957
     *   θ₁ (no decay) likewise                          = −1.9142944765
     * </pre>
     */
    @Test
    void adamWTwoStepsByHand() {
        Parameters.Builder b = Parameters.builder();
        b.add("w", true, 1);
        b.add("b", false, 1);
        Parameters p = b.build();
        p.values()[0] = 1f;
        p.values()[1] = -2f;
        AdamW opt = new AdamW(p, 0.9f, 0.999f, 1e-8f, 0.1f);
        p.grads()[0] = 0.5f;
        p.grads()[1] = -0.25f;
        opt.step(0.1f);
        assertEquals(0.890000002, p.values()[0], 1e-7);
        assertEquals(-1.900000004, p.values()[1], 1e-7);
        p.grads()[0] = -0.1f;
        p.grads()[1] = 0.3f;
        opt.step(0.1f);
        assertEquals(0.8299973957, p.values()[0], 1e-6);
        assertEquals(-1.9142944765, p.values()[1], 1e-6);
        assertEquals(2, opt.steps());
    }

    @Test
    void decayAloneShrinksOnlyDecayedTensors() {
        Parameters.Builder b = Parameters.builder();
        b.add("w", true, 3);
        b.add("n", false, 3);
        Parameters p = b.build();
        java.util.Arrays.fill(p.values(), 2f);
        new AdamW(p, 0.5f).step(0.1f); // zero gradient: only the decay acts
        assertArrayEquals(new float[] {1.9f, 1.9f, 1.9f, 2f, 2f, 2f}, p.values(), 1e-6f);
    }

    @Test
    void modelDecaysMatricesOnly() {
        Parameters p = TransformerLM.declare(TransformerConfig.gpt(16, 8, 2, 8, 2));
        for (Parameters.Param t : p.params()) {
            boolean matrix = t.shape().length == 2 && !t.name().equals("wte") && !t.name().equals("wpe");
            assertEquals(matrix, t.decay(), t.name());
        }
    }

    @Test
    void warmupThenCosine() {
        LearningRate lr = new LearningRate(1f, 0.1f, 4, 104);
        assertEquals(0.25f, lr.at(0), 1e-7f);   // (s + 1)/warmup
        assertEquals(0.75f, lr.at(2), 1e-7f);
        assertEquals(1f, lr.at(4), 1e-7f);      // cosine starts at the peak
        assertEquals(0.55f, lr.at(54), 1e-6f);  // half way: (max + min)/2
        assertEquals(0.1f, lr.at(104), 1e-7f);  // the end, and beyond
        assertEquals(0.1f, lr.at(500), 1e-7f);
        for (int s = 4; s < 104; s++) assertTrue(lr.at(s + 1) <= lr.at(s), "decreasing after warm-up at " + s);
        assertThrows(IllegalArgumentException.class, () -> new LearningRate(1f, 2f, 0, 10));
    }

    @Test
    void clipsToTheGlobalNorm() {
        Parameters.Builder b = Parameters.builder();
        b.add("a", true, 1);
        b.add("b", false, 1);
        Parameters p = b.build();
        p.grads()[0] = 3f;
        p.grads()[1] = 4f;
        assertEquals(5.0, GradientClipping.clip(p, 10), 0);
        assertArrayEquals(new float[] {3f, 4f}, p.grads()); // under the limit: untouched
        assertEquals(5.0, GradientClipping.clip(p, 1), 0);
        assertArrayEquals(new float[] {0.6f, 0.8f}, p.grads(), 1e-7f);
        assertEquals(1.0, GradientClipping.globalNorm(p), 1e-7);
        assertEquals(1.0, GradientClipping.clip(p, 0), 1e-7, "0 means no clipping, but the norm is still reported");
        assertArrayEquals(new float[] {0.6f, 0.8f}, p.grads(), 1e-7f);
    }
}
