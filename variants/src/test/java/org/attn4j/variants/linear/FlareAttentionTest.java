package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Init;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class FlareAttentionTest {

    static double[][] softmaxRows(double[][] x, double[][] y, double scale) {
        double[][] p = new double[x.length][y.length];
        for (int i = 0; i < x.length; i++) {
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int j = 0; j < y.length; j++) m = Math.max(m, p[i][j] = scale * Naive.dot(x[i], y[j]));
            for (int j = 0; j < y.length; j++) s += p[i][j] = Math.exp(p[i][j] - m);
            for (int j = 0; j < y.length; j++) p[i][j] /= s;
        }
        return p;
    }

    /** out = softmax(s X Lᵀ) (softmax(s L Kᵀ) V), X = K or Q, in float64; also forms the rank-M N × N matrix. */
    static Tensor naive(Tensor q, Tensor k, Tensor v, float[] lat, int m, boolean byKeys, double scale) {
        int d = q.dim(3);
        return Naive.assemble(q.dim(0), q.dim(1), q.dim(2), v.dim(3), (b, h) -> {
            int hk = LinearTesting.kvHead(q, k, h);
            double[][] kh = Naive.head(k, b, hk), vh = Naive.head(v, b, hk), x = byKeys ? kh : Naive.head(q, b, h);
            double[][] l = new double[m][d];
            for (int i = 0; i < m; i++) for (int c = 0; c < d; c++) l[i][c] = lat[(h * m + i) * d + c];
            double[][] gather = softmaxRows(l, kh, scale), scatter = softmaxRows(x, l, scale);
            double[][] a = new double[x.length][kh.length];
            for (int i = 0; i < x.length; i++) for (int r = 0; r < m; r++) for (int j = 0; j < kh.length; j++) a[i][j] += scatter[i][r] * gather[r][j];
            return Naive.apply(a, vh, false);
        });
    }

    @Test
    void equalsTheLowRankAttentionMatrix() {
        long seed = 1;
        for (int[] s : LinearTesting.SHAPES) {
            for (String scatter : new String[] {"keys", "queries"}) {
                Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
                int m = 5;
                float[] lat = Init.normal(seed, "lat", s[1] * m * s[4], 1);
                Tensor out = new FlareAttention(new FlareParams(m, Double.NaN, scatter), lat, s[1], s[4]).run(t[0], t[1], t[2], 2).output();
                VariantAssert.assertClose(naive(t[0], t[1], t[2], lat, m, scatter.equals("keys"), 1 / Math.sqrt(s[4])), out, 1e-5, 1e-4,
                        scatter + " " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void crossAttentionByQueriesAndExplicitScale() {
        Tensor[] t = LinearTesting.qkv(3, 2, 2, 2, 9, 120, 13, 6);
        float[] lat = Init.normal(4, "lat", 2 * 7 * 13, 1);
        Tensor out = new FlareAttention(new FlareParams(7, 0.5, "queries"), lat, 2, 13).run(t[0], t[1], t[2], 1).output();
        VariantAssert.assertClose(naive(t[0], t[1], t[2], lat, 7, false, 0.5), out, 1e-5, 1e-4, "Nq=9, Nk=120");
    }

    @Test
    void oneLatentBroadcastsOnePooledValue() {
        // M = 1: the scatter softmax is over one latent, so every row is the gather output
        Tensor[] t = LinearTesting.qkv(6, 1, 1, 1, 30, 30, 8, 4);
        float[] lat = Init.normal(1, "lat", 8, 1);
        float[] out = new FlareAttention(new FlareParams(1, Double.NaN, "keys"), lat, 1, 8).run(t[0], t[1], t[2], 1).output().toArray();
        for (int i = 1; i < 30; i++) for (int c = 0; c < 4; c++) assertTrue(out[i * 4 + c] == out[c], "row " + i + " differs from row 0");
    }

    @Test
    void seededLatentsAreTheInitOnes() {
        Tensor[] t = LinearTesting.qkv(5, 1, 2, 2, 40, 40, 13, 13);
        Tensor a = new FlareAttention(FlareParams.defaults(), 7).run(t[0], t[1], t[2], 1).output();
        Tensor b = new FlareAttention(FlareParams.defaults(), Init.normal(7, "flare.latents", 2 * 32 * 13, 1.0), 2, 13).run(t[0], t[1], t[2], 1).output();
        VariantAssert.assertClose(a, b, 0, 0, "seed 7 vs explicit latents");
    }

    @Test
    void badParametersAreRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FlareParams(0, Double.NaN, "keys")).getMessage().contains("latents"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FlareParams(4, -1, "keys")).getMessage().contains("scale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FlareParams(4, Double.NaN, "values")).getMessage().contains("scatter"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FlareAttention(new FlareParams(4, Double.NaN, "keys"), new float[3], 1, 2))
                .getMessage().contains("latents"));
        Tensor[] t = LinearTesting.qkv(1, 1, 1, 1, 5, 6, 4, 4);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FlareAttention(FlareParams.defaults(), 1).run(t[0], t[1], t[2], 1))
                .getMessage().contains("Nk"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("flare", Settings.of("latents=0"), 1)).getMessage().contains("latents"));
    }
}
