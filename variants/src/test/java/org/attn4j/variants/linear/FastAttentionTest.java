package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class FastAttentionTest {

    static double[] unit(double[] x) {
        double m = 0, ss = 0;
        for (double e : x) m += e;
        m /= x.length;
        for (double e : x) ss += (e - m) * (e - m);
        double[] o = new double[x.length];
        for (int c = 0; c < x.length; c++) o[c] = ss > 0 ? (x[c] - m) / Math.sqrt(ss) : 0;
        return o;
    }

    static Tensor naive(Tensor q, Tensor k, Tensor v, int order, boolean causal) {
        return naive(q, k, v, order, causal, true, 1);
    }

    /** a_ij = f(s·q̂_i·k̂_j)/Σ_j f, f the order-p Taylor polynomial of exp, the N × N matrix in full. */
    static Tensor naive(Tensor q, Tensor k, Tensor v, int order, boolean causal, boolean rows, double scale) {
        return Naive.assemble(q.dim(0), q.dim(1), q.dim(2), v.dim(3), (b, h) -> {
            int hk = LinearTesting.kvHead(q, k, h);
            return Naive.weighted(Naive.head(q, b, h), Naive.head(k, b, hk), Naive.head(v, b, hk), (x, y) -> {
                double s = scale * (rows ? Naive.dot(unit(x), unit(y)) : Naive.dot(x, y));
                return order == 1 ? 1 + s : 1 + s + s * s / 2;
            }, causal, true);
        });
    }

    @Test
    void featureDimIsTheSymmetricQuadraticCount() {
        assertEquals(1 + 64 + 64 * 65 / 2, FastAttention.featureDim(2, 64));
        assertEquals(14, FastAttention.featureDim(1, 13));
    }

    @Test
    void nonCausalEqualsQuadraticForm() {
        long seed = 1;
        for (int[] s : LinearTesting.SHAPES) {
            for (int order : new int[] {1, 2}) {
                Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
                Tensor out = new FastAttention(new FastParams(order, false, 64)).run(t[0], t[1], t[2], 2).output();
                VariantAssert.assertClose(naive(t[0], t[1], t[2], order, false), out, 2e-5, 1e-4, "order " + order + " " + java.util.Arrays.toString(s));
            }
        }
        Tensor[] t = LinearTesting.qkv(99, 1, 2, 2, 7, 200, 13, 5);
        VariantAssert.assertClose(naive(t[0], t[1], t[2], 2, false), new FastAttention(FastParams.defaults()).run(t[0], t[1], t[2], 1).output(),
                2e-5, 1e-4, "Nq=7, Nk=200");
    }

    @Test
    void causalEqualsQuadraticFormForEveryChunk() {
        long seed = 40;
        for (int[] s : LinearTesting.SHAPES) {
            for (int order : new int[] {1, 2}) {
                Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
                Tensor expected = naive(t[0], t[1], t[2], order, true);
                for (int chunk : new int[] {1, 9, 64}) {
                    Tensor out = new FastAttention(new FastParams(order, true, chunk)).run(t[0], t[1], t[2], 2).output();
                    VariantAssert.assertClose(expected, out, 2e-5, 1e-4, "order " + order + ", chunk " + chunk + " " + java.util.Arrays.toString(s));
                }
            }
        }
    }

    @Test
    void rawRowsWithTheCodeTemperature() {
        Tensor[] t = LinearTesting.qkv(61, 2, 2, 1, 33, 33, 13, 7);
        for (boolean causal : new boolean[] {false, true}) {
            Tensor out = new FastAttention(new FastParams(2, "none", Double.NaN, causal, 8)).run(t[0], t[1], t[2], 1).output();
            VariantAssert.assertClose(naive(t[0], t[1], t[2], 2, causal, false, 1 / Math.sqrt(13)), out, 2e-5, 1e-4, "normalize=none, causal=" + causal);
            Tensor scaled = new FastAttention(new FastParams(2, "rows", 2.5, causal, 8)).run(t[0], t[1], t[2], 1).output();
            VariantAssert.assertClose(naive(t[0], t[1], t[2], 2, causal, true, 2.5), scaled, 2e-5, 1e-4, "scale 2.5, causal=" + causal);
        }
    }

    @Test
    void constantRowsNormaliseToZeroAndGiveUniformWeights() {
        // every q and k row constant: q̂ = k̂ = 0, f = 1, so the output is the plain mean of v
        Tensor q = Tensor.of(new float[] {2, 2, 2, 5, 5, 5}, 1, 1, 2, 3), k = Tensor.of(new float[] {1, 1, 1, -1, -1, -1, 3, 3, 3}, 1, 1, 3, 3);
        Tensor v = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 1, 3, 2);
        float[] out = new FastAttention(FastParams.defaults()).run(q, k, v, 1).output().toArray();
        assertEquals(3f, out[0], 1e-6);
        assertEquals(4f, out[1], 1e-6);
        assertEquals(3f, out[2], 1e-6);
    }

    @Test
    void causalLeaksNothingFromTheFuture() {
        Tensor[] t = LinearTesting.qkv(14, 2, 3, 3, 35, 35, 13, 13);
        for (int chunk : new int[] {1, 8, 64}) {
            LinearTesting.assertNoFutureLeak(new FastAttention(new FastParams(2, true, chunk)), t[0], t[1], t[2], "chunk " + chunk);
        }
    }

    @Test
    void badParametersAreRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FastParams(3, false, 4)).getMessage().contains("order"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FastParams(2, false, 0)).getMessage().contains("chunk"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FastParams(2, "l2", Double.NaN, false, 4)).getMessage().contains("normalize"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FastParams(2, "rows", 0, false, 4)).getMessage().contains("scale"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("fast-attention", Settings.of("order=0"), 1)).getMessage().contains("order"));
    }
}
