package org.attn4j.models.decoder;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.*;

class KvPolicyTest {

    @ParameterizedTest
    @EnumSource(value = TinyDecoders.Kind.class, names = {"LLAMA_GQA", "QWEN3", "GPT2"})
    void windowPolicyEqualsASlidingWindowModel(TinyDecoders.Kind kind) {
        DecoderModel m = TinyDecoders.model(kind, 51).threads(2);
        int budget = 5;
        int[] tokens = TinyDecoders.tokens(19, m.config().vocab(), 9);
        // A query sees `budget` keys, itself included: a window of `budget`.
        double[][] ref = ReferenceDecoder.logits(m.config().withSlidingWindow(budget), m.weights(), tokens);
        KvCache cache = new KvCache(m.config(), 64, new KvPolicy.Window(budget));
        float[] all = m.forward(cache, tokens, true);
        assertEquals(budget, cache.length());
        assertEquals(tokens.length, cache.seen());
        for (int i = 0; i < tokens.length; i++) {
            assertTrue(DecoderModelTest.relativeError(all, i * m.config().vocab(), ref[i]) < 1e-5, kind + " position " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(value = TinyDecoders.Kind.class, names = {"LLAMA_GQA", "LLAMA3_SCALED_HALVES", "QWEN2", "QWEN3"})
    void sinksPolicyEqualsStreamingLlmAsThePaperDescribesIt(TinyDecoders.Kind kind) {
        DecoderModel m = TinyDecoders.model(kind, 52).threads(2);
        int[] tokens = TinyDecoders.tokens(21, m.config().vocab(), 10);
        double[][] ref = ReferenceDecoder.streaming(m.config(), m.weights(), tokens, 2, 7);
        KvCache cache = new KvCache(m.config(), 64, new KvPolicy.Sinks(2, 7));
        // A prompt chunk that fits, then decode steps that evict.
        float[] first = m.forward(cache, java.util.Arrays.copyOf(tokens, 6), true);
        for (int i = 0; i < 6; i++) assertTrue(DecoderModelTest.relativeError(first, i * m.config().vocab(), ref[i]) < 1e-5);
        for (int i = 6; i < tokens.length; i++) {
            float[] step = m.forward(cache, new int[] {tokens[i]}, false);
            double err = DecoderModelTest.relativeError(step, 0, ref[i]);
            assertTrue(err < 1e-5, kind + " step " + i + ": " + err);
        }
        assertEquals(7, cache.length());
        // And it is not the window policy: positions and the kept set differ.
        DecoderModel w = TinyDecoders.model(kind, 52);
        float[] win = w.forward(new KvCache(w.config(), 64, new KvPolicy.Window(7)), tokens, false);
        assertTrue(DecoderModelTest.relativeError(win, 0, ref[tokens.length - 1]) > 1e-4);
    }

    @ParameterizedTest
    @EnumSource(value = TinyDecoders.Kind.class, names = {"LLAMA_GQA", "QWEN2", "QWEN3"})
    void h2oEqualsHeavyHittersAsThePaperDescribesIt(TinyDecoders.Kind kind) {
        DecoderModel m = TinyDecoders.model(kind, 54).threads(2);
        int[] tokens = TinyDecoders.tokens(20, m.config().vocab(), 12);
        double[][] ref = ReferenceDecoder.heavyHitters(m.config(), m.weights(), tokens, 8, 3);
        KvCache cache = new KvCache(m.config(), 64, new KvPolicy.HeavyHitters(8, 3));
        float[] all = m.forward(cache, tokens, true);
        for (int i = 0; i < tokens.length; i++) {
            double err = DecoderModelTest.relativeError(all, i * m.config().vocab(), ref[i]);
            assertTrue(err < 1e-5, kind + " position " + i + ": " + err);
        }
        assertEquals(8, cache.length());
        // Evicting by score is not evicting by age.
        DecoderModel w = TinyDecoders.model(kind, 54);
        float[] win = w.forward(new KvCache(w.config(), 64, new KvPolicy.Window(8)), tokens, false);
        assertTrue(DecoderModelTest.relativeError(win, 0, ref[tokens.length - 1]) > 1e-4);
    }

    @Test
    void aBudgetThatIsNeverReachedChangesNothing() {
        DecoderModel m = TinyDecoders.model(TinyDecoders.Kind.QWEN2, 53);
        int[] tokens = TinyDecoders.tokens(10, m.config().vocab(), 11);
        float[] full = m.forward(m.newCache(10), tokens, true);
        // Not bit for bit: a policy may hand the kernel a window mask, which can take another code
        // path (and JIT tier) with a different summation order; rounding differences only are allowed.
        float scale = 0;
        for (float x : full) scale = Math.max(scale, Math.abs(x));
        float delta = 1e-5f * Math.max(1, scale);
        assertArrayEquals(full, m.forward(new KvCache(m.config(), 10, new KvPolicy.Sinks(4, 10)), tokens, true), delta);
        assertArrayEquals(full, m.forward(new KvCache(m.config(), 10, new KvPolicy.Window(10)), tokens, true), delta);
    }

    @Test
    void badPoliciesAreNamed() {
        assertEquals("kv policy: expected one of full, window, sinks, h2o, shared-attention[:G], mla, got 'lru'",
                assertThrows(IllegalArgumentException.class, () -> KvPolicy.of("lru", 8)).getMessage());
        assertEquals(new KvPolicy.SharedAttention(2), KvPolicy.of("shared-attention", 8));
        assertEquals(new KvPolicy.SharedAttention(3), KvPolicy.of("shared-attention:3", 8));
        assertEquals("kv policy: expected shared-attention:G with G a number of layers, got 'shared-attention:x'",
                assertThrows(IllegalArgumentException.class, () -> KvPolicy.of("shared-attention:x", 8)).getMessage());
        assertEquals("group: expected >= 1 layers per group, got 0",
                assertThrows(IllegalArgumentException.class, () -> KvPolicy.of("shared-attention:0", 8)).getMessage());
        assertEquals("kv budget: expected >= sinks + 1 = 5 keys for the sinks policy, got 4",
                assertThrows(IllegalArgumentException.class, () -> KvPolicy.of("sinks", 4)).getMessage());
    }
}
