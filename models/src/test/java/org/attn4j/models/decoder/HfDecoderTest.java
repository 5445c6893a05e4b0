package org.attn4j.models.decoder;

import org.attn4j.models.gguf.GgmlType;
import org.attn4j.models.weights.SafetensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class HfDecoderTest {
    @TempDir Path dir;

    private static SafetensorsWriter.Entry e(float[] v, int... shape) { return new SafetensorsWriter.Entry(v, shape); }

    /** Writes {@code w} the way transformers saves a LlamaForCausalLM / Qwen2 / Qwen3 checkpoint. */
    private static void writeLlama(Path d, String type, DecoderConfig c, DecoderWeights w) throws Exception {
        Files.createDirectories(d);
        Map<String, SafetensorsWriter.Entry> t = new LinkedHashMap<>();
        int dim = c.dim(), q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim();
        t.put("model.embed_tokens.weight", e(w.tokenEmbedding().toFloats(), c.vocab(), dim));
        for (int i = 0; i < c.layers(); i++) {
            DecoderWeights.Layer l = w.layers()[i];
            String p = "model.layers." + i + ".";
            t.put(p + "input_layernorm.weight", e(l.attnNorm(), dim));
            t.put(p + "self_attn.q_proj.weight", e(l.wq().toFloats(), q, dim));
            t.put(p + "self_attn.k_proj.weight", e(l.wk().toFloats(), kv, dim));
            t.put(p + "self_attn.v_proj.weight", e(l.wv().toFloats(), kv, dim));
            if (l.bq() != null) {
                t.put(p + "self_attn.q_proj.bias", e(l.bq(), q));
                t.put(p + "self_attn.k_proj.bias", e(l.bk(), kv));
                t.put(p + "self_attn.v_proj.bias", e(l.bv(), kv));
            }
            if (l.qNorm() != null) {
                t.put(p + "self_attn.q_norm.weight", e(l.qNorm(), c.headDim()));
                t.put(p + "self_attn.k_norm.weight", e(l.kNorm(), c.headDim()));
            }
            t.put(p + "self_attn.o_proj.weight", e(l.wo().toFloats(), dim, q));
            t.put(p + "post_attention_layernorm.weight", e(l.ffnNorm(), dim));
            t.put(p + "mlp.gate_proj.weight", e(l.wGate().toFloats(), c.ffn(), dim));
            t.put(p + "mlp.up_proj.weight", e(l.wUp().toFloats(), c.ffn(), dim));
            t.put(p + "mlp.down_proj.weight", e(l.wDown().toFloats(), dim, c.ffn()));
        }
        t.put("model.norm.weight", e(w.outputNorm(), dim));
        if (w.output() != null) t.put("lm_head.weight", e(w.output().toFloats(), c.vocab(), dim));
        SafetensorsWriter.write(d.resolve("model.safetensors"), t, Map.of("format", "pt"));
        String scaling = c.ropeFactors() == null ? "null"
                : "{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 16}";
        Files.writeString(d.resolve("config.json"), """
                {"model_type": "%s", "vocab_size": %d, "hidden_size": %d, "num_hidden_layers": %d, "num_attention_heads": %d,
                 "num_key_value_heads": %d, "head_dim": %d, "intermediate_size": %d, "max_position_embeddings": %d,
                 "rms_norm_eps": %s, "rope_theta": %s, "rope_scaling": %s, "tie_word_embeddings": %s, "sliding_window": %d}
                """.formatted(type, c.vocab(), dim, c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffn(), c.contextLength(),
                c.normEps(), c.ropeTheta(), scaling, w.output() == null, c.slidingWindow() == 0 ? 4096 : c.slidingWindow()));
    }

    private static DecoderConfig halves(DecoderConfig c, int window) {
        return new DecoderConfig(c.arch(), c.vocab(), c.dim(), c.layers(), c.heads(), c.kvHeads(), c.headDim(), c.ffn(), c.contextLength(),
                c.normEps(), c.ropeTheta(), c.ropeDim(), DecoderConfig.RopeStyle.HALVES, c.ropeFactors(), window);
    }

    @Test
    void llamaQwenAndMistralDirectoriesGiveTheModelsLogits() throws Exception {
        Object[][] cases = {
                {"llama", TinyDecoders.Kind.LLAMA3_SCALED_HALVES, 0},
                {"llama", TinyDecoders.Kind.LLAMA_TIED, 0},
                {"mistral", TinyDecoders.Kind.MISTRAL_WINDOW, 4},
                {"qwen2", TinyDecoders.Kind.QWEN2, 0},
                {"qwen3", TinyDecoders.Kind.QWEN3, 0}};
        for (Object[] k : cases) {
            TinyDecoders.Kind kind = (TinyDecoders.Kind) k[1];
            DecoderConfig c = halves(TinyDecoders.config(kind), (Integer) k[2]);
            DecoderWeights w = TinyDecoders.weights(c, kind != TinyDecoders.Kind.LLAMA_TIED, 41);
            Path d = dir.resolve(kind.name());
            writeLlama(d, (String) k[0], c, w);
            DecoderModel back = HfDecoder.load(d);
            assertEquals(c.slidingWindow(), back.config().slidingWindow(), kind.name());
            int[] tokens = TinyDecoders.tokens(11, c.vocab(), 2);
            double[][] ref = ReferenceDecoder.logits(c, w, tokens);
            float[] got = back.forward(back.newCache(11), tokens, true);
            for (int i = 0; i < tokens.length; i++) {
                assertTrue(DecoderModelTest.relativeError(got, i * c.vocab(), ref[i]) < 1e-5, kind + " position " + i);
            }
        }
    }

    @Test
    void ggufsPermutedRowsWithInterleavedRopeEqualHfRowsWithRotateHalf() throws Exception {
        // llama.cpp's converter permutes each head's Q/K rows: GGUF row 2i+s of a head is HF row s·hd/2 + i.
        // With the pairing of each layout, the two files must give the same logits.
        DecoderConfig hf = halves(TinyDecoders.config(TinyDecoders.Kind.LLAMA_GQA), 0);
        hf = new DecoderConfig(hf.arch(), 300, hf.dim(), hf.layers(), hf.heads(), hf.kvHeads(), hf.headDim(), hf.ffn(), hf.contextLength(),
                hf.normEps(), hf.ropeTheta(), hf.ropeDim(), hf.rope(), null, 0);
        DecoderWeights w = TinyDecoders.weights(hf, true, 42);
        Path d = dir.resolve("hf");
        writeLlama(d, "llama", hf, w);
        DecoderWeights.Layer[] ls = new DecoderWeights.Layer[hf.layers()];
        for (int i = 0; i < ls.length; i++) {
            DecoderWeights.Layer l = w.layers()[i];
            ls[i] = new DecoderWeights.Layer(l.attnNorm(), null, permute(l.wq(), hf.heads(), hf.headDim()), null,
                    permute(l.wk(), hf.kvHeads(), hf.headDim()), null, l.wv(), null, null, null, l.wo(), null, l.ffnNorm(), null,
                    l.wGate(), l.wUp(), null, l.wDown(), null);
        }
        DecoderConfig gg = new DecoderConfig(hf.arch(), hf.vocab(), hf.dim(), hf.layers(), hf.heads(), hf.kvHeads(), hf.headDim(), hf.ffn(),
                hf.contextLength(), hf.normEps(), hf.ropeTheta(), hf.ropeDim(), DecoderConfig.RopeStyle.INTERLEAVED, null, 0);
        Path gguf = dir.resolve("converted.gguf");
        GgufDecoder.write(gguf, gg, new DecoderWeights(w.tokenEmbedding(), null, ls, w.outputNorm(), null, w.output()), GgmlType.F32);
        DecoderModel a = HfDecoder.load(d), b = GgufDecoder.load(gguf);
        int[] tokens = TinyDecoders.tokens(13, hf.vocab(), 3);
        float[] la = a.forward(a.newCache(13), tokens, false), lb = b.forward(b.newCache(13), tokens, false);
        double[] lad = new double[la.length];
        for (int i = 0; i < la.length; i++) lad[i] = la[i];
        assertTrue(DecoderModelTest.relativeError(lb, 0, lad) < 1e-5);
        // Unpermuted rows with interleaved pairing are a different model.
        float[] wrong = new DecoderModel(gg, w).forward(new KvCache(gg, 13), tokens, false);
        assertTrue(DecoderModelTest.relativeError(wrong, 0, lad) > 1e-3);
    }

    private static Matrix permute(Matrix m, int heads, int hd) {
        float[] src = m.toFloats(), dst = new float[src.length];
        int cols = m.cols();
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < hd / 2; i++) {
                for (int s = 0; s < 2; s++) {
                    System.arraycopy(src, (h * hd + s * hd / 2 + i) * cols, dst, (h * hd + 2 * i + s) * cols, cols);
                }
            }
        }
        return new FloatMatrix(dst, m.rows(), cols);
    }

    @Test
    void gpt2DirectoryWithConv1dWeights() throws Exception {
        DecoderConfig c = TinyDecoders.config(TinyDecoders.Kind.GPT2);
        DecoderWeights w = TinyDecoders.weights(c, false, 43);
        Map<String, SafetensorsWriter.Entry> t = new LinkedHashMap<>();
        int d = c.dim(), f = c.ffn();
        t.put("transformer.wte.weight", e(w.tokenEmbedding().toFloats(), c.vocab(), d));
        t.put("transformer.wpe.weight", e(w.positionEmbedding(), c.contextLength(), d));
        for (int i = 0; i < c.layers(); i++) {
            DecoderWeights.Layer l = w.layers()[i];
            String p = "transformer.h." + i + ".";
            t.put(p + "ln_1.weight", e(l.attnNorm(), d));
            t.put(p + "ln_1.bias", e(l.attnNormBias(), d));
            float[] qkv = new float[3 * d * d];
            float[][] parts = {l.wq().toFloats(), l.wk().toFloats(), l.wv().toFloats()};
            for (int part = 0; part < 3; part++) for (int o = 0; o < d; o++) for (int in = 0; in < d; in++) qkv[in * 3 * d + part * d + o] = parts[part][o * d + in];
            t.put(p + "attn.c_attn.weight", e(qkv, d, 3 * d));
            float[] b = new float[3 * d];
            System.arraycopy(l.bq(), 0, b, 0, d);
            System.arraycopy(l.bk(), 0, b, d, d);
            System.arraycopy(l.bv(), 0, b, 2 * d, d);
            t.put(p + "attn.c_attn.bias", e(b, 3 * d));
            t.put(p + "attn.c_proj.weight", e(transpose(l.wo()), d, d));
            t.put(p + "attn.c_proj.bias", e(l.bo(), d));
            t.put(p + "ln_2.weight", e(l.ffnNorm(), d));
            t.put(p + "ln_2.bias", e(l.ffnNormBias(), d));
            t.put(p + "mlp.c_fc.weight", e(transpose(l.wUp()), d, f));
            t.put(p + "mlp.c_fc.bias", e(l.bUp(), f));
            t.put(p + "mlp.c_proj.weight", e(transpose(l.wDown()), f, d));
            t.put(p + "mlp.c_proj.bias", e(l.bDown(), d));
        }
        t.put("transformer.ln_f.weight", e(w.outputNorm(), d));
        t.put("transformer.ln_f.bias", e(w.outputNormBias(), d));
        Path dirGpt2 = dir.resolve("gpt2");
        Files.createDirectories(dirGpt2);
        SafetensorsWriter.write(dirGpt2.resolve("model.safetensors"), t, Map.of());
        Files.writeString(dirGpt2.resolve("config.json"), """
                {"model_type": "gpt2", "vocab_size": %d, "n_embd": %d, "n_layer": %d, "n_head": %d, "n_inner": %d, "n_positions": %d, "layer_norm_epsilon": 1e-05}
                """.formatted(c.vocab(), d, c.layers(), c.heads(), f, c.contextLength()));
        DecoderModel back = HfDecoder.load(dirGpt2);
        int[] tokens = TinyDecoders.tokens(9, c.vocab(), 4);
        double[][] ref = ReferenceDecoder.logits(c, new DecoderWeights(w.tokenEmbedding(), w.positionEmbedding(), w.layers(), w.outputNorm(),
                w.outputNormBias(), null), tokens);
        float[] got = back.forward(back.newCache(9), tokens, true);
        for (int i = 0; i < 9; i++) assertTrue(DecoderModelTest.relativeError(got, i * c.vocab(), ref[i]) < 1e-5, "position " + i);
    }

    private static float[] transpose(Matrix m) {
        float[] a = m.toFloats(), out = new float[a.length];
        for (int r = 0; r < m.rows(); r++) for (int c = 0; c < m.cols(); c++) out[c * m.rows() + r] = a[r * m.cols() + c];
        return out;
    }

    @Test
    void badDirectoriesAreNamed() throws Exception {
        Path d = dir.resolve("bad");
        Files.createDirectories(d);
        Files.writeString(d.resolve("config.json"), "{\"model_type\": \"mamba\"}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> HfDecoder.load(d));
        assertEquals(d.resolve("config.json") + ": 'model_type': 'mamba' is not supported; supported: [llama, mistral, qwen2, qwen3, gpt2, deepseek_v2]", e.getMessage());
        Files.writeString(d.resolve("config.json"), "{\"model_type\": \"llama\", \"hidden_size\": 32}");
        e = assertThrows(IllegalArgumentException.class, () -> HfDecoder.load(d));
        assertEquals(d.resolve("config.json") + ": 'num_attention_heads': missing", e.getMessage());
    }
}
