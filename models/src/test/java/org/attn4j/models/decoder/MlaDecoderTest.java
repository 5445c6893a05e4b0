package org.attn4j.models.decoder;

import org.attn4j.models.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.*;

/** DeepSeek-V2 (Multi-head Latent Attention) with its latent cache against {@link MlaReference}. */
class MlaDecoderTest {
    @TempDir Path dir;

    static final double TOL = 1e-5;

    /** Odd sizes everywhere; {@code qLora} 0 is V2-Lite's plain q projection. */
    static DecoderConfig config(int qLora) {
        var mla = new DecoderConfig.Mla(qLora, 13, 7, 6, 5);
        return new DecoderConfig(DecoderConfig.Arch.DEEPSEEK2, 61, 27, 2, 3, 1, 13, 37, 128, 1e-6f, 10000f, 6,
                DecoderConfig.RopeStyle.INTERLEAVED, null, 0, mla);
    }

    static DecoderModel model(int qLora, long seed) {
        DecoderConfig c = config(qLora);
        return new DecoderModel(c, DecoderWeights.random(c, false, seed)).threads(2);
    }

    static double relative(float[] a, int off, double[] b) { return DecoderModelTest.relativeError(a, off, b); }

    /** Prefill of {@code prompt} tokens then decode one by one; every row against the reference under {@code visible}. */
    static void check(DecoderModel m, KvPolicy policy, int prompt, int total, IntFunction<MlaReference.Visible> visible, String what) {
        int[] toks = TinyDecoders.tokens(total, m.config().vocab(), total * 31L + prompt);
        double[][] ref = MlaReference.logits(m.config(), m.weights(), toks, visible);
        KvCache cache = m.newCache(total, policy);
        assertTrue(cache.latent());
        int v = m.config().vocab();
        float[] pre = m.forward(cache, java.util.Arrays.copyOf(toks, prompt), true);
        for (int i = 0; i < prompt; i++) {
            double e = relative(pre, i * v, ref[i]);
            assertTrue(e <= TOL, what + " prefill row " + i + ": relative error " + e);
        }
        for (int i = prompt; i < total; i++) {
            float[] step = m.forward(cache, new int[] {toks[i]}, false);
            double e = relative(step, 0, ref[i]);
            assertTrue(e <= TOL, what + " decode token " + i + ": relative error " + e);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 11})
    void prefillAndDecodeEqualThePlainFloat64Forward(int qLora) {
        DecoderModel m = model(qLora, 7 + qLora);
        check(m, new KvPolicy.Latent(), 9, 14, MlaReference::full, "q_lora " + qLora);
        check(m, new KvPolicy.Full(), 1, 5, MlaReference::full, "q_lora " + qLora + " N=1");
        // The plain (decompressing) form is a second implementation of the same attention.
        check(model(qLora, 7 + qLora).absorbed(false), new KvPolicy.Latent(), 6, 9, MlaReference::full, "plain form q_lora " + qLora);
    }

    @Test
    void batchedStepsEqualEachSequenceAlone() {
        DecoderModel m = model(11, 8);
        int[][] prompts = {TinyDecoders.tokens(5, 61, 1), TinyDecoders.tokens(1, 61, 2), TinyDecoders.tokens(8, 61, 3)};
        KvCache[] batch = new KvCache[3], alone = new KvCache[3];
        for (int s = 0; s < 3; s++) {
            batch[s] = m.newCache(20);
            alone[s] = m.newCache(20);
            m.forward(batch[s], prompts[s], false);
            m.forward(alone[s], prompts[s], false);
        }
        for (int step = 0; step < 4; step++) {
            int[] toks = {step + 3, 2 * step + 1, 40 - step};
            float[] got = m.step(batch, toks);
            for (int s = 0; s < 3; s++) {
                float[] one = m.forward(alone[s], new int[] {toks[s]}, false);
                assertArrayEquals(one, java.util.Arrays.copyOfRange(got, s * 61, s * 61 + 61), 1e-5f, "step " + step + " sequence " + s);
            }
        }
    }

    @Test
    void windowAndSinksWorkOnTheLatentRows() {
        DecoderModel m = model(11, 3);
        check(m, new KvPolicy.Window(5), 3, 12, MlaReference.window(5), "window 5");
        // Sinks re-rotate the cached k^R when the window shifts (positions are cache slots).
        check(m, new KvPolicy.Sinks(2, 6), 4, 13, MlaReference.sinks(2, 6), "sinks 2 + 4");
    }

    @Test
    void heavyHittersWithARoomyBudgetEqualFull() {
        DecoderModel m = model(0, 5);
        check(m, new KvPolicy.HeavyHitters(64, 32), 5, 8, MlaReference::full, "h2o");
    }

    @Test
    void cacheHoldsOnlyTheLatentAndTheRopeKey() {
        DecoderModel m = model(0, 1);
        KvCache c = m.newCache(10, KvPolicy.of("mla", 0));
        assertEquals(13 + 6, c.floatsPerPosition());
        DecoderModel llama = TinyDecoders.model(TinyDecoders.Kind.LLAMA_GQA, 1);
        assertEquals(2 * 2 * 8, llama.newCache(10).floatsPerPosition());
        var e = assertThrows(IllegalArgumentException.class, () -> llama.newCache(10, KvPolicy.of("mla", 0)));
        assertEquals("kv-policy mla: the model has no latent attention layers (architecture llama)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.newCache(10, new KvPolicy.SharedAttention(2)));
        assertTrue(e.getMessage().startsWith("kv-policy shared-attention: not available"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.newCache(10, new KvPolicy.Full(), new KvBlockPool(m.config(), 4, 4)));
    }

    @Test
    void configRefusesInconsistentShapes() {
        var mla = new DecoderConfig.Mla(0, 13, 7, 6, 5);
        var e = assertThrows(IllegalArgumentException.class, () -> new DecoderConfig(DecoderConfig.Arch.DEEPSEEK2, 61, 27, 2, 3, 1, 12, 37, 128,
                1e-6f, 10000f, 6, DecoderConfig.RopeStyle.INTERLEAVED, null, 0, mla));
        assertEquals("headDim: expected qkNopeDim + qkRopeDim = 13 for latent attention, got 12", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new DecoderConfig.Mla(0, 13, 7, 5, 5));
        assertEquals("qkRopeDim: expected an even number >= 2, got 5", e.getMessage());
    }

    private static SafetensorsWriter.Entry e(float[] v, int... shape) { return new SafetensorsWriter.Entry(v, shape); }

    /** Writes {@code w} with Hugging Face's DeepseekV2ForCausalLM names and config keys. */
    static void writeHf(Path d, DecoderConfig c, DecoderWeights w, String extraConfig) throws Exception {
        Files.createDirectories(d);
        DecoderConfig.Mla m = c.mla();
        int dim = c.dim(), h = c.heads(), qk = m.qkNopeDim() + m.qkRopeDim();
        Map<String, SafetensorsWriter.Entry> t = new LinkedHashMap<>();
        t.put("model.embed_tokens.weight", e(w.tokenEmbedding().toFloats(), c.vocab(), dim));
        for (int i = 0; i < c.layers(); i++) {
            DecoderWeights.Layer l = w.layers()[i];
            DecoderWeights.Mla a = l.mla();
            String p = "model.layers." + i + ".", s = p + "self_attn.";
            t.put(p + "input_layernorm.weight", e(l.attnNorm(), dim));
            if (a.qA() != null) {
                t.put(s + "q_a_proj.weight", e(a.qA().toFloats(), m.qLoraRank(), dim));
                t.put(s + "q_a_layernorm.weight", e(a.qANorm(), m.qLoraRank()));
                t.put(s + "q_b_proj.weight", e(a.q().toFloats(), h * qk, m.qLoraRank()));
            } else {
                t.put(s + "q_proj.weight", e(a.q().toFloats(), h * qk, dim));
            }
            t.put(s + "kv_a_proj_with_mqa.weight", e(a.kvA().toFloats(), m.latentWidth(), dim));
            t.put(s + "kv_a_layernorm.weight", e(a.kvANorm(), m.kvLoraRank()));
            t.put(s + "kv_b_proj.weight", e(a.kvB().toFloats(), h * (m.qkNopeDim() + m.vHeadDim()), m.kvLoraRank()));
            t.put(s + "o_proj.weight", e(l.wo().toFloats(), dim, h * m.vHeadDim()));
            t.put(p + "post_attention_layernorm.weight", e(l.ffnNorm(), dim));
            t.put(p + "mlp.gate_proj.weight", e(l.wGate().toFloats(), c.ffn(), dim));
            t.put(p + "mlp.up_proj.weight", e(l.wUp().toFloats(), c.ffn(), dim));
            t.put(p + "mlp.down_proj.weight", e(l.wDown().toFloats(), dim, c.ffn()));
        }
        t.put("model.norm.weight", e(w.outputNorm(), dim));
        t.put("lm_head.weight", e(w.output().toFloats(), c.vocab(), dim));
        SafetensorsWriter.write(d.resolve("model.safetensors"), t, Map.of("format", "pt"));
        Files.writeString(d.resolve("config.json"), """
                {"model_type": "deepseek_v2", "vocab_size": %d, "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                 "num_key_value_heads": %d, "intermediate_size": %d, "max_position_embeddings": %d, "rms_norm_eps": %s, "rope_theta": %s,
                 "q_lora_rank": %s, "kv_lora_rank": %d, "qk_nope_head_dim": %d, "qk_rope_head_dim": %d, "v_head_dim": %d,
                 "tie_word_embeddings": false, "rope_scaling": null%s}
                """.formatted(c.vocab(), dim, c.layers(), h, h, c.ffn(), c.contextLength(), c.normEps(), c.ropeTheta(),
                m.qLoraRank() == 0 ? "null" : String.valueOf(m.qLoraRank()), m.kvLoraRank(), m.qkNopeDim(), m.qkRopeDim(), m.vHeadDim(), extraConfig));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 11})
    void loadsAHuggingFaceDirectory(int qLora) throws Exception {
        DecoderModel m = model(qLora, 21);
        Path d = dir.resolve("q" + qLora);
        writeHf(d, m.config(), m.weights(), ", \"n_routed_experts\": 4, \"first_k_dense_replace\": 2");
        DecoderModel loaded = HfDecoder.load(d);
        assertEquals(m.config().mla(), loaded.config().mla());
        int[] toks = TinyDecoders.tokens(7, 61, 5);
        double[][] ref = MlaReference.logits(m.config(), m.weights(), toks, MlaReference::full);
        float[] got = loaded.forward(loaded.newCache(7), toks, true);
        for (int i = 0; i < toks.length; i++) assertTrue(relative(got, i * 61, ref[i]) <= TOL, "row " + i);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 11})
    void ggufRoundTripThroughLlamaCppsSplitKbVb(int qLora) throws Exception {
        DecoderConfig small = config(qLora);
        // The stand-in GGUF vocabulary needs >= 259 tokens.
        DecoderConfig c = new DecoderConfig(small.arch(), 263, small.dim(), small.layers(), small.heads(), 1, small.headDim(), small.ffn(),
                small.contextLength(), small.normEps(), small.ropeTheta(), small.ropeDim(), small.rope(), null, 0, small.mla());
        DecoderModel m = new DecoderModel(c, DecoderWeights.random(c, false, 40 + qLora));
        Path f = dir.resolve("ds" + qLora + ".gguf");
        GgufDecoder.write(f, c, m.weights(), org.attn4j.models.gguf.GgmlType.F32);
        DecoderModel loaded = GgufDecoder.load(f);
        assertEquals(c.mla(), loaded.config().mla());
        int[] toks = TinyDecoders.tokens(6, c.vocab(), 9);
        assertArrayEquals(m.forward(m.newCache(6), toks, true), loaded.forward(loaded.newCache(6), toks, true), 1e-6f);
    }

    @Test
    void refusesMoeLayersAndRopeScalingNamingTheKey() throws Exception {
        DecoderModel m = model(0, 2);
        Path moe = dir.resolve("moe");
        writeHf(moe, m.config(), m.weights(), ", \"n_routed_experts\": 64, \"first_k_dense_replace\": 1");
        var e = assertThrows(IllegalArgumentException.class, () -> HfDecoder.load(moe));
        assertTrue(e.getMessage().contains("'n_routed_experts': 64 routed experts in layers 1..1 (first_k_dense_replace 1); MoE layers are not supported"), e.getMessage());
        Path yarn = dir.resolve("yarn");
        writeHf(yarn, m.config(), m.weights(), "");
        Files.writeString(yarn.resolve("config.json"), Files.readString(yarn.resolve("config.json"))
                .replace("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 40}"));
        e = assertThrows(IllegalArgumentException.class, () -> HfDecoder.load(yarn));
        assertTrue(e.getMessage().contains("'rope_scaling': type 'yarn' is not supported for deepseek_v2"), e.getMessage());
    }
}
