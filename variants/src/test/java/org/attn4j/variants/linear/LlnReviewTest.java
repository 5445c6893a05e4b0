package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantAssert;
import org.junit.jupiter.api.Test;

/** Review regressions: a denominator that underflows to a subnormal must not give Inf/NaN. */
class LlnReviewTest {

    @Test
    void causalRowsStayFiniteWhenTheDenominatorIsSubnormal() {
        for (long seed = 0; seed < 20; seed++) {
            SplittableRandom r = new SplittableRandom(seed);
            Tensor q = VariantAssert.random(r, 1, 2, 37, 12), k = VariantAssert.random(r, 1, 2, 37, 12), v = VariantAssert.random(r, 1, 2, 37, 12);
            float[] qa = q.toArray(), ka = k.toArray();
            for (int i = 0; i < qa.length; i++) { qa[i] *= 30; ka[i] *= 30; }
            for (int chunk : new int[] {1, 8, 64}) {
                Tensor out = new LlnAttention(new LlnParams(true, chunk, Double.NaN, Double.NaN))
                        .run(Tensor.of(qa, q.shape()), Tensor.of(ka, k.shape()), v, 1).output();
                float[] o = out.toArray();
                for (int i = 0; i < o.length; i++) assertTrue(Float.isFinite(o[i]), "seed " + seed + " chunk " + chunk + " index " + i + " = " + o[i]);
                float maxV = 0;
                for (float x : v.toArray()) maxV = Math.max(maxV, Math.abs(x));
                // every output row is a convex combination of value rows
                for (int i = 0; i < o.length; i++) assertTrue(Math.abs(o[i]) <= maxV * 1.001f, "seed " + seed + " chunk " + chunk + " |out| " + o[i] + " > max|v| " + maxV);
            }
        }
    }

    @Test
    void divideBySubnormalStaysFinite() {
        float[] x = {1e-44f, -2e-44f, 0f};
        LinearCore.divide(x, 0, 3, 2e-44f);
        for (float f : x) assertTrue(Float.isFinite(f), java.util.Arrays.toString(x));
        assertTrue(Math.abs(x[0] - 0.5f) < 0.2f && Math.abs(x[1] + 1f) < 0.2f, java.util.Arrays.toString(x));
    }
}
