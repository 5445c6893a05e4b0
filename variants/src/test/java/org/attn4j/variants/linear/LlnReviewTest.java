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

    /** Non-causal LLN with estimated moments in float64, every row shifted by its largest exponent (never overflows). */
    static float[] stableNonCausal(Tensor q, Tensor k, Tensor v) {
        int b = q.dim(0), h = q.dim(1), n = q.dim(2), nk = k.dim(2), d = q.dim(3), dv = v.dim(3);
        float[] out = new float[b * h * n * dv];
        for (int bi = 0; bi < b; bi++) for (int hi = 0; hi < h; hi++) {
            double[][] qh = Naive.head(q, bi, hi), kh = Naive.head(k, bi, hi), vh = Naive.head(v, bi, hi);
            double[] ab = LlnAttention.alphaBeta(LlnAttentionTest.std(qh), LlnAttentionTest.std(kh));
            for (int i = 0; i < n; i++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < nk; j++) for (int c = 0; c < d; c++) m = Math.max(m, ab[0] * qh[i][c] + ab[1] * kh[j][c]);
                double den = 0;
                double[] num = new double[dv];
                for (int j = 0; j < nk; j++) {
                    double w = 0;
                    for (int c = 0; c < d; c++) w += Math.exp(ab[0] * qh[i][c] + ab[1] * kh[j][c] - m);
                    den += w;
                    for (int x = 0; x < dv; x++) num[x] += w * vh[j][x];
                }
                for (int x = 0; x < dv; x++) out[((bi * h + hi) * n + i) * dv + x] = (float) (num[x] / den);
            }
        }
        return out;
    }

    @Test
    void nonCausalWithEstimatedMomentsHasNoUnderflowedRowsAtLargeSpread() {
        // std 10 inputs: α·q and β·k spread over several hundred; one global key shift zeroed about half the rows
        SplittableRandom r = new SplittableRandom(1);
        Tensor q = VariantAssert.random(r, 1, 2, 60, 12), k = VariantAssert.random(r, 1, 2, 60, 12), v = VariantAssert.random(r, 1, 2, 60, 12);
        float[] qa = q.toArray(), ka = k.toArray();
        for (int i = 0; i < qa.length; i++) { qa[i] *= 10; ka[i] *= 10; }
        Tensor qs = Tensor.of(qa, q.shape()), ks = Tensor.of(ka, k.shape());
        Tensor out = new LlnAttention(LlnParams.defaults()).run(qs, ks, v, 2).output();
        VariantAssert.assertClose(Tensor.of(stableNonCausal(qs, ks, v), out.shape()), out, 1e-4, 1e-3, "std-10 inputs, estimated moments");
    }
}
