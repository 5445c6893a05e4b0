package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class LlnAttentionTest {

    /** Sample standard deviation of a head's entries. */
    static double std(double[][] x) {
        double s = 0, ss = 0;
        int n = 0;
        for (double[] r : x) for (double e : r) { s += e; n++; }
        double m = s / n;
        for (double[] r : x) for (double e : r) ss += (e - m) * (e - m);
        return Math.sqrt(ss / (n - 1));
    }

    /** exp(α q)·exp(β k) weights, α and β by the paper's moment matching, float64, no shifts. */
    static Tensor naive(Tensor q, Tensor k, Tensor v, boolean causal, double sigmaQ, double sigmaK) {
        return Naive.assemble(q.dim(0), q.dim(1), q.dim(2), v.dim(3), (b, h) -> {
            int hk = LinearTesting.kvHead(q, k, h);
            double[][] qh = Naive.head(q, b, h), kh = Naive.head(k, b, hk), vh = Naive.head(v, b, hk);
            double sq = Double.isNaN(sigmaQ) ? std(qh) : sigmaQ, sk = Double.isNaN(sigmaK) ? std(kh) : sigmaK;
            // σ̃² = (σq² σk² − b)/(2a), a = 0.14855178144710912, b = −0.35487039130661086 (the paper's fit)
            double tilde = Math.sqrt((sq * sq * sk * sk + 0.35487039130661086) / (2 * 0.14855178144710912));
            double alpha = tilde / sq, beta = tilde / sk;
            return Naive.weighted(qh, kh, vh, (x, y) -> Naive.featureDot(x, y, e -> Math.exp(alpha * e), e -> Math.exp(beta * e)), causal, true);
        });
    }

    @Test
    void momentMatchingMatchesThePaperAtUnitVariance() {
        double[] ab = LlnAttention.alphaBeta(1, 1);
        // σ̃ = sqrt((1 + 0.35487)/(2·0.148552)) = 2.1354…
        assertEquals(2.13543, ab[0], 1e-4);
        assertEquals(ab[0], ab[1], 0);
        double[] ab2 = LlnAttention.alphaBeta(2, 0.5);
        assertEquals(ab[0] / 2, ab2[0], 1e-9);
        assertEquals(ab[0] * 2, ab2[1], 1e-9);
    }

    @Test
    void nonCausalEqualsQuadraticFormWithEstimatedMoments() {
        long seed = 1;
        for (int[] s : LinearTesting.SHAPES) {
            if (s[3] == 1) continue; // a std needs two or more tokens' worth of entries; N=1 below
            Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
            Tensor out = new LlnAttention(LlnParams.defaults()).run(t[0], t[1], t[2], 2).output();
            VariantAssert.assertClose(naive(t[0], t[1], t[2], false, Double.NaN, Double.NaN), out, 3e-5, 2e-4, java.util.Arrays.toString(s));
        }
    }

    @Test
    void causalEqualsQuadraticFormForEveryChunk() {
        long seed = 50;
        for (int[] s : LinearTesting.SHAPES) {
            Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
            Tensor expected = naive(t[0], t[1], t[2], true, 1, 1);
            for (int chunk : new int[] {1, 7, 64}) {
                Tensor out = new LlnAttention(new LlnParams(true, chunk, Double.NaN, Double.NaN)).run(t[0], t[1], t[2], 2).output();
                VariantAssert.assertClose(expected, out, 3e-5, 2e-4, "chunk " + chunk + " " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void explicitSigmasAreUsed() {
        Tensor[] t = LinearTesting.qkv(8, 1, 2, 2, 33, 33, 13, 13);
        Tensor out = new LlnAttention(new LlnParams(false, 64, 0.7, 1.6)).run(t[0], t[1], t[2], 1).output();
        VariantAssert.assertClose(naive(t[0], t[1], t[2], false, 0.7, 1.6), out, 3e-5, 2e-4, "sigmaq=0.7, sigmak=1.6");
    }

    @Test
    void largeInputsStayFiniteThanksToTheShifts() {
        // β·k reaches several hundred (exp overflows float32 past 88) and grows along the sequence:
        // only the row and running-max shifts keep the float32 form finite
        int n = 150;
        Tensor[] t = LinearTesting.qkv(9, 1, 1, 1, n, n, 8, 4);
        float[] kx = scaled(t[1], 60f);
        for (int j = 0; j < n; j++) for (int c = 0; c < 8; c++) kx[j * 8 + c] += j * 0.5f;
        Tensor q = Tensor.of(scaled(t[0], 3f), 1, 1, n, 8), k = Tensor.of(kx, 1, 1, n, 8);
        for (boolean causal : new boolean[] {false, true}) {
            for (int chunk : new int[] {1, 8, 64}) {
                Tensor out = new LlnAttention(new LlnParams(causal, chunk, 1, 1)).run(q, k, t[2], 1).output();
                VariantAssert.assertClose(naive(q, k, t[2], causal, 1, 1), out, 1e-4, 1e-3, "large keys, causal=" + causal + ", chunk " + chunk);
            }
        }
    }

    private static float[] scaled(Tensor t, float f) {
        float[] x = t.toArray().clone();
        for (int i = 0; i < x.length; i++) x[i] *= f;
        return x;
    }

    @Test
    void decoderEqualsChunkedCausal() {
        int n = 60, d = 13, dv = 7;
        Tensor[] t = LinearTesting.qkv(21, 1, 1, 1, n, n, d, dv);
        float[] kx = scaled(t[1], 4f); // β·k up to ~40: the decoder re-bases its state as the max grows
        for (int j = 0; j < n; j++) for (int c = 0; c < d; c++) kx[j * d + c] += 0.2f * j;
        Tensor k = Tensor.of(kx, 1, 1, n, d);
        LlnAttention lln = new LlnAttention(new LlnParams(true, 16, 1.3, 0.8));
        Tensor chunked = lln.run(t[0], k, t[2], 1).output();
        VariantAssert.assertClose(naive(t[0], k, t[2], true, 1.3, 0.8), chunked, 3e-5, 2e-4, "chunked vs naive");
        LlnAttention.Decoder dec = lln.decoder(d, dv);
        float[] stepped = new float[n * dv];
        for (int i = 0; i < n; i++) {
            float[] q = new float[d], kk = new float[d], v = new float[dv];
            for (int c = 0; c < d; c++) {
                q[c] = t[0].get(0, 0, i, c);
                kk[c] = k.get(0, 0, i, c);
            }
            for (int c = 0; c < dv; c++) v[c] = t[2].get(0, 0, i, c);
            System.arraycopy(dec.step(q, kk, v), 0, stepped, i * dv, dv);
        }
        VariantAssert.assertClose(chunked, Tensor.of(stepped, 1, 1, n, dv), 2e-5, 2e-4, "decoder vs chunked");
    }

    @Test
    void causalLeaksNothingFromTheFuture() {
        Tensor[] t = LinearTesting.qkv(12, 2, 3, 3, 41, 41, 13, 13);
        for (int chunk : new int[] {1, 8, 64}) {
            LinearTesting.assertNoFutureLeak(new LlnAttention(new LlnParams(true, chunk, Double.NaN, Double.NaN)), t[0], t[1], t[2], "chunk " + chunk);
        }
    }

    @Test
    void badParametersAreRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LlnParams(false, 0, Double.NaN, Double.NaN)).getMessage().contains("chunk"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LlnParams(false, 4, -1, Double.NaN)).getMessage().contains("sigmaq"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new LlnParams(false, 4, 1, Double.POSITIVE_INFINITY)).getMessage().contains("sigmak"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("lln", Settings.of("sigmaq=0"), 1)).getMessage().contains("sigmaq"));
    }
}
