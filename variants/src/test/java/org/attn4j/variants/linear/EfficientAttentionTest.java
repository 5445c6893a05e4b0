package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class EfficientAttentionTest {

    /** (ρ_q(Q) ρ_k(K)ᵀ) V in the quadratic order, float64. */
    static Tensor naive(Tensor q, Tensor k, Tensor v, double scale) {
        return Naive.assemble(q.dim(0), q.dim(1), q.dim(2), v.dim(3), (b, h) -> {
            int hk = LinearTesting.kvHead(q, k, h);
            double[][] qh = Naive.head(q, b, h), kh = Naive.head(k, b, hk), vh = Naive.head(v, b, hk);
            int nq = qh.length, nk = kh.length, d = qh[0].length;
            double[][] rq = new double[nq][d], rk = new double[nk][d];
            for (int i = 0; i < nq; i++) {
                double sum = 0;
                for (int c = 0; c < d; c++) sum += Math.exp(scale * qh[i][c]);
                for (int c = 0; c < d; c++) rq[i][c] = Math.exp(scale * qh[i][c]) / sum;
            }
            for (int c = 0; c < d; c++) {
                double sum = 0;
                for (int j = 0; j < nk; j++) sum += Math.exp(scale * kh[j][c]);
                for (int j = 0; j < nk; j++) rk[j][c] = Math.exp(scale * kh[j][c]) / sum;
            }
            double[][] a = new double[nq][nk];
            for (int i = 0; i < nq; i++) for (int j = 0; j < nk; j++) a[i][j] = Naive.dot(rq[i], rk[j]);
            return Naive.apply(a, vh, false);
        });
    }

    @Test
    void equalsQuadraticOrder() {
        long seed = 1;
        for (int[] s : LinearTesting.SHAPES) {
            Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
            Tensor out = new EfficientAttention(EfficientParams.defaults()).run(t[0], t[1], t[2], 2).output();
            VariantAssert.assertClose(naive(t[0], t[1], t[2], 1), out, 1e-5, 1e-4, java.util.Arrays.toString(s));
        }
    }

    @Test
    void crossAttentionAndScale() {
        Tensor[] t = LinearTesting.qkv(3, 2, 2, 1, 11, 257, 13, 5);
        Tensor out = new EfficientAttention(new EfficientParams(0.25)).run(t[0], t[1], t[2], 1).output();
        VariantAssert.assertClose(naive(t[0], t[1], t[2], 0.25), out, 1e-5, 1e-4, "Nq=11, Nk=257, scale 0.25");
    }

    @Test
    void largeLogitsStayFinite() {
        Tensor[] t = LinearTesting.qkv(4, 1, 1, 1, 20, 20, 8, 4);
        Tensor out = new EfficientAttention(new EfficientParams(80)).run(t[0], t[1], t[2], 1).output();
        for (float x : out.toArray()) assertTrue(Float.isFinite(x), "scale 80 gave " + x);
    }

    @Test
    void badParametersAreRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EfficientParams(0)).getMessage().contains("scale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new EfficientParams(Double.NaN)).getMessage().contains("scale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("efficient-attention", Settings.of("causal=true"), 1))
                .getMessage().contains("causal"));
    }
}
