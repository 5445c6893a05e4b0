package org.attn4j.models.decoder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.weights.ModelWeights;
import org.attn4j.models.weights.SafetensorsWeights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a {@link DecoderModel} from a Hugging Face model directory: {@code config.json} and
 * {@code model.safetensors} (or the shards named by {@code model.safetensors.index.json}), weights
 * F32, F16 or BF16 read as float32. {@code model_type} llama, mistral, qwen2, qwen3, gpt2 or
 * deepseek_v2 (dense FFN layers only: MoE layers and YaRN rope scaling are refused).
 *
 * <p>DeepSeek-V2 rotates interleaved pairs (2i, 2i+1) of q_rope and k^R (its modelling code
 * de-interleaves before rotate-half, the same rotation): {@link DecoderConfig.RopeStyle#INTERLEAVED}
 * on the checkpoint's rows as stored.
 *
 * <p>Hugging Face keeps Q/K rows in the rotate-half layout, so RoPE pairs dimension i with
 * i + ropeDim/2 ({@link DecoderConfig.RopeStyle#HALVES}). GPT-2's Conv1D weights are stored
 * {@code [in, out]} and are transposed here; its fused {@code c_attn} is split into Q, K, V.
 */
public final class HfDecoder {
    private HfDecoder() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The {@code model_type} values read. */
    public static final List<String> MODEL_TYPES = List.of("llama", "mistral", "qwen2", "qwen3", "gpt2", "deepseek_v2");

    /** Loads {@code dir}; a missing or malformed file raises IllegalArgumentException naming it. */
    public static DecoderModel load(Path dir) throws IOException {
        Path configFile = dir.resolve("config.json");
        if (!Files.isRegularFile(configFile)) throw new NoSuchFileException(configFile.toString(), null, "a model directory needs config.json");
        JsonNode cfg;
        try {
            cfg = JSON.readTree(configFile.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(configFile + ": not valid JSON: " + e.getOriginalMessage());
        }
        DecoderConfig c = config(cfg, configFile);
        Map<String, Tensor> t = tensors(dir, cfg);
        String src = dir.toString();
        try {
            DecoderWeights w = switch (c.arch()) {
                case GPT2 -> gpt2(c, t, src, cfg);
                case DEEPSEEK2 -> deepseek(c, t, src, cfg);
                default -> llama(c, t, src, cfg);
            };
            return new DecoderModel(c, w);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(src + ": " + e.getMessage(), e);
        }
    }

    /** The configuration in {@code config.json}. */
    public static DecoderConfig config(JsonNode j, Path file) {
        String type = j.path("model_type").asText("");
        DecoderConfig.Arch arch = switch (type) {
            case "llama", "mistral" -> DecoderConfig.Arch.LLAMA;
            case "qwen2" -> DecoderConfig.Arch.QWEN2;
            case "qwen3" -> DecoderConfig.Arch.QWEN3;
            case "gpt2" -> DecoderConfig.Arch.GPT2;
            case "deepseek_v2" -> DecoderConfig.Arch.DEEPSEEK2;
            default -> throw new IllegalArgumentException(file + ": 'model_type': '" + type + "' is not supported; supported: " + MODEL_TYPES);
        };
        try {
            if (arch == DecoderConfig.Arch.GPT2) {
                int dim = integer(j, file, "n_embd"), heads = integer(j, file, "n_head");
                int inner = j.hasNonNull("n_inner") ? integer(j, file, "n_inner") : 4 * dim;
                return new DecoderConfig(arch, integer(j, file, "vocab_size"), dim, integer(j, file, "n_layer"), heads, heads, dim / heads, inner,
                        integer(j, file, "n_positions"), (float) j.path("layer_norm_epsilon").asDouble(1e-5), 10000f, 0,
                        DecoderConfig.RopeStyle.NONE, null, 0);
            }
            if (arch == DecoderConfig.Arch.DEEPSEEK2) return deepseek(j, file);
            int dim = integer(j, file, "hidden_size"), heads = integer(j, file, "num_attention_heads");
            int headDim = j.hasNonNull("head_dim") ? integer(j, file, "head_dim") : dim / heads;
            float theta = (float) j.path("rope_theta").asDouble(10000);
            float[] factors = null;
            JsonNode rs = j.path("rope_scaling");
            if (rs.isObject()) {
                String rt = rs.path("rope_type").asText(rs.path("type").asText(""));
                if (!rt.equals("llama3")) throw new IllegalArgumentException("'rope_scaling': type '" + rt + "' is not supported (llama3)");
                factors = DecoderConfig.llama3Factors(headDim, theta, (float) rs.path("factor").asDouble(8), (float) rs.path("low_freq_factor").asDouble(1),
                        (float) rs.path("high_freq_factor").asDouble(4), rs.path("original_max_position_embeddings").asInt(8192));
            }
            int window = 0;
            boolean useWindow = type.equals("mistral") || j.path("use_sliding_window").asBoolean(false);
            if (useWindow && j.hasNonNull("sliding_window")) window = integer(j, file, "sliding_window");
            return new DecoderConfig(arch, integer(j, file, "vocab_size"), dim, integer(j, file, "num_hidden_layers"), heads,
                    j.hasNonNull("num_key_value_heads") ? integer(j, file, "num_key_value_heads") : heads, headDim,
                    integer(j, file, "intermediate_size"), integer(j, file, "max_position_embeddings"),
                    (float) j.path("rms_norm_eps").asDouble(1e-6), theta, headDim, DecoderConfig.RopeStyle.HALVES, factors, window);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().startsWith(file.toString()) ? e.getMessage() : file + ": " + e.getMessage(), e);
        }
    }

    /** DeepSeek-V2's configuration; MoE layers and rope scaling are refused naming their key. */
    private static DecoderConfig deepseek(JsonNode j, Path file) {
        int layers = integer(j, file, "num_hidden_layers");
        if (j.hasNonNull("n_routed_experts") && j.get("n_routed_experts").asInt() > 0) {
            int dense = j.hasNonNull("first_k_dense_replace") ? integer(j, file, "first_k_dense_replace") : 0;
            if (dense < layers) {
                throw new IllegalArgumentException("'n_routed_experts': " + j.get("n_routed_experts") + " routed experts in layers " + dense + ".." + (layers - 1)
                        + " (first_k_dense_replace " + dense + "); MoE layers are not supported, only dense models (first_k_dense_replace >= num_hidden_layers = " + layers + ")");
            }
        }
        JsonNode rs = j.path("rope_scaling");
        if (rs.isObject()) {
            throw new IllegalArgumentException("'rope_scaling': type '" + rs.path("type").asText(rs.path("rope_type").asText("")) + "' is not supported for deepseek_v2 (none)");
        }
        if (j.path("attention_bias").asBoolean(false)) throw new IllegalArgumentException("'attention_bias': true is not supported for deepseek_v2 (false)");
        int qLora = j.hasNonNull("q_lora_rank") ? integer(j, file, "q_lora_rank") : 0;
        var mla = new DecoderConfig.Mla(qLora, integer(j, file, "kv_lora_rank"), integer(j, file, "qk_nope_head_dim"),
                integer(j, file, "qk_rope_head_dim"), integer(j, file, "v_head_dim"));
        return new DecoderConfig(DecoderConfig.Arch.DEEPSEEK2, integer(j, file, "vocab_size"), integer(j, file, "hidden_size"), layers,
                integer(j, file, "num_attention_heads"), 1, mla.qkNopeDim() + mla.qkRopeDim(), integer(j, file, "intermediate_size"),
                integer(j, file, "max_position_embeddings"), (float) j.path("rms_norm_eps").asDouble(1e-6), (float) j.path("rope_theta").asDouble(10000),
                mla.qkRopeDim(), DecoderConfig.RopeStyle.INTERLEAVED, null, 0, mla);
    }

    private static int integer(JsonNode j, Path file, String key) {
        JsonNode n = j.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException(file + ": '" + key + "': missing");
        if (!n.canConvertToInt() || !n.isIntegralNumber()) throw new IllegalArgumentException(file + ": '" + key + "': expected an integer, got " + n);
        return n.intValue();
    }

    /** Every tensor of {@code model.safetensors} or of the shards its index names. */
    private static Map<String, Tensor> tensors(Path dir, JsonNode cfg) throws IOException {
        Path single = dir.resolve("model.safetensors"), index = dir.resolve("model.safetensors.index.json");
        Set<Path> files = new LinkedHashSet<>();
        if (Files.isRegularFile(single)) files.add(single);
        else if (Files.isRegularFile(index)) {
            JsonNode map = JSON.readTree(index.toFile()).path("weight_map");
            if (!map.isObject()) throw new IllegalArgumentException(index + ": 'weight_map': expected an object of tensor -> shard file");
            for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) files.add(dir.resolve(it.next().asText()));
        } else {
            throw new NoSuchFileException(single.toString(), null, "a model directory needs model.safetensors or model.safetensors.index.json");
        }
        // Half-precision files become float32 tensors: twice their size on the heap.
        String dtype = cfg.path("torch_dtype").asText("float32");
        long fileBytes = 0;
        for (Path f : files) fileBytes += Files.size(f);
        GgufDecoder.requireHeap(dir.toString(), dtype.equals("bfloat16") || dtype.equals("float16") ? 2 * fileBytes : fileBytes,
                Runtime.getRuntime().maxMemory());
        Map<String, Tensor> all = new HashMap<>();
        for (Path f : files) {
            ModelWeights w = SafetensorsWeights.readTensors(f);
            for (String n : w.names()) all.put(n, w.get(n));
        }
        return all;
    }

    private static Tensor get(Map<String, Tensor> t, String src, String name, int... shape) {
        Tensor x = t.get(name);
        if (x == null) throw new IllegalArgumentException("tensor '" + name + "': missing");
        if (!java.util.Arrays.equals(x.shape(), shape)) {
            throw new IllegalArgumentException("tensor '" + name + "': expected shape " + java.util.Arrays.toString(shape) + ", got " + java.util.Arrays.toString(x.shape()));
        }
        return x;
    }

    private static float[] vec(Map<String, Tensor> t, String src, String name, int n, boolean required) {
        if (!required && !t.containsKey(name)) return null;
        return get(t, src, name, n).toArray();
    }

    private static Matrix mat(Map<String, Tensor> t, String src, String name, int rows, int cols, boolean required) {
        if (!required && !t.containsKey(name)) return null;
        return new FloatMatrix(get(t, src, name, rows, cols).toArray(), rows, cols);
    }

    /** A Conv1D weight stored {@code [in, out]}, as a {@code [out, in]} matrix. */
    private static Matrix conv1d(Map<String, Tensor> t, String src, String name, int in, int out) {
        return new FloatMatrix(get(t, src, name, in, out).permute(1, 0).toArray(), out, in);
    }

    private static DecoderWeights llama(DecoderConfig c, Map<String, Tensor> t, String src, JsonNode cfg) {
        int d = c.dim(), q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim(), f = c.ffn();
        boolean qwen2 = c.arch() == DecoderConfig.Arch.QWEN2, qwen3 = c.arch() == DecoderConfig.Arch.QWEN3;
        DecoderWeights.Layer[] ls = new DecoderWeights.Layer[c.layers()];
        for (int i = 0; i < ls.length; i++) {
            String p = "model.layers." + i + ".";
            ls[i] = new DecoderWeights.Layer(vec(t, src, p + "input_layernorm.weight", d, true), null,
                    mat(t, src, p + "self_attn.q_proj.weight", q, d, true), vec(t, src, p + "self_attn.q_proj.bias", q, qwen2),
                    mat(t, src, p + "self_attn.k_proj.weight", kv, d, true), vec(t, src, p + "self_attn.k_proj.bias", kv, qwen2),
                    mat(t, src, p + "self_attn.v_proj.weight", kv, d, true), vec(t, src, p + "self_attn.v_proj.bias", kv, qwen2),
                    vec(t, src, p + "self_attn.q_norm.weight", c.headDim(), qwen3), vec(t, src, p + "self_attn.k_norm.weight", c.headDim(), qwen3),
                    // Llama's attention_bias also gives o_proj a bias, and mlp_bias gate/up/down (Hugging Face's LlamaAttention/LlamaMLP).
                    mat(t, src, p + "self_attn.o_proj.weight", d, q, true), vec(t, src, p + "self_attn.o_proj.bias", d, false),
                    vec(t, src, p + "post_attention_layernorm.weight", d, true), null,
                    mat(t, src, p + "mlp.gate_proj.weight", f, d, true), mat(t, src, p + "mlp.up_proj.weight", f, d, true),
                    vec(t, src, p + "mlp.up_proj.bias", f, false),
                    mat(t, src, p + "mlp.down_proj.weight", d, f, true), vec(t, src, p + "mlp.down_proj.bias", d, false),
                    vec(t, src, p + "mlp.gate_proj.bias", f, false));
        }
        boolean tied = cfg.path("tie_word_embeddings").asBoolean(false) && !t.containsKey("lm_head.weight");
        return new DecoderWeights(mat(t, src, "model.embed_tokens.weight", c.vocab(), d, true), null, ls,
                vec(t, src, "model.norm.weight", d, true), null, tied ? null : mat(t, src, "lm_head.weight", c.vocab(), d, true));
    }

    private static DecoderWeights deepseek(DecoderConfig c, Map<String, Tensor> t, String src, JsonNode cfg) {
        DecoderConfig.Mla m = c.mla();
        int d = c.dim(), f = c.ffn(), h = c.heads(), qk = m.qkNopeDim() + m.qkRopeDim(), r = m.kvLoraRank(), ql = m.qLoraRank();
        DecoderWeights.Layer[] ls = new DecoderWeights.Layer[c.layers()];
        for (int i = 0; i < ls.length; i++) {
            String p = "model.layers." + i + ".", a = p + "self_attn.";
            if (t.containsKey(p + "mlp.gate.weight")) throw new IllegalArgumentException("tensor '" + p + "mlp.gate.weight': an MoE router; MoE layers are not supported");
            var mla = new DecoderWeights.Mla(ql > 0 ? mat(t, src, a + "q_a_proj.weight", ql, d, true) : null,
                    ql > 0 ? vec(t, src, a + "q_a_layernorm.weight", ql, true) : null,
                    ql > 0 ? mat(t, src, a + "q_b_proj.weight", h * qk, ql, true) : mat(t, src, a + "q_proj.weight", h * qk, d, true),
                    mat(t, src, a + "kv_a_proj_with_mqa.weight", m.latentWidth(), d, true), vec(t, src, a + "kv_a_layernorm.weight", r, true),
                    mat(t, src, a + "kv_b_proj.weight", h * (m.qkNopeDim() + m.vHeadDim()), r, true));
            ls[i] = DecoderWeights.Layer.latent(vec(t, src, p + "input_layernorm.weight", d, true), mla,
                    mat(t, src, a + "o_proj.weight", d, h * m.vHeadDim(), true), vec(t, src, p + "post_attention_layernorm.weight", d, true),
                    mat(t, src, p + "mlp.gate_proj.weight", f, d, true), mat(t, src, p + "mlp.up_proj.weight", f, d, true),
                    mat(t, src, p + "mlp.down_proj.weight", d, f, true));
        }
        boolean tied = cfg.path("tie_word_embeddings").asBoolean(false) && !t.containsKey("lm_head.weight");
        return new DecoderWeights(mat(t, src, "model.embed_tokens.weight", c.vocab(), d, true), null, ls,
                vec(t, src, "model.norm.weight", d, true), null, tied ? null : mat(t, src, "lm_head.weight", c.vocab(), d, true));
    }

    private static DecoderWeights gpt2(DecoderConfig c, Map<String, Tensor> raw, String src, JsonNode cfg) {
        // Checkpoints saved from GPT2LMHeadModel prefix every name with "transformer.".
        Map<String, Tensor> t = new HashMap<>();
        raw.forEach((k, v) -> t.put(k.startsWith("transformer.") ? k.substring("transformer.".length()) : k, v));
        int d = c.dim(), f = c.ffn();
        DecoderWeights.Layer[] ls = new DecoderWeights.Layer[c.layers()];
        for (int i = 0; i < ls.length; i++) {
            String p = "h." + i + ".";
            Matrix qkv = conv1d(t, src, p + "attn.c_attn.weight", d, 3 * d);
            float[] b = vec(t, src, p + "attn.c_attn.bias", 3 * d, true);
            ls[i] = new DecoderWeights.Layer(vec(t, src, p + "ln_1.weight", d, true), vec(t, src, p + "ln_1.bias", d, true),
                    qkv.rows(0, d), java.util.Arrays.copyOfRange(b, 0, d), qkv.rows(d, 2 * d), java.util.Arrays.copyOfRange(b, d, 2 * d),
                    qkv.rows(2 * d, 3 * d), java.util.Arrays.copyOfRange(b, 2 * d, 3 * d), null, null,
                    conv1d(t, src, p + "attn.c_proj.weight", d, d), vec(t, src, p + "attn.c_proj.bias", d, true),
                    vec(t, src, p + "ln_2.weight", d, true), vec(t, src, p + "ln_2.bias", d, true),
                    null, conv1d(t, src, p + "mlp.c_fc.weight", d, f), vec(t, src, p + "mlp.c_fc.bias", f, true),
                    conv1d(t, src, p + "mlp.c_proj.weight", f, d), vec(t, src, p + "mlp.c_proj.bias", d, true));
        }
        return new DecoderWeights(mat(t, src, "wte.weight", c.vocab(), d, true), get(t, src, "wpe.weight", c.contextLength(), d).toArray(), ls,
                vec(t, src, "ln_f.weight", d, true), vec(t, src, "ln_f.bias", d, true),
                t.containsKey("lm_head.weight") ? mat(t, src, "lm_head.weight", c.vocab(), d, true) : null);
    }
}
