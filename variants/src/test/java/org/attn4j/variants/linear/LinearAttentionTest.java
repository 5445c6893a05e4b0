package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.DoubleUnaryOperator;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class LinearAttentionTest {

    static Tensor naive(Tensor q, Tensor k, Tensor v, DoubleUnaryOperator phi, boolean causal) {
        int b = q.dim(0), h = q.dim(1);
        return Naive.assemble(b, h, q.dim(2), v.dim(3), (bb, hh) -> {
            int hk = LinearTesting.kvHead(q, k, hh);
            return Naive.weighted(Naive.head(q, bb, hh), Naive.head(k, bb, hk), Naive.head(v, bb, hk),
                    (x, y) -> Naive.featureDot(x, y, phi, phi), causal, true);
        });
    }

    @Test
    void nonCausalEqualsQuadraticForm() {
        long seed = 1;
        for (int[] s : LinearTesting.SHAPES) {
            for (String feature : new String[] {"elu1", "relu"}) {
                Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
                Tensor out = new LinearAttention(new LinearParams(feature, false, 64)).run(t[0], t[1], t[2], 2).output();
                VariantAssert.assertClose(naive(t[0], t[1], t[2], feature.equals("relu") ? Naive::relu : Naive::elu1, false), out,
                        2e-5, 1e-4, feature + " " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void crossAttentionWithMoreKeysThanQueries() {
        Tensor[] t = LinearTesting.qkv(7, 2, 2, 2, 9, 300, 13, 6);
        Tensor out = new LinearAttention(LinearParams.defaults()).run(t[0], t[1], t[2], 1).output();
        VariantAssert.assertClose(naive(t[0], t[1], t[2], Naive::elu1, false), out, 2e-5, 1e-4, "Nq=9, Nk=300");
    }

    @Test
    void causalEqualsQuadraticFormForEveryChunk() {
        long seed = 100;
        for (int[] s : LinearTesting.SHAPES) {
            Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
            Tensor expected = naive(t[0], t[1], t[2], Naive::elu1, true);
            for (int chunk : new int[] {1, 5, 16, 64, 1000}) {
                Tensor out = new LinearAttention(new LinearParams("elu1", true, chunk)).run(t[0], t[1], t[2], 2).output();
                VariantAssert.assertClose(expected, out, 2e-5, 1e-4, "chunk " + chunk + " " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void chunkedCausalEqualsTokenByTokenRecurrenceAndDecoder() {
        Tensor[] t = LinearTesting.qkv(5, 1, 1, 1, 77, 77, 13, 9);
        Tensor full = new LinearAttention(new LinearParams("elu1", true, 1)).run(t[0], t[1], t[2], 1).output();
        Tensor chunked = new LinearAttention(new LinearParams("elu1", true, 16)).run(t[0], t[1], t[2], 1).output();
        VariantAssert.assertClose(full, chunked, 1e-5, 1e-5, "chunk 16 vs chunk 1");
        LinearAttention.Decoder dec = new LinearAttention(new LinearParams("elu1", true, 16)).decoder(13, 9);
        float[] stepped = new float[77 * 9];
        for (int i = 0; i < 77; i++) {
            float[] q = new float[13], k = new float[13], v = new float[9];
            for (int c = 0; c < 13; c++) {
                q[c] = t[0].get(0, 0, i, c);
                k[c] = t[1].get(0, 0, i, c);
            }
            for (int c = 0; c < 9; c++) v[c] = t[2].get(0, 0, i, c);
            System.arraycopy(dec.step(q, k, v), 0, stepped, i * 9, 9);
        }
        VariantAssert.assertClose(chunked, Tensor.of(stepped, 1, 1, 77, 9), 1e-5, 1e-5, "decoder vs chunked");
        assertTrue(dec.flops() > 0);
        VariantAssert.assertRejects("step: expected q, k of length 13", () -> dec.step(new float[12], new float[13], new float[9]));
    }

    @Test
    void causalLeaksNothingFromTheFuture() {
        Tensor[] t = LinearTesting.qkv(11, 2, 3, 3, 45, 45, 13, 13);
        for (int chunk : new int[] {1, 8, 64}) {
            LinearTesting.assertNoFutureLeak(new LinearAttention(new LinearParams("elu1", true, chunk)), t[0], t[1], t[2], "chunk " + chunk);
        }
    }

    @Test
    void reluRowWithNoPositiveFeatureIsZeroNotNaN() {
        float[] q = new float[4 * 3];
        java.util.Arrays.fill(q, -1f); // φ(q) = 0 for every query
        Tensor[] t = LinearTesting.qkv(3, 1, 1, 1, 4, 4, 3, 2);
        for (boolean causal : new boolean[] {false, true}) {
            float[] out = new LinearAttention(new LinearParams("relu", causal, 2)).run(Tensor.of(q, 1, 1, 4, 3), t[1], t[2], 1).output().toArray();
            for (float x : out) assertEquals(0f, x);
        }
    }

    @Test
    void flopsAreLinearInN() {
        LinearAttention a = new LinearAttention(new LinearParams("elu1", true, 64));
        Tensor[] t1 = LinearTesting.qkv(1, 1, 1, 1, 512, 512, 16, 16);
        Tensor[] t2 = LinearTesting.qkv(1, 1, 1, 1, 1024, 1024, 16, 16);
        VariantResult r1 = a.run(t1[0], t1[1], t1[2], 1), r2 = a.run(t2[0], t2[1], t2[2], 1);
        double ratio = (double) r2.flops() / r1.flops();
        assertTrue(ratio > 1.9 && ratio < 2.1, "flops ratio for 2x N: " + ratio);
        assertTrue(r2.flops() < VariantResult.denseFlops(1, 1, 1024, 1024, 16, 16), "fewer flops than dense at N=1024");
    }

    @Test
    void badParametersAreRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LinearParams("exp", false, 4)).getMessage().contains("feature"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LinearParams("elu1", true, 0)).getMessage().contains("chunk"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("linear", Settings.of("chunk=-3"), 1)).getMessage().contains("chunk"));
        Tensor[] t = LinearTesting.qkv(1, 1, 1, 1, 5, 6, 4, 4);
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new LinearAttention(new LinearParams("elu1", true, 4)).run(t[0], t[1], t[2], 1)).getMessage().contains("Nk"));
    }
}
