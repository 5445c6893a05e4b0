package org.attn4j.models.decoder;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.*;

class SharedAttentionTest {

    private static DecoderConfig fourLayers(DecoderConfig.Arch arch, DecoderConfig.RopeStyle rope, int window) {
        return new DecoderConfig(arch, 61, 32, 4, 4, 2, 8, 48, 128, 1e-5f, 10000f, arch == DecoderConfig.Arch.GPT2 ? 0 : 8, rope, null, window);
    }

    /** Prefill, token-by-token decode (contiguous and paged) and batched steps all equal an independent float64 forward. */
    @ParameterizedTest
    @CsvSource({"LLAMA,INTERLEAVED,0,2", "LLAMA,INTERLEAVED,0,4", "QWEN2,HALVES,0,2", "GPT2,NONE,0,3", "LLAMA,INTERLEAVED,4,2"})
    void sharedAttentionEqualsAFloat64ForwardThatReusesTheGroupsFirstLayersProbabilities(DecoderConfig.Arch arch, DecoderConfig.RopeStyle rope,
                                                                                        int window, int group) {
        DecoderConfig c = fourLayers(arch, rope, window);
        DecoderModel m = new DecoderModel(c, DecoderWeights.random(c, true, 81)).threads(2);
        int[] tokens = TinyDecoders.tokens(13, c.vocab(), 82);
        double[][] ref = ReferenceDecoder.logits(c, m.weights(), tokens, group);
        KvPolicy policy = new KvPolicy.SharedAttention(group);

        float[] all = m.forward(m.newCache(32, policy), tokens, true);
        for (int i = 0; i < tokens.length; i++) {
            assertTrue(DecoderModelTest.relativeError(all, i * c.vocab(), ref[i]) < 1e-5, "prefill position " + i);
        }
        KvCache flat = m.newCache(32, policy);
        KvCache paged = m.newCache(32, policy, new KvBlockPool(c, 8, 4));
        m.forward(flat, java.util.Arrays.copyOf(tokens, 5), false);
        m.forward(paged, java.util.Arrays.copyOf(tokens, 5), false);
        for (int i = 5; i < tokens.length; i++) {
            float[] a = m.forward(flat, new int[] {tokens[i]}, false);
            float[] b = m.step(new KvCache[] {paged}, new int[] {tokens[i]});
            assertTrue(DecoderModelTest.relativeError(a, 0, ref[i]) < 1e-5, "decode step " + i);
            assertTrue(DecoderModelTest.relativeError(b, 0, ref[i]) < 1e-5, "paged step " + i);
        }
        // Sharing changes the model: it is not the plain forward.
        double[][] plain = ReferenceDecoder.logits(c, m.weights(), tokens);
        assertTrue(DecoderModelTest.relativeError(all, (tokens.length - 1) * c.vocab(), plain[tokens.length - 1]) > 1e-3);
    }

    @org.junit.jupiter.api.Test
    void groupOfOneIsThePlainModelAndMixedPoliciesInOneStepAreRefused() {
        DecoderConfig c = fourLayers(DecoderConfig.Arch.LLAMA, DecoderConfig.RopeStyle.INTERLEAVED, 0);
        DecoderModel m = new DecoderModel(c, DecoderWeights.random(c, true, 83));
        int[] tokens = TinyDecoders.tokens(7, c.vocab(), 84);
        float[] plain = m.forward(m.newCache(8), tokens, false);
        float[] one = m.forward(m.newCache(8, new KvPolicy.SharedAttention(1)), tokens, false);
        double[] p = new double[plain.length];
        for (int i = 0; i < p.length; i++) p[i] = plain[i];
        assertTrue(DecoderModelTest.relativeError(one, 0, p) < 1e-6);
        var e = assertThrows(IllegalArgumentException.class,
                () -> m.step(new KvCache[] {m.newCache(8), m.newCache(8, new KvPolicy.SharedAttention(2))}, new int[] {1, 2}));
        assertTrue(e.getMessage().startsWith("caches[1]: policy SharedAttention[group=2] differs"), e.getMessage());
        assertEquals("group: expected >= 1 layers per group, got 0",
                assertThrows(IllegalArgumentException.class, () -> new KvPolicy.SharedAttention(0)).getMessage());
    }
}
