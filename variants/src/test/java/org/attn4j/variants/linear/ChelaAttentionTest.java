package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class ChelaAttentionTest {

    /**
     * Short convolution, SiLU, then long convolution written as explicit kernels: u = SiLU(w * x), y = h * u with
     * h(s) = δ(s) + Σ_r γ_r ρ_r^s summed directly over all s ≤ t (O(N²)).
     */
    static double[][] conv(double[][] x, ChelaAttention.Weights w, int h) {
        int n = x.length, d = x[0].length;
        double[][] u = new double[n][d], y = new double[n][d];
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < d; c++) {
                for (int s = 0; s < w.shortLen() && s <= t; s++) u[t][c] += w.shortTaps()[(h * d + c) * w.shortLen() + s] * x[t - s][c];
                u[t][c] *= Naive.sigmoid(u[t][c]);
            }
        }
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < d; c++) {
                for (int s = 0; s <= t; s++) {
                    double ker = s == 0 ? 1 : 0;
                    for (int r = 0; r < w.rank(); r++) {
                        int o = (h * d + c) * w.rank() + r;
                        ker += w.gains()[o] * Math.pow(w.decays()[o], s);
                    }
                    y[t][c] += ker * u[t - s][c];
                }
            }
        }
        return y;
    }

    static Tensor naive(Tensor q, Tensor k, Tensor v, ChelaAttention.Weights w, boolean causal) {
        int group = q.dim(1) / k.dim(1);
        return Naive.assemble(q.dim(0), q.dim(1), q.dim(2), v.dim(3), (b, h) -> {
            int hk = h / group;
            double[][] yq = conv(Naive.head(q, b, h), w, h), yk = conv(Naive.head(k, b, hk), w, hk * group);
            return Naive.weighted(yq, yk, Naive.head(v, b, hk), (x, y) -> Naive.featureDot(x, y, Naive::elu1, Naive::elu1), causal, true);
        });
    }

    @Test
    void equalsExplicitConvolutionsThenQuadraticLinearAttention() {
        long seed = 1;
        for (int[] s : LinearTesting.SHAPES) {
            for (boolean causal : new boolean[] {false, true}) {
                Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
                ChelaAttention.Weights w = ChelaAttention.Weights.init(seed, s[1], s[4], 4, 3);
                Tensor out = new ChelaAttention(new ChelaParams(4, 3, causal, 16), w).run(t[0], t[1], t[2], 2).output();
                VariantAssert.assertClose(naive(t[0], t[1], t[2], w, causal), out, 5e-5, 2e-4, "causal=" + causal + " " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void seededKernelsAreTheInitOnes() {
        Tensor[] t = LinearTesting.qkv(5, 1, 2, 2, 40, 40, 13, 13);
        Tensor a = new ChelaAttention(ChelaParams.defaults(), 7).run(t[0], t[1], t[2], 1).output();
        Tensor b = new ChelaAttention(ChelaParams.defaults(), ChelaAttention.Weights.init(7, 2, 13, 3, 2)).run(t[0], t[1], t[2], 1).output();
        VariantAssert.assertClose(a, b, 0, 0, "seed 7 vs explicit init(7)");
    }

    @Test
    void causalLeaksNothingFromTheFuture() {
        Tensor[] t = LinearTesting.qkv(15, 2, 3, 3, 37, 37, 13, 13);
        for (int chunk : new int[] {1, 8, 64}) {
            LinearTesting.assertNoFutureLeak(new ChelaAttention(new ChelaParams(3, 2, true, chunk), 4), t[0], t[1], t[2], "chunk " + chunk);
        }
    }

    @Test
    void badParametersAreRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ChelaParams(0, 2, false, 4)).getMessage().contains("short"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ChelaParams(3, 0, false, 4)).getMessage().contains("rank"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ChelaParams(3, 2, false, 0)).getMessage().contains("chunk"));
        ChelaAttention.Weights w = ChelaAttention.Weights.init(1, 1, 4, 3, 2);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new ChelaAttention.Weights(1, 4, 3, 2, w.shortTaps(), w.gains(), new float[] {0.5f, 1f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f}))
                .getMessage().contains("decays"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ChelaAttention(new ChelaParams(5, 2, false, 4), w)).getMessage().contains("short"));
        Tensor[] t = LinearTesting.qkv(1, 1, 2, 2, 5, 5, 4, 4);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new ChelaAttention(ChelaParams.defaults(), w).run(t[0], t[1], t[2], 1)).getMessage().contains("H="));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("chela", Settings.of("short=0"), 1)).getMessage().contains("short"));
    }
}
