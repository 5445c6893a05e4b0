package org.attn4j.models.decoder;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class DecoderModelTest {

    /** max |a − b| over max |b|: one number per logits row, insensitive to where the logits sit. */
    static double relativeError(float[] a, int aOff, double[] b) {
        double diff = 0, scale = 0;
        for (int i = 0; i < b.length; i++) {
            diff = Math.max(diff, Math.abs(a[aOff + i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return diff / scale;
    }

    @ParameterizedTest
    @EnumSource(TinyDecoders.Kind.class)
    void prefillMatchesFloat64Reference(TinyDecoders.Kind kind) {
        DecoderModel m = TinyDecoders.model(kind, 11);
        int[] tokens = TinyDecoders.tokens(23, m.config().vocab(), 5);
        float[] logits = m.forward(m.newCache(40), tokens, true);
        double[][] ref = ReferenceDecoder.logits(m.config(), m.weights(), tokens);
        for (int i = 0; i < tokens.length; i++) {
            double err = relativeError(logits, i * m.config().vocab(), ref[i]);
            assertTrue(err < 1e-5, kind + " position " + i + ": relative error " + err);
        }
    }

    @ParameterizedTest
    @EnumSource(TinyDecoders.Kind.class)
    void decodeWithCacheMatchesFullPrefill(TinyDecoders.Kind kind) {
        DecoderModel m = TinyDecoders.model(kind, 12).threads(2);
        int[] tokens = TinyDecoders.tokens(20, m.config().vocab(), 6);
        double[][] ref = ReferenceDecoder.logits(m.config(), m.weights(), tokens);
        KvCache cache = m.newCache(32);
        float[] first = m.forward(cache, java.util.Arrays.copyOf(tokens, 7), false);
        assertTrue(relativeError(first, 0, ref[6]) < 1e-5);
        for (int i = 7; i < tokens.length; i++) {
            float[] step = m.forward(cache, new int[] {tokens[i]}, false);
            double err = relativeError(step, 0, ref[i]);
            assertTrue(err < 1e-5, kind + " decode step at position " + i + ": relative error " + err);
        }
        assertEquals(tokens.length, cache.length());
    }

    @ParameterizedTest
    @EnumSource(TinyDecoders.Kind.class)
    void q8WeightsMatchDequantiseThenFloat(TinyDecoders.Kind kind) {
        // Q8 products run on int8 rows through the Q8 micro-kernel; the reference multiplies the
        // dequantised weights in float64.
        DecoderModel f = TinyDecoders.model(kind, 15);
        DecoderConfig c = new DecoderConfig(f.config().arch(), f.config().vocab(), 64, 2, 4, f.config().kvHeads() == 4 ? 4 : 2, 16, 96,
                f.config().contextLength(), f.config().normEps(), f.config().ropeTheta(), 16, f.config().rope(),
                f.config().ropeFactors() == null ? null : DecoderConfig.llama3Factors(16, f.config().ropeTheta(), 8f, 1f, 4f, 16), f.config().slidingWindow());
        DecoderWeights q8 = TinyDecoders.weights(c, kind != TinyDecoders.Kind.LLAMA_TIED, 16).toQ8();
        assertInstanceOf(Q8Matrix.class, q8.layers()[1].wDown());
        assertInstanceOf(Q8Matrix.class, q8.tokenEmbedding());
        DecoderModel m = new DecoderModel(c, q8).threads(2).q8Activations(false);
        int[] tokens = TinyDecoders.tokens(10, c.vocab(), 8);
        double[][] ref = ReferenceDecoder.logits(c, q8, tokens);
        KvCache cache = m.newCache(10);
        float[] all = m.forward(cache, java.util.Arrays.copyOf(tokens, 9), true);
        for (int i = 0; i < 9; i++) assertTrue(relativeError(all, i * c.vocab(), ref[i]) < 1e-5, kind + " position " + i);
        float[] last = m.forward(cache, new int[] {tokens[9]}, false);
        assertTrue(relativeError(last, 0, ref[9]) < 1e-5, kind + " decode step");
    }

    @ParameterizedTest
    @EnumSource(TinyDecoders.Kind.class)
    void q8ActivationsMatchAForwardThatRoundsTheActivationsAlike(TinyDecoders.Kind kind) {
        // With quantised activations (the default, llama.cpp's numerics) every Q8 product equals the
        // float64 product of the dequantised weights with the Q8_0-rounded activations, so a float64
        // forward that rounds the same activations agrees to float rounding (about 1e-7); the float-activation
        // model differs by the activation rounding, far more than that.
        DecoderModel f = TinyDecoders.model(kind, 15);
        DecoderConfig c = new DecoderConfig(f.config().arch(), f.config().vocab(), 64, 2, 4, f.config().kvHeads() == 4 ? 4 : 2, 16, 96,
                f.config().contextLength(), f.config().normEps(), f.config().ropeTheta(), 16, f.config().rope(),
                f.config().ropeFactors() == null ? null : DecoderConfig.llama3Factors(16, f.config().ropeTheta(), 8f, 1f, 4f, 16), f.config().slidingWindow());
        DecoderWeights q8 = TinyDecoders.weights(c, kind != TinyDecoders.Kind.LLAMA_TIED, 16).toQ8();
        assertInstanceOf(Q8Matrix.class, q8.layers()[0].wq());
        DecoderModel m = new DecoderModel(c, q8).threads(2).q8Activations(true);
        DecoderModel exact = new DecoderModel(c, q8).threads(2).q8Activations(false);
        int[] tokens = TinyDecoders.tokens(10, c.vocab(), 8);
        KvCache cache = m.newCache(10), cacheExact = exact.newCache(10);
        float[] all = m.forward(cache, java.util.Arrays.copyOf(tokens, 9), true);
        float[] allExact = exact.forward(cacheExact, java.util.Arrays.copyOf(tokens, 9), true);
        float[] last = m.forward(cache, new int[] {tokens[9]}, false); // one token: the int8 kernel
        double[][] ref = ReferenceDecoder.logits(c, q8, tokens, true);
        double gap = 0;
        int flipped = 0;
        for (int i = 0; i < 10; i++) {
            double err = i < 9 ? relativeError(all, i * c.vocab(), ref[i]) : relativeError(last, 0, ref[9]);
            // A value within float rounding of a half step may round to the neighbouring quantum in
            // one forward and not the other (seen once in 70 rows: 2e-3); allow one such row per model.
            if (err >= 1e-5) flipped++;
            assertTrue(err < 5e-3, kind + " position " + i + ": " + err);
            if (i < 9) gap = Math.max(gap, relativeError(allExact, i * c.vocab(), ref[i]));
        }
        assertTrue(flipped <= 1, kind + ": " + flipped + " rows differ by more than float rounding");
        assertTrue(gap > 1e-3, kind + ": float activations should differ by the rounding, got " + gap);
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void q8BatchedStepsEqualEachSequenceAlone(boolean quantizedActivations) {
        // A batched step multiplies all rows by the multi-token Q8 kernel, a single sequence's step by
        // the one-token kernel (int8 × int8 with quantised activations): the logits must agree.
        DecoderConfig c = new DecoderConfig(DecoderConfig.Arch.LLAMA, 300, 64, 2, 4, 2, 16, 96, 64, 1e-5f, 10000f, 16,
                DecoderConfig.RopeStyle.INTERLEAVED, null, 0);
        DecoderModel m = new DecoderModel(c, TinyDecoders.weights(c, true, 31).toQ8()).threads(2).q8Activations(quantizedActivations);
        int n = 6, steps = 5;
        int[][] seqs = new int[n][];
        KvCache[] batch = new KvCache[n], alone = new KvCache[n];
        for (int i = 0; i < n; i++) {
            seqs[i] = TinyDecoders.tokens(2 + i + steps, c.vocab(), 40 + i);
            batch[i] = m.newCache(seqs[i].length);
            alone[i] = m.newCache(seqs[i].length);
            m.forward(batch[i], java.util.Arrays.copyOf(seqs[i], 2 + i), false);
            m.forward(alone[i], java.util.Arrays.copyOf(seqs[i], 2 + i), false);
        }
        int flipped = 0;
        for (int s = 0; s < steps; s++) {
            int[] toks = new int[n];
            for (int i = 0; i < n; i++) toks[i] = seqs[i][2 + i + s];
            float[] logits = m.step(batch, toks);
            for (int i = 0; i < n; i++) {
                float[] one = m.forward(alone[i], new int[] {toks[i]}, false);
                double[] ref = new double[one.length];
                for (int j = 0; j < one.length; j++) ref[j] = one[j];
                double err = relativeError(logits, i * c.vocab(), ref);
                if (err >= 1e-5) flipped++; // a quantum flipped by float rounding (see q8Activations... above)
                assertTrue(err < 5e-3, "step " + s + " sequence " + i + ": " + err);
            }
        }
        assertTrue(flipped <= (quantizedActivations ? 1 : 0), flipped + " rows differ by more than float rounding");
    }

    @ParameterizedTest
    @EnumSource(value = TinyDecoders.Kind.class, names = {"LLAMA_GQA", "QWEN2", "QWEN3", "GPT2"})
    void batchedStepsEqualEachSequenceAlone(TinyDecoders.Kind kind) {
        // Five sequences of different lengths; sequence 4 joins after two steps, sequence 1 leaves after three.
        DecoderModel m = TinyDecoders.model(kind, 17).threads(2);
        int v = m.config().vocab();
        int[][] seqs = new int[5][];
        for (int i = 0; i < 5; i++) seqs[i] = TinyDecoders.tokens(3 + 2 * i + 6, v, 20 + i);
        int[] prompt = {3, 5, 7, 9, 11};
        KvCache[] caches = new KvCache[5];
        for (int i = 0; i < 5; i++) {
            caches[i] = m.newCache(seqs[i].length);
            m.forward(caches[i], java.util.Arrays.copyOf(seqs[i], prompt[i]), false);
        }
        int[] next = prompt.clone();
        for (int stepNo = 0; stepNo < 6; stepNo++) {
            java.util.List<Integer> live = new java.util.ArrayList<>();
            for (int i = 0; i < 5; i++) {
                if (i == 4 && stepNo < 2) continue;
                if (i == 1 && stepNo >= 3) continue;
                if (next[i] < seqs[i].length) live.add(i);
            }
            KvCache[] cs = new KvCache[live.size()];
            int[] toks = new int[live.size()];
            for (int j = 0; j < cs.length; j++) {
                cs[j] = caches[live.get(j)];
                toks[j] = seqs[live.get(j)][next[live.get(j)]];
            }
            float[] logits = m.step(cs, toks);
            for (int j = 0; j < cs.length; j++) {
                int i = live.get(j);
                double[] ref = ReferenceDecoder.logits(m.config(), m.weights(), java.util.Arrays.copyOf(seqs[i], next[i] + 1))[next[i]];
                double err = relativeError(logits, j * v, ref);
                assertTrue(err < 1e-5, kind + " step " + stepNo + " sequence " + i + ": " + err);
                next[i]++;
            }
        }
    }

    @Test
    void ropePairingMatters() {
        // The same weights read with the other pairing must give other logits: the check is not blind to it.
        DecoderModel m = TinyDecoders.model(TinyDecoders.Kind.LLAMA_GQA, 13);
        DecoderConfig c = m.config();
        DecoderConfig halves = new DecoderConfig(c.arch(), c.vocab(), c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffn(),
                c.contextLength(), c.normEps(), c.ropeTheta(), c.ropeDim(), DecoderConfig.RopeStyle.HALVES, null, 0);
        int[] tokens = TinyDecoders.tokens(9, c.vocab(), 7);
        float[] logits = new DecoderModel(halves, m.weights()).forward(new KvCache(c, 9), tokens, false);
        assertTrue(relativeError(logits, 0, ReferenceDecoder.logits(c, m.weights(), tokens)[8]) > 1e-3);
    }

    @Test
    void badInputsNameTheArgument() {
        DecoderModel m = TinyDecoders.model(TinyDecoders.Kind.GPT2, 14);
        KvCache cache = m.newCache(8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(cache, new int[] {1, 61}, false));
        assertTrue(e.getMessage().startsWith("tokens[1]: expected an id in [0, 61), got 61"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.forward(cache, new int[9], false));
        assertTrue(e.getMessage().contains("exceed the cache capacity 8"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.newCache(65));
        assertTrue(e.getMessage().startsWith("capacity:"), e.getMessage());
        DecoderConfig c = m.config();
        DecoderWeights w = m.weights();
        DecoderWeights missing = new DecoderWeights(w.tokenEmbedding(), null, w.layers(), w.outputNorm(), w.outputNormBias(), null);
        e = assertThrows(IllegalArgumentException.class, () -> new DecoderModel(c, missing));
        assertTrue(e.getMessage().startsWith("position_embd: expected"), e.getMessage());
    }
}
