package org.attn4j.train.export;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.attn4j.models.io.AtomicFile;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.models.tokenizer.bpe.TokenizerJson;
import org.attn4j.models.weights.SafetensorsWriter;
import org.attn4j.train.Parameters;
import org.attn4j.train.layers.Rope;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;

/**
 * Exports a trained model as a Hugging Face model directory: {@code model.safetensors} (float32),
 * {@code config.json} and, for a text model, {@code tokenizer.json}, in one of two layouts:
 * <ul>
 *   <li>{@link Layout#LLAMA}: {@code LlamaForCausalLM} names ({@code model.embed_tokens.weight},
 *       {@code model.layers.N.self_attn.q_proj.weight}, …, {@code lm_head.weight}); needs a model that
 *       computes what Llama computes: RMSNorm, SwiGLU, RoPE (rotate-half pairing), no window;</li>
 *   <li>{@link Layout#GPT2}: {@code GPT2LMHeadModel} names ({@code transformer.h.N.attn.c_attn.weight}, …,
 *       matrices transposed to GPT-2's Conv1D {@code [in, out]}); needs LayerNorm, GELU (tanh form),
 *       learned positions, biases.</li>
 * </ul>
 * The renaming is one table per layout ({@link #LLAMA_RULES}, {@link #GPT2_RULES}): a regular
 * expression over attn4j's parameter names and the target tensors it becomes, each a rename, a
 * transpose or one block of rows (the fused {@code c_attn} splits into q, k, v; the fused SwiGLU
 * {@code c_fc} into gate and up). Export refuses, with the names in the message, a model that has a
 * tensor no rule covers (an attention mechanism's own weights, for example) or lacks one the layout
 * requires, rather than write a file a runtime would read as a different function.
 */
public final class HfExport {
    private HfExport() {}

    public static final String MODEL_FILE = "model.safetensors", CONFIG_FILE = "config.json", TOKENIZER_FILE = "tokenizer.json";

    public enum Layout { LLAMA, GPT2 }

    public enum Norm { LAYER, RMS }

    public enum Mlp { GELU, SWIGLU }

    /** How position enters: one signal, none, or {@code MIXED} (more than one, e.g. learned positions and RoPE). */
    public enum Positions { LEARNED, ROPE, ALIBI, NONE, MIXED }

    /**
     * What the model computes, beyond what its tensor names say.
     *
     * @param vocab     V
     * @param seqLen    the context it was trained at (config's {@code max_position_embeddings} / {@code n_positions})
     * @param layers    L
     * @param dModel    C
     * @param heads     H
     * @param mlpHidden hidden width of the MLP (for SwiGLU: of each of gate and up)
     * @param norm      LayerNorm or RMSNorm
     * @param mlp       GELU or SwiGLU
     * @param positions how position enters
     * @param window    sliding window (0: none)
     * @param normEps   the norms' epsilon
     * @param ropeTheta RoPE base (10000 for attn4j's RoPE)
     * @param tied      the output projection is the token embedding
     */
    public record Architecture(int vocab, int seqLen, int layers, int dModel, int heads, int mlpHidden,
                               Norm norm, Mlp mlp, Positions positions, int window, float normEps, double ropeTheta, boolean tied) {

        /**
         * What a {@link TransformerLM} of this config computes: its norm, MLP (hidden width of each of
         * SwiGLU's gate and up), position signal, window and output tying. A model with more than one
         * position signal (say learned positions and RoPE) is {@link Positions#MIXED}, which no layout holds.
         */
        public static Architecture of(TransformerConfig c) {
            int signals = (c.learnedPositions() ? 1 : 0) + (c.rope() ? 1 : 0) + (c.alibi() ? 1 : 0);
            Positions p = signals > 1 ? Positions.MIXED : c.learnedPositions() ? Positions.LEARNED : c.rope() ? Positions.ROPE
                    : c.alibi() ? Positions.ALIBI : Positions.NONE;
            return new Architecture(c.vocab(), c.seqLen(), c.layers(), c.dModel(), c.heads(), c.hidden(),
                    c.norm() == TransformerConfig.Norm.RMS ? Norm.RMS : Norm.LAYER,
                    c.mlp() == TransformerConfig.Mlp.SWIGLU ? Mlp.SWIGLU : Mlp.GELU,
                    p, c.window(), c.lnEps(), Rope.BASE, c.tiedOutput());
        }
    }

    /** How one attn4j tensor becomes one target tensor. */
    public enum Transform {
        /** As it is. */
        SAME,
        /** A matrix {@code [out, in]} as {@code [in, out]}. */
        TRANSPOSE,
        /** Block {@code part} of {@code parts} equal blocks along the first dimension (rows of a matrix, chunks of a vector). */
        ROWS
    }

    /** One target tensor: its name ({@code $1} is the layer number of the match) and how it is made. */
    public record Target(String name, Transform transform, int part, int parts) {
        static Target same(String name) { return new Target(name, Transform.SAME, 0, 1); }

        static Target transpose(String name) { return new Target(name, Transform.TRANSPOSE, 0, 1); }

        static Target rows(String name, int part, int parts) { return new Target(name, Transform.ROWS, part, parts); }
    }

    /** A row of a layout's table: attn4j names matching {@code pattern} become {@code targets}. */
    public record Rule(Pattern pattern, boolean required, List<Target> targets) {
        static Rule of(String regex, boolean required, Target... t) { return new Rule(Pattern.compile(regex), required, List.of(t)); }
    }

    private static final String L = "h\\.(\\d+)\\.";

    /** attn4j → Llama. Required rows must match (per layer for per-layer rows). */
    public static final List<Rule> LLAMA_RULES = List.of(
            Rule.of("wte", true, Target.same("model.embed_tokens.weight")),
            Rule.of(L + "ln_1\\.weight", true, Target.same("model.layers.$1.input_layernorm.weight")),
            Rule.of(L + "attn\\.c_attn\\.weight", true, Target.rows("model.layers.$1.self_attn.q_proj.weight", 0, 3),
                    Target.rows("model.layers.$1.self_attn.k_proj.weight", 1, 3), Target.rows("model.layers.$1.self_attn.v_proj.weight", 2, 3)),
            Rule.of(L + "attn\\.c_attn\\.bias", false, Target.rows("model.layers.$1.self_attn.q_proj.bias", 0, 3),
                    Target.rows("model.layers.$1.self_attn.k_proj.bias", 1, 3), Target.rows("model.layers.$1.self_attn.v_proj.bias", 2, 3)),
            Rule.of(L + "attn\\.c_proj\\.weight", true, Target.same("model.layers.$1.self_attn.o_proj.weight")),
            Rule.of(L + "attn\\.c_proj\\.bias", false, Target.same("model.layers.$1.self_attn.o_proj.bias")),
            Rule.of(L + "ln_2\\.weight", true, Target.same("model.layers.$1.post_attention_layernorm.weight")),
            Rule.of(L + "mlp\\.c_fc\\.weight", true, Target.rows("model.layers.$1.mlp.gate_proj.weight", 0, 2),
                    Target.rows("model.layers.$1.mlp.up_proj.weight", 1, 2)),
            Rule.of(L + "mlp\\.c_fc\\.bias", false, Target.rows("model.layers.$1.mlp.gate_proj.bias", 0, 2),
                    Target.rows("model.layers.$1.mlp.up_proj.bias", 1, 2)),
            Rule.of(L + "mlp\\.c_proj\\.weight", true, Target.same("model.layers.$1.mlp.down_proj.weight")),
            Rule.of(L + "mlp\\.c_proj\\.bias", false, Target.same("model.layers.$1.mlp.down_proj.bias")),
            Rule.of("ln_f\\.weight", true, Target.same("model.norm.weight")),
            Rule.of("lm_head\\.weight", false, Target.same("lm_head.weight")));

    /** attn4j → GPT-2 (Hugging Face's Conv1D stores matrices {@code [in, out]}). */
    public static final List<Rule> GPT2_RULES = List.of(
            Rule.of("wte", true, Target.same("transformer.wte.weight")),
            Rule.of("wpe", true, Target.same("transformer.wpe.weight")),
            Rule.of(L + "ln_1\\.weight", true, Target.same("transformer.h.$1.ln_1.weight")),
            Rule.of(L + "ln_1\\.bias", true, Target.same("transformer.h.$1.ln_1.bias")),
            Rule.of(L + "attn\\.c_attn\\.weight", true, Target.transpose("transformer.h.$1.attn.c_attn.weight")),
            Rule.of(L + "attn\\.c_attn\\.bias", true, Target.same("transformer.h.$1.attn.c_attn.bias")),
            Rule.of(L + "attn\\.c_proj\\.weight", true, Target.transpose("transformer.h.$1.attn.c_proj.weight")),
            Rule.of(L + "attn\\.c_proj\\.bias", true, Target.same("transformer.h.$1.attn.c_proj.bias")),
            Rule.of(L + "ln_2\\.weight", true, Target.same("transformer.h.$1.ln_2.weight")),
            Rule.of(L + "ln_2\\.bias", true, Target.same("transformer.h.$1.ln_2.bias")),
            Rule.of(L + "mlp\\.c_fc\\.weight", true, Target.transpose("transformer.h.$1.mlp.c_fc.weight")),
            Rule.of(L + "mlp\\.c_fc\\.bias", true, Target.same("transformer.h.$1.mlp.c_fc.bias")),
            Rule.of(L + "mlp\\.c_proj\\.weight", true, Target.transpose("transformer.h.$1.mlp.c_proj.weight")),
            Rule.of(L + "mlp\\.c_proj\\.bias", true, Target.same("transformer.h.$1.mlp.c_proj.bias")),
            Rule.of("ln_f\\.weight", true, Target.same("transformer.ln_f.weight")),
            Rule.of("ln_f\\.bias", true, Target.same("transformer.ln_f.bias")));

    public static List<Rule> rules(Layout layout) { return layout == Layout.LLAMA ? LLAMA_RULES : GPT2_RULES; }

    /** Exports {@code model} (and {@code tokenizer}, if not null) into {@code dir}. */
    public static void write(TransformerLM model, ByteLevelBpe tokenizer, Layout layout, Path dir) throws IOException {
        write(model.parameters(), Architecture.of(model.config()), tokenizer, layout, dir);
    }

    /**
     * Writes {@code model.safetensors}, {@code config.json} and ({@code tokenizer} not null)
     * {@code tokenizer.json} into {@code dir}, each atomically. Everything is checked before the
     * first file is written.
     */
    public static void write(Parameters params, Architecture arch, ByteLevelBpe tokenizer, Layout layout, Path dir) throws IOException {
        Map<String, SafetensorsWriter.Entry> tensors = tensors(params, arch, layout);
        if (tokenizer != null && tokenizer.vocabSize() > arch.vocab()) {
            throw new IllegalArgumentException("tokenizer: its " + tokenizer.vocabSize() + " ids do not fit the model's vocabulary of " + arch.vocab());
        }
        byte[] config = config(arch, tokenizer, layout, tensors).getBytes(StandardCharsets.UTF_8);
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve(MODEL_FILE), tensors, Map.of("format", "pt", "producer", "attn4j"));
        AtomicFile.write(dir.resolve(CONFIG_FILE), config);
        if (tokenizer != null) TokenizerJson.write(tokenizer, dir.resolve(TOKENIZER_FILE));
    }

    /** The target tensors, in attn4j's layout order; throws IllegalArgumentException listing what cannot be mapped. */
    public static Map<String, SafetensorsWriter.Entry> tensors(Parameters params, Architecture arch, Layout layout) {
        requireComputation(arch, layout);
        List<Rule> rules = rules(layout);
        Map<String, SafetensorsWriter.Entry> out = new LinkedHashMap<>();
        List<String> uncovered = new ArrayList<>();
        boolean[][] matched = new boolean[rules.size()][arch.layers() + 1];
        float[] w = params.values();
        for (Parameters.Param p : params.params()) {
            Rule rule = null;
            Matcher m = null;
            int r;
            for (r = 0; r < rules.size(); r++) {
                m = rules.get(r).pattern().matcher(p.name());
                if (m.matches()) {
                    rule = rules.get(r);
                    break;
                }
            }
            if (rule == null) {
                uncovered.add(p.name());
                continue;
            }
            int layer = m.groupCount() >= 1 ? Integer.parseInt(m.group(1)) : arch.layers();
            if (layer > arch.layers()) throw new IllegalArgumentException("params: tensor '" + p.name() + "' is beyond the " + arch.layers() + " layers");
            matched[r][layer] = true;
            float[] values = Arrays.copyOfRange(w, p.offset(), p.offset() + p.size());
            for (Target t : rule.targets()) {
                String name = m.groupCount() >= 1 ? t.name().replace("$1", m.group(1)) : t.name();
                out.put(name, transform(values, p.shape(), t, p.name()));
            }
        }
        if (!uncovered.isEmpty()) {
            throw new IllegalArgumentException("params: no " + layout + " tensor for " + uncovered
                    + " (the " + layout + " layout has no place for them)");
        }
        List<String> missing = new ArrayList<>();
        for (int r = 0; r < rules.size(); r++) {
            Rule rule = rules.get(r);
            if (!rule.required()) continue;
            boolean perLayer = rule.pattern().pattern().startsWith(L);
            if (perLayer) {
                for (int l = 0; l < arch.layers(); l++) if (!matched[r][l]) missing.add(rule.pattern().pattern().replace(L, "h." + l + ".").replace("\\", ""));
            } else if (!matched[r][arch.layers()]) {
                missing.add(rule.pattern().pattern().replace("\\", ""));
            }
        }
        if (!missing.isEmpty()) throw new IllegalArgumentException("params: the " + layout + " layout needs " + missing + ", which this model lacks");
        if (layout == Layout.LLAMA && !out.containsKey("lm_head.weight")) {
            if (!arch.tied()) throw new IllegalArgumentException("params: an untied model needs 'lm_head.weight'");
            // Tied output: the runtime reads lm_head.weight; safetensors holds no shared tensors, so a copy.
            SafetensorsWriter.Entry e = out.get("model.embed_tokens.weight");
            out.put("lm_head.weight", new SafetensorsWriter.Entry(e.values().clone(), e.shape()));
        }
        checkShapes(out, arch, layout);
        return out;
    }

    private static void requireComputation(Architecture a, Layout layout) {
        List<String> wrong = new ArrayList<>();
        if (layout == Layout.LLAMA) {
            if (a.norm() != Norm.RMS) wrong.add("norm " + a.norm() + " (needs RMS)");
            if (a.mlp() != Mlp.SWIGLU) wrong.add("mlp " + a.mlp() + " (needs SWIGLU)");
            if (a.positions() != Positions.ROPE) wrong.add("positions " + a.positions() + " (needs ROPE)");
        } else {
            if (a.norm() != Norm.LAYER) wrong.add("norm " + a.norm() + " (needs LAYER)");
            if (a.mlp() != Mlp.GELU) wrong.add("mlp " + a.mlp() + " (needs GELU)");
            if (a.positions() != Positions.LEARNED) wrong.add("positions " + a.positions() + " (needs LEARNED)");
            if (!a.tied()) wrong.add("untied output (GPT-2 ties lm_head to wte)");
        }
        if (a.window() != 0) wrong.add("window " + a.window() + " (needs none)");
        if (a.mlpHidden() == 0) wrong.add("no MLP (mlpRatio 0; both layouts need one in every block)");
        if (!wrong.isEmpty()) {
            throw new IllegalArgumentException("layout: " + layout + " computes something else than this model: " + String.join(", ", wrong)
                    + (layout == Layout.LLAMA && a.norm() == Norm.LAYER ? "; export it as GPT2" : ""));
        }
    }

    private static SafetensorsWriter.Entry transform(float[] v, int[] shape, Target t, String from) {
        return switch (t.transform()) {
            case SAME -> new SafetensorsWriter.Entry(v, shape);
            case TRANSPOSE -> {
                if (shape.length != 2) throw new IllegalArgumentException("params: '" + from + "' is not a matrix: " + Arrays.toString(shape));
                int rows = shape[0], cols = shape[1];
                float[] o = new float[v.length];
                for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) o[j * rows + i] = v[i * cols + j];
                yield new SafetensorsWriter.Entry(o, new int[] {cols, rows});
            }
            case ROWS -> {
                if (shape[0] % t.parts() != 0) throw new IllegalArgumentException("params: '" + from + "' has " + shape[0] + " rows, not " + t.parts() + " equal blocks");
                int block = shape[0] / t.parts(), row = v.length / shape[0];
                int[] s = shape.clone();
                s[0] = block;
                yield new SafetensorsWriter.Entry(Arrays.copyOfRange(v, t.part() * block * row, (t.part() + 1) * block * row), s);
            }
        };
    }

    private static void checkShapes(Map<String, SafetensorsWriter.Entry> out, Architecture a, Layout layout) {
        int c = a.dModel();
        String embed = layout == Layout.LLAMA ? "model.embed_tokens.weight" : "transformer.wte.weight";
        expect(out, embed, a.vocab(), c);
        for (int l = 0; l < a.layers(); l++) {
            if (layout == Layout.LLAMA) {
                String p = "model.layers." + l + ".";
                for (String q : new String[] {"q_proj", "k_proj", "v_proj", "o_proj"}) expect(out, p + "self_attn." + q + ".weight", c, c);
                expect(out, p + "mlp.gate_proj.weight", a.mlpHidden(), c);
                expect(out, p + "mlp.up_proj.weight", a.mlpHidden(), c);
                expect(out, p + "mlp.down_proj.weight", c, a.mlpHidden());
            } else {
                String p = "transformer.h." + l + ".";
                expect(out, p + "attn.c_attn.weight", c, 3 * c);
                expect(out, p + "mlp.c_fc.weight", c, a.mlpHidden());
                expect(out, p + "mlp.c_proj.weight", a.mlpHidden(), c);
            }
        }
        if (layout == Layout.GPT2) expect(out, "transformer.wpe.weight", a.seqLen(), c);
    }

    private static void expect(Map<String, SafetensorsWriter.Entry> out, String name, int... shape) {
        SafetensorsWriter.Entry e = out.get(name);
        if (e == null || !Arrays.equals(e.shape(), shape)) {
            throw new IllegalArgumentException("params: '" + name + "' should be " + Arrays.toString(shape) + " for this architecture, got "
                    + (e == null ? "none" : Arrays.toString(e.shape())));
        }
    }

    /** {@code config.json} for the layout. */
    static String config(Architecture a, ByteLevelBpe tok, Layout layout, Map<String, SafetensorsWriter.Entry> tensors) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode n = json.createObjectNode();
        int eos = tok == null ? -1 : tok.id("<|endoftext|>");
        if (layout == Layout.LLAMA) {
            n.putArray("architectures").add("LlamaForCausalLM");
            n.put("model_type", "llama");
            n.put("vocab_size", a.vocab());
            n.put("hidden_size", a.dModel());
            n.put("intermediate_size", a.mlpHidden());
            n.put("num_hidden_layers", a.layers());
            n.put("num_attention_heads", a.heads());
            n.put("num_key_value_heads", a.heads());
            n.put("head_dim", a.dModel() / a.heads());
            n.put("max_position_embeddings", a.seqLen());
            n.put("rms_norm_eps", a.normEps());
            n.put("rope_theta", a.ropeTheta());
            n.put("hidden_act", "silu");
            n.put("tie_word_embeddings", a.tied());
            n.put("attention_bias", tensors.containsKey("model.layers.0.self_attn.q_proj.bias"));
            n.put("mlp_bias", tensors.containsKey("model.layers.0.mlp.gate_proj.bias"));
        } else {
            n.putArray("architectures").add("GPT2LMHeadModel");
            n.put("model_type", "gpt2");
            n.put("vocab_size", a.vocab());
            n.put("n_positions", a.seqLen());
            n.put("n_ctx", a.seqLen());
            n.put("n_embd", a.dModel());
            n.put("n_layer", a.layers());
            n.put("n_head", a.heads());
            n.put("n_inner", a.mlpHidden());
            n.put("activation_function", "gelu_new");
            n.put("layer_norm_epsilon", a.normEps());
            n.put("tie_word_embeddings", true);
        }
        if (eos >= 0) {
            n.put("bos_token_id", eos);
            n.put("eos_token_id", eos);
        }
        n.put("torch_dtype", "float32");
        try {
            return json.writeValueAsString(n);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
