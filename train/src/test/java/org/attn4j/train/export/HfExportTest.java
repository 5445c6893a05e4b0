package org.attn4j.train.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.models.tokenizer.bpe.TokenizerJson;
import org.attn4j.models.weights.ModelWeights;
import org.attn4j.models.weights.SafetensorsWeights;
import org.attn4j.train.Parameters;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.text.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the exporter writes reads back through the models module's safetensors reader with the values
 * each target should hold (computed here from attn4j's tensors by index, not by the exporter's
 * code), and its header follows the safetensors format.
 */
class HfExportTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static float at(Parameters p, String name, int... idx) {
        Parameters.Param t = p.get(name);
        int off = 0;
        int[] shape = t.shape();
        for (int d = 0; d < idx.length; d++) off = off * shape[d] + idx[d];
        return p.values()[t.offset() + off];
    }

    private static float at(Tensor t, int i, int j) { return t.toArray()[i * t.shape()[1] + j]; }

    @Test
    void gpt2LayoutOfATrainedShapeModelReadsBackTransposed(@TempDir Path dir) throws IOException {
        TransformerConfig cfg = TransformerConfig.gpt(50, 16, 2, 24, 3);
        TransformerLM model = new TransformerLM(cfg, 1, 1, 42);
        Parameters p = model.parameters();
        ByteLevelBpe tok = Tokenizers.bytes();
        assertThrows(IllegalArgumentException.class, () -> HfExport.write(model, tok, HfExport.Layout.GPT2, dir), "257 ids do not fit a vocabulary of 50");
        assertEquals(0, Files.list(dir).count(), "a refused export writes nothing");
        HfExport.write(model, null, HfExport.Layout.GPT2, dir);

        ModelWeights w = SafetensorsWeights.readTensors(dir.resolve(HfExport.MODEL_FILE));
        assertEquals(2 + 2 * 12 + 2, w.names().size(), "wte, wpe, 12 per layer, ln_f weight and bias");
        Tensor attn = w.get("transformer.h.1.attn.c_attn.weight", 24, 72);
        Tensor fc = w.get("transformer.h.0.mlp.c_fc.weight", 24, 96);
        Random r = new Random(1);
        for (int k = 0; k < 200; k++) {
            int i = r.nextInt(24), j = r.nextInt(72);
            assertEquals(at(p, "h.1.attn.c_attn.weight", j, i), at(attn, i, j), "Conv1D [in, out] = our [out, in] transposed");
            int h = r.nextInt(96);
            assertEquals(at(p, "h.0.mlp.c_fc.weight", h, i), at(fc, i, h));
        }
        assertArrayEquals(slice(p, "wte"), w.get("transformer.wte.weight", 50, 24).toArray());
        assertArrayEquals(slice(p, "wpe"), w.get("transformer.wpe.weight", 16, 24).toArray());
        assertArrayEquals(slice(p, "h.0.ln_1.bias"), w.get("transformer.h.0.ln_1.bias", 24).toArray());
        assertArrayEquals(slice(p, "ln_f.weight"), w.get("transformer.ln_f.weight", 24).toArray());

        JsonNode config = JSON.readTree(dir.resolve(HfExport.CONFIG_FILE).toFile());
        assertEquals("gpt2", config.get("model_type").asText());
        assertEquals(24, config.get("n_embd").asInt());
        assertEquals(96, config.get("n_inner").asInt());
        assertEquals("gelu_new", config.get("activation_function").asText());
        assertValidSafetensors(dir.resolve(HfExport.MODEL_FILE));
    }

    @Test
    void aPlainGpt2ForwardOverTheExportGivesTheTrainedModelsLoss(@TempDir Path dir) throws IOException {
        TransformerConfig cfg = TransformerConfig.gpt(37, 12, 2, 16, 2);
        TransformerLM model = new TransformerLM(cfg, 3, 1, 5);
        // Weights far from the near-uniform initialisation, so that every tensor and every detail
        // (head split, LayerNorm, GELU form, tied head) moves the loss.
        float[] v = model.parameters().values();
        Random r = new Random(9);
        for (Parameters.Param p : model.parameters().params()) {
            boolean gain = p.name().contains("ln_") && p.name().endsWith(".weight");
            for (int i = p.offset(); i < p.offset() + p.size(); i++) v[i] = (float) ((gain ? 1 : 0) + 0.4 * r.nextGaussian());
        }
        int b = 3, t = 12;
        int[] tokens = new int[b * t], targets = new int[b * t];
        boolean[] mask = new boolean[b * t];
        for (int i = 0; i < b * t; i++) {
            tokens[i] = r.nextInt(37);
            targets[i] = r.nextInt(37);
            mask[i] = r.nextInt(3) > 0;
        }
        mask[0] = true;
        double ours = model.evaluate(tokens, targets, mask);
        HfExport.write(model, null, HfExport.Layout.GPT2, dir);
        Gpt2Reference ref = new Gpt2Reference(dir);
        double sum = 0;
        int count = 0;
        for (int s = 0; s < b; s++) {
            int[] tk = java.util.Arrays.copyOfRange(tokens, s * t, (s + 1) * t), tg = java.util.Arrays.copyOfRange(targets, s * t, (s + 1) * t);
            boolean[] m = java.util.Arrays.copyOfRange(mask, s * t, (s + 1) * t);
            int marked = 0;
            for (boolean x : m) if (x) marked++;
            if (marked == 0) continue;
            sum += ref.loss(tk, tg, m) * marked;
            count += marked;
        }
        double theirs = sum / count;
        assertTrue(ours > 1.5 * Math.log(37) || ours < 0.8 * Math.log(37), "the weights matter: loss " + ours + " vs uniform " + Math.log(37));
        assertEquals(theirs, ours, 1e-4 * theirs, "GPT-2 forward over the exported files vs the trained model");
    }

    /** A Llama-shaped parameter set (RMSNorm weights only, fused SwiGLU gate|up, no biases), as the Llama options of the model declare it. */
    private static Parameters llamaShaped(int v, int c, int hidden, int layers, boolean untied) {
        Parameters.Builder b = Parameters.builder();
        b.add("wte", false, v, c);
        for (int l = 0; l < layers; l++) {
            b.add("h." + l + ".ln_1.weight", false, c);
            b.add("h." + l + ".attn.c_attn.weight", true, 3 * c, c);
            b.add("h." + l + ".attn.c_proj.weight", true, c, c);
            b.add("h." + l + ".ln_2.weight", false, c);
            b.add("h." + l + ".mlp.c_fc.weight", true, 2 * hidden, c);
            b.add("h." + l + ".mlp.c_proj.weight", true, c, hidden);
        }
        b.add("ln_f.weight", false, c);
        if (untied) b.add("lm_head.weight", true, v, c);
        Parameters p = b.build();
        Random r = new Random(3);
        for (int i = 0; i < p.size(); i++) p.values()[i] = (float) r.nextGaussian();
        return p;
    }

    private static HfExport.Architecture llamaArch(int v, int c, int hidden, int layers, boolean tied) {
        return new HfExport.Architecture(v, 32, layers, c, 4, hidden, HfExport.Norm.RMS, HfExport.Mlp.SWIGLU, HfExport.Positions.ROPE, 0, 1e-5f, 10000.0, tied);
    }

    @Test
    void llamaLayoutSplitsFusedProjectionsAndWritesConfigAndTokenizer(@TempDir Path dir) throws IOException {
        int v = 257, c = 16, hidden = 40, layers = 2;
        Parameters p = llamaShaped(v, c, hidden, layers, false);
        ByteLevelBpe tok = Tokenizers.bytes();
        HfExport.write(p, llamaArch(v, c, hidden, layers, true), tok, HfExport.Layout.LLAMA, dir);

        ModelWeights w = SafetensorsWeights.readTensors(dir.resolve(HfExport.MODEL_FILE));
        assertEquals(1 + layers * 9 + 1 + 1, w.names().size());
        for (int l = 0; l < layers; l++) {
            String m = "model.layers." + l + ".";
            Tensor q = w.get(m + "self_attn.q_proj.weight", c, c), k = w.get(m + "self_attn.k_proj.weight", c, c),
                    vv = w.get(m + "self_attn.v_proj.weight", c, c), o = w.get(m + "self_attn.o_proj.weight", c, c);
            Tensor gate = w.get(m + "mlp.gate_proj.weight", hidden, c), up = w.get(m + "mlp.up_proj.weight", hidden, c),
                    down = w.get(m + "mlp.down_proj.weight", c, hidden);
            for (int i = 0; i < c; i++) {
                for (int j = 0; j < c; j++) {
                    assertEquals(at(p, "h." + l + ".attn.c_attn.weight", i, j), at(q, i, j));
                    assertEquals(at(p, "h." + l + ".attn.c_attn.weight", c + i, j), at(k, i, j));
                    assertEquals(at(p, "h." + l + ".attn.c_attn.weight", 2 * c + i, j), at(vv, i, j));
                    assertEquals(at(p, "h." + l + ".attn.c_proj.weight", i, j), at(o, i, j));
                }
            }
            for (int h = 0; h < hidden; h++) {
                for (int j = 0; j < c; j++) {
                    assertEquals(at(p, "h." + l + ".mlp.c_fc.weight", h, j), at(gate, h, j), "gate = first half of c_fc's rows");
                    assertEquals(at(p, "h." + l + ".mlp.c_fc.weight", hidden + h, j), at(up, h, j), "up = second half");
                    assertEquals(at(p, "h." + l + ".mlp.c_proj.weight", j, h), at(down, j, h));
                }
            }
            assertArrayEquals(slice(p, "h." + l + ".ln_1.weight"), w.get(m + "input_layernorm.weight", c).toArray());
            assertArrayEquals(slice(p, "h." + l + ".ln_2.weight"), w.get(m + "post_attention_layernorm.weight", c).toArray());
        }
        assertArrayEquals(slice(p, "wte"), w.get("model.embed_tokens.weight", v, c).toArray());
        assertArrayEquals(slice(p, "wte"), w.get("lm_head.weight", v, c).toArray(), "tied: lm_head is a copy of the embedding");
        assertArrayEquals(slice(p, "ln_f.weight"), w.get("model.norm.weight", c).toArray());

        JsonNode config = JSON.readTree(dir.resolve(HfExport.CONFIG_FILE).toFile());
        assertEquals("llama", config.get("model_type").asText());
        assertEquals("LlamaForCausalLM", config.get("architectures").get(0).asText());
        assertEquals(v, config.get("vocab_size").asInt());
        assertEquals(c, config.get("hidden_size").asInt());
        assertEquals(hidden, config.get("intermediate_size").asInt());
        assertEquals(layers, config.get("num_hidden_layers").asInt());
        assertEquals(256, config.get("eos_token_id").asInt());
        assertFalse(config.get("attention_bias").asBoolean());
        assertTrue(config.get("tie_word_embeddings").asBoolean());
        ByteLevelBpe back = TokenizerJson.read(dir.resolve(HfExport.TOKENIZER_FILE));
        assertArrayEquals(tok.encode("State of the Union"), back.encode("State of the Union"));
        assertValidSafetensors(dir.resolve(HfExport.MODEL_FILE));

        // Untied: lm_head.weight is the model's own.
        Path d2 = dir.resolve("untied");
        Parameters u = llamaShaped(v, c, hidden, 1, true);
        HfExport.write(u, llamaArch(v, c, hidden, 1, false), null, HfExport.Layout.LLAMA, d2);
        assertArrayEquals(slice(u, "lm_head.weight"), SafetensorsWeights.readTensors(d2.resolve(HfExport.MODEL_FILE)).get("lm_head.weight").toArray());
        assertFalse(Files.exists(d2.resolve(HfExport.TOKENIZER_FILE)));
    }

    @Test
    void refusesWhatTheLayoutCannotHold() {
        TransformerLM gpt = new TransformerLM(TransformerConfig.gpt(40, 8, 1, 16, 2), 1, 1, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> HfExport.tensors(gpt.parameters(), HfExport.Architecture.of(gpt.config()), HfExport.Layout.LLAMA));
        assertTrue(e.getMessage().startsWith("layout:") && e.getMessage().contains("norm LAYER") && e.getMessage().contains("GPT2"), e.getMessage());

        Parameters.Builder b = Parameters.builder();
        b.add("wte", false, 40, 16);
        b.add("h.0.ln_1.weight", false, 16);
        b.add("h.0.attn.c_attn.weight", true, 48, 16);
        b.add("h.0.attn.gate", true, 16);
        b.add("h.0.attn.c_proj.weight", true, 16, 16);
        b.add("h.0.ln_2.weight", false, 16);
        b.add("h.0.mlp.c_fc.weight", true, 64, 16);
        b.add("ln_f.weight", false, 16);
        Parameters p = b.build();
        HfExport.Architecture a = llamaArch(40, 16, 32, 1, true);
        var u = assertThrows(IllegalArgumentException.class, () -> HfExport.tensors(p, a, HfExport.Layout.LLAMA));
        assertTrue(u.getMessage().contains("[h.0.attn.gate]"), u.getMessage());
        var g = assertThrows(IllegalArgumentException.class, () -> HfExport.tensors(gpt.parameters(), new HfExport.Architecture(40, 8, 2, 16, 2, 64,
                HfExport.Norm.LAYER, HfExport.Mlp.GELU, HfExport.Positions.LEARNED, 0, 1e-5f, 1e4, true), HfExport.Layout.GPT2));
        assertTrue(g.getMessage().contains("h.1.ln_1.weight"), "a missing layer is named: " + g.getMessage());
    }

    private static float[] slice(Parameters p, String name) {
        Parameters.Param t = p.get(name);
        return java.util.Arrays.copyOfRange(p.values(), t.offset(), t.offset() + t.size());
    }

    /**
     * The safetensors format: 8-byte little-endian header size, a JSON object of tensors with dtype,
     * shape and data_offsets that tile the data exactly (in order, no gaps, no overlap), data starting
     * 8-byte aligned, F32 sizes matching the shapes.
     */
    static void assertValidSafetensors(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertTrue(n > 0 && 8 + n <= all.length);
        assertEquals(0, (8 + n) % 8, "data starts 8-byte aligned");
        JsonNode header = JSON.readTree(new String(all, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(header.isObject());
        TreeMap<Long, long[]> spans = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue().fields().forEachRemaining(m -> assertTrue(m.getValue().isTextual(), "metadata values are strings"));
                continue;
            }
            JsonNode t = e.getValue();
            assertEquals("F32", t.get("dtype").asText());
            long count = 1;
            for (JsonNode d : t.get("shape")) count *= d.asLong();
            long b = t.get("data_offsets").get(0).asLong(), end = t.get("data_offsets").get(1).asLong();
            assertEquals(4 * count, end - b, e.getKey() + " size");
            spans.put(b, new long[] {b, end});
        }
        long expect = 0;
        for (long[] s : spans.values()) {
            assertEquals(expect, s[0], "no gap or overlap");
            expect = s[1];
        }
        assertEquals(all.length - 8 - n, expect, "the tensors fill the data exactly");
    }
}
