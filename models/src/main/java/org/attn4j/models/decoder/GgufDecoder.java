package org.attn4j.models.decoder;

import org.attn4j.models.gguf.GgufFile;
import org.attn4j.models.gguf.GgufFormatException;
import org.attn4j.models.gguf.GgufTensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds a {@link DecoderModel} from a GGUF file: the configuration from {@code general.architecture}
 * and the {@code <arch>.*} keys, the weights dequantised to float32 from llama.cpp's tensor names
 * ({@code token_embd}, {@code blk.N.attn_q}, ..., {@code output}).
 *
 * <p>RoPE pairing follows llama.cpp: its converter permutes the rows of Llama's Q and K so that
 * consecutive dimensions form a pair ({@link DecoderConfig.RopeStyle#INTERLEAVED}); Qwen2/Qwen3 keep
 * Hugging Face's rotate-half layout ({@link DecoderConfig.RopeStyle#HALVES}). Llama 3's frequency
 * scaling arrives as the {@code rope_freqs} tensor (one divisor per frequency).
 *
 * <p>{@code deepseek2} (dense FFN layers only: {@code leading_dense_block_count = block_count}): llama.cpp
 * keeps DeepSeek's rows as stored and rotates pairs (2i, 2i+1) ({@link DecoderConfig.RopeStyle#INTERLEAVED});
 * its converter splits {@code kv_b_proj} into {@code attn_k_b} (ggml {@code [dn, r, heads]}, W_UK
 * transposed per head) and {@code attn_v_b} ({@code [r, dv, heads]}); older files hold the unsplit
 * {@code attn_kv_b}. Both are read.
 */
public final class GgufDecoder {
    private GgufDecoder() {}

    /** The architectures read (values of {@code general.architecture}). */
    public static final List<String> ARCHITECTURES = List.of("llama", "mistral", "qwen2", "qwen3", "gpt2", "deepseek2");

    /** Opens {@code path} and reads the model; a bad file raises GgufFormatException naming it and the fault. */
    public static DecoderModel load(Path path) throws IOException {
        try (GgufFile g = GgufFile.open(path)) {
            return load(g);
        }
    }

    /** Reads the model of an open file (the weights are copied out, so the file may be closed after). */
    public static DecoderModel load(GgufFile g) throws GgufFormatException {
        DecoderConfig c = config(g);
        requireHeap(g.path().toString(), heapBytes(g), Runtime.getRuntime().maxMemory());
        int layers = c.layers();
        DecoderWeights.Layer[] ls = new DecoderWeights.Layer[layers];
        boolean gpt2 = c.arch() == DecoderConfig.Arch.GPT2;
        int q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim();
        for (int i = 0; i < layers; i++) {
            String p = "blk." + i + ".";
            if (c.mla() != null) {
                ls[i] = latentLayer(g, c, p);
                continue;
            }
            Matrix wq, wk, wv;
            float[] bq = null, bk = null, bv = null;
            if (g.tensors().containsKey(p + "attn_qkv.weight")) {
                Matrix w = matrix(g, p + "attn_qkv.weight", true, c.dim(), q + 2 * kv);
                wq = w.rows(0, q);
                wk = w.rows(q, q + kv);
                wv = w.rows(q + kv, q + 2 * kv);
                float[] b = floats(g, p + "attn_qkv.bias", false, (long) q + 2L * kv);
                if (b != null) {
                    bq = java.util.Arrays.copyOfRange(b, 0, q);
                    bk = java.util.Arrays.copyOfRange(b, q, q + kv);
                    bv = java.util.Arrays.copyOfRange(b, q + kv, q + 2 * kv);
                }
            } else {
                wq = matrix(g, p + "attn_q.weight", true, c.dim(), q);
                wk = matrix(g, p + "attn_k.weight", true, c.dim(), kv);
                wv = matrix(g, p + "attn_v.weight", true, c.dim(), kv);
                bq = floats(g, p + "attn_q.bias", false, q);
                bk = floats(g, p + "attn_k.bias", false, kv);
                bv = floats(g, p + "attn_v.bias", false, kv);
            }
            ls[i] = new DecoderWeights.Layer(
                    floats(g, p + "attn_norm.weight", true, c.dim()), floats(g, p + "attn_norm.bias", gpt2, c.dim()),
                    wq, bq, wk, bk, wv, bv,
                    floats(g, p + "attn_q_norm.weight", c.arch() == DecoderConfig.Arch.QWEN3, c.headDim()),
                    floats(g, p + "attn_k_norm.weight", c.arch() == DecoderConfig.Arch.QWEN3, c.headDim()),
                    matrix(g, p + "attn_output.weight", true, q, c.dim()), floats(g, p + "attn_output.bias", gpt2, c.dim()),
                    floats(g, p + "ffn_norm.weight", true, c.dim()), floats(g, p + "ffn_norm.bias", gpt2, c.dim()),
                    matrix(g, p + "ffn_gate.weight", !gpt2, c.dim(), c.ffn()),
                    matrix(g, p + "ffn_up.weight", true, c.dim(), c.ffn()), floats(g, p + "ffn_up.bias", gpt2, c.ffn()),
                    matrix(g, p + "ffn_down.weight", true, c.ffn(), c.dim()), floats(g, p + "ffn_down.bias", gpt2, c.dim()),
                    floats(g, p + "ffn_gate.bias", false, c.ffn()));
        }
        DecoderWeights w = new DecoderWeights(
                matrix(g, "token_embd.weight", true, c.dim(), c.vocab()),
                floats(g, "position_embd.weight", gpt2, c.dim(), c.contextLength()),
                ls,
                floats(g, "output_norm.weight", true, c.dim()),
                floats(g, "output_norm.bias", gpt2, c.dim()),
                matrix(g, "output.weight", false, c.dim(), c.vocab()));
        try {
            return new DecoderModel(c, w);
        } catch (IllegalArgumentException e) {
            throw new GgufFormatException(g.path() + ": " + e.getMessage());
        }
    }

    /** A DeepSeek-V2 block: latent attention and a dense SwiGLU FFN. */
    private static DecoderWeights.Layer latentLayer(GgufFile g, DecoderConfig c, String p) throws GgufFormatException {
        DecoderConfig.Mla m = c.mla();
        int d = c.dim(), h = c.heads(), dn = m.qkNopeDim(), dv = m.vHeadDim(), r = m.kvLoraRank(), ql = m.qLoraRank(), qk = dn + m.qkRopeDim();
        for (String moe : new String[] {"ffn_gate_inp.weight", "ffn_gate_exps.weight", "ffn_gate_up_exps.weight"}) {
            if (g.tensors().containsKey(p + moe)) throw new GgufFormatException(g.path() + ": tensor '" + p + moe + "': MoE layers are not supported");
        }
        Matrix kvB;
        if (g.tensors().containsKey(p + "attn_kv_b.weight")) {
            kvB = matrix(g, p + "attn_kv_b.weight", true, r, h * (dn + dv));
        } else {
            float[] kb = floats(g, p + "attn_k_b.weight", true, dn, r, h), vb = floats(g, p + "attn_v_b.weight", true, r, dv, h);
            float[] w = new float[h * (dn + dv) * r];
            for (int hh = 0; hh < h; hh++) {
                for (int e = 0; e < dn; e++) for (int k = 0; k < r; k++) w[(hh * (dn + dv) + e) * r + k] = kb[(hh * r + k) * dn + e];
                System.arraycopy(vb, hh * dv * r, w, (hh * (dn + dv) + dn) * r, dv * r);
            }
            kvB = new FloatMatrix(w, h * (dn + dv), r);
        }
        var mla = new DecoderWeights.Mla(ql > 0 ? matrix(g, p + "attn_q_a.weight", true, d, ql) : null,
                ql > 0 ? floats(g, p + "attn_q_a_norm.weight", true, ql) : null,
                ql > 0 ? matrix(g, p + "attn_q_b.weight", true, ql, h * qk) : matrix(g, p + "attn_q.weight", true, d, h * qk),
                matrix(g, p + "attn_kv_a_mqa.weight", true, d, m.latentWidth()), floats(g, p + "attn_kv_a_norm.weight", true, r), kvB);
        return DecoderWeights.Layer.latent(floats(g, p + "attn_norm.weight", true, d), mla, matrix(g, p + "attn_output.weight", true, h * dv, d),
                floats(g, p + "ffn_norm.weight", true, d), matrix(g, p + "ffn_gate.weight", true, d, c.ffn()),
                matrix(g, p + "ffn_up.weight", true, d, c.ffn()), matrix(g, p + "ffn_down.weight", true, c.ffn(), d));
    }

    /** DeepSeek-V2's latent attention shape from {@code deepseek2.*} metadata; MoE layers are refused naming the key. */
    private static DecoderConfig.Mla latentShape(GgufFile g, String a, int layers) throws GgufFormatException {
        long dense = g.integer(a + ".leading_dense_block_count", 0);
        if (dense < layers) {
            throw new GgufFormatException(g.path() + ": metadata '" + a + ".leading_dense_block_count': " + dense + " < block_count " + layers
                    + ": MoE layers are not supported (only dense models)");
        }
        boolean split = g.metadata().containsKey(a + ".attention.key_length_mla");
        int qk = split ? required(g, a + ".attention.key_length_mla") : required(g, a + ".attention.key_length");
        int dv = split ? required(g, a + ".attention.value_length_mla") : required(g, a + ".attention.value_length");
        int dr = required(g, a + ".rope.dimension_count");
        try {
            return new DecoderConfig.Mla((int) g.integer(a + ".attention.q_lora_rank", 0), required(g, a + ".attention.kv_lora_rank"), qk - dr, dr, dv);
        } catch (IllegalArgumentException e) {
            throw new GgufFormatException(g.path() + ": " + e.getMessage());
        }
    }

    /** The configuration from the metadata; unknown architectures and missing keys are named. */
    public static DecoderConfig config(GgufFile g) throws GgufFormatException {
        String a = g.string("general.architecture", null);
        DecoderConfig.Arch arch = switch (a) {
            case "llama", "mistral" -> DecoderConfig.Arch.LLAMA;
            case "qwen2" -> DecoderConfig.Arch.QWEN2;
            case "qwen3" -> DecoderConfig.Arch.QWEN3;
            case "gpt2" -> DecoderConfig.Arch.GPT2;
            case "deepseek2" -> DecoderConfig.Arch.DEEPSEEK2;
            default -> throw new GgufFormatException(g.path() + ": metadata 'general.architecture': '" + a
                    + "' is not supported; supported: " + ARCHITECTURES);
        };
        GgufTensor emb = g.tensor("token_embd.weight");
        int dim = required(g, a + ".embedding_length");
        int heads = required(g, a + ".attention.head_count");
        int kvHeads = (int) g.integer(a + ".attention.head_count_kv", heads);
        int headDim = (int) g.integer(a + ".attention.key_length", dim / heads);
        int vocab = emb.ne().length == 2 ? (int) emb.ne()[1] : -1;
        float eps = arch == DecoderConfig.Arch.GPT2 ? number(g, a + ".attention.layer_norm_epsilon", 1e-5f)
                : number(g, a + ".attention.layer_norm_rms_epsilon", 1e-6f);
        DecoderConfig.RopeStyle rope = switch (arch) {
            case LLAMA -> DecoderConfig.RopeStyle.INTERLEAVED;
            case QWEN2, QWEN3 -> DecoderConfig.RopeStyle.HALVES;
            case GPT2 -> DecoderConfig.RopeStyle.NONE;
            case DEEPSEEK2 -> DecoderConfig.RopeStyle.INTERLEAVED;
        };
        int ropeDim = (int) g.integer(a + ".rope.dimension_count", headDim);
        float[] factors = null;
        if (g.tensors().containsKey("rope_freqs.weight")) factors = floats(g, "rope_freqs.weight", true, ropeDim / 2);
        String scaling = g.string(a + ".rope.scaling.type", "none");
        if (!scaling.equals("none") && !(scaling.equals("linear") && number(g, a + ".rope.scaling.factor", 1f) == 1f)) {
            throw new GgufFormatException(g.path() + ": metadata '" + a + ".rope.scaling.type': '" + scaling + "' is not supported (none, or Llama 3's rope_freqs tensor)");
        }
        if (arch == DecoderConfig.Arch.DEEPSEEK2) {
            int layers = required(g, a + ".block_count");
            DecoderConfig.Mla mla = latentShape(g, a, layers);
            try {
                return new DecoderConfig(arch, vocab, dim, layers, heads, 1, mla.qkNopeDim() + mla.qkRopeDim(), required(g, a + ".feed_forward_length"),
                        required(g, a + ".context_length"), eps, number(g, a + ".rope.freq_base", 10000f), mla.qkRopeDim(), rope, factors, 0, mla);
            } catch (IllegalArgumentException e) {
                throw new GgufFormatException(g.path() + ": " + e.getMessage());
            }
        }
        try {
            return new DecoderConfig(arch, vocab, dim, required(g, a + ".block_count"), heads, kvHeads, headDim,
                    required(g, a + ".feed_forward_length"), required(g, a + ".context_length"), eps,
                    number(g, a + ".rope.freq_base", 10000f), ropeDim, rope, factors,
                    (int) g.integer(a + ".attention.sliding_window", 0));
        } catch (IllegalArgumentException e) {
            throw new GgufFormatException(g.path() + ": " + e.getMessage());
        }
    }

    private static int required(GgufFile g, String key) throws GgufFormatException {
        long v = g.integer(key, -1);
        if (v <= 0 || v > Integer.MAX_VALUE) throw new GgufFormatException(g.path() + ": metadata '" + key + "': expected a positive integer, got " + (v == -1 ? "none" : v));
        return (int) v;
    }

    private static float number(GgufFile g, String key, float fallback) throws GgufFormatException {
        Object v = g.metadata().get(key);
        if (v == null) return fallback;
        if (v instanceof Number n) return n.floatValue();
        throw new GgufFormatException(g.path() + ": metadata '" + key + "': expected a number, got " + g.metadataType(key));
    }

    private static void floatsCheck(GgufFile g, GgufTensor t, String name, long... ne) throws GgufFormatException {
        long[] have = t.ne();
        boolean ok = have.length >= ne.length;
        for (int i = 0; ok && i < have.length; i++) ok = have[i] == (i < ne.length ? ne[i] : 1);
        if (!ok) throw new GgufFormatException(g.path() + ": tensor '" + name + "': expected ne " + java.util.Arrays.toString(ne) + ", got " + java.util.Arrays.toString(have));
    }

    /**
     * Tensor {@code name} as floats, checked to have ggml shape {@code ne} (innermost first); null when
     * absent and not required.
     */
    private static float[] floats(GgufFile g, String name, boolean required, long... ne) throws GgufFormatException {
        GgufTensor t = g.tensors().get(name);
        if (t == null) {
            if (required) throw new GgufFormatException(g.path() + ": tensor '" + name + "': missing");
            return null;
        }
        floatsCheck(g, t, name, ne);
        if (!t.type().dequantizable()) {
            throw new GgufFormatException(g.path() + ": tensor '" + name + "': quantisation " + t.type() + " is not supported (F32, F16, BF16, Q8_0, Q4_0)");
        }
        try {
            return t.toFloats();
        } catch (IllegalStateException e) {
            throw new GgufFormatException(g.path() + ": " + e.getMessage());
        }
    }

    /**
     * Writes {@code config} and {@code weights} as a GGUF file that llama.cpp and {@link #load} read:
     * llama.cpp's metadata keys and tensor names, matrices stored as {@code matrixType} (F32, F16 or
     * Q8_0; vectors stay F32), and a stand-in byte-level BPE vocabulary of {@code config.vocab()}
     * tokens (GPT-2's 256 byte symbols, the merges {@code "Ġ t"} and {@code "h e"}, filler tokens,
     * and {@code <|endoftext|>} last) so that any text can be tokenised. For random-weight test and
     * benchmark models; Llama must use the interleaved RoPE pairing (GGUF's layout).
     */
    public static void write(Path path, DecoderConfig c, DecoderWeights w, org.attn4j.models.gguf.GgmlType matrixType) throws IOException {
        w.check(c);
        if (c.vocab() < 259) throw new IllegalArgumentException("config.vocab: the stand-in vocabulary needs >= 259 tokens, got " + c.vocab());
        String a = switch (c.arch()) {
            case LLAMA -> "llama";
            case QWEN2 -> "qwen2";
            case QWEN3 -> "qwen3";
            case GPT2 -> "gpt2";
            case DEEPSEEK2 -> "deepseek2";
        };
        if (c.arch() == DecoderConfig.Arch.LLAMA && c.rope() != DecoderConfig.RopeStyle.INTERLEAVED) {
            throw new IllegalArgumentException("config.rope: GGUF's llama layout pairs dimensions (2i, 2i+1) (INTERLEAVED), got " + c.rope());
        }
        var g = new org.attn4j.models.gguf.GgufWriter();
        g.put("general.architecture", a).put("general.alignment", 32);
        g.put(a + ".context_length", c.contextLength()).put(a + ".embedding_length", c.dim()).put(a + ".block_count", c.layers())
                .put(a + ".feed_forward_length", c.ffn()).put(a + ".attention.head_count", c.heads())
                .put(a + ".attention.head_count_kv", c.kvHeads());
        if (c.arch() == DecoderConfig.Arch.GPT2) g.put(a + ".attention.layer_norm_epsilon", c.normEps());
        else {
            g.put(a + ".attention.layer_norm_rms_epsilon", c.normEps()).put(a + ".rope.freq_base", c.ropeTheta())
                    .put(a + ".rope.dimension_count", c.ropeDim());
        }
        DecoderConfig.Mla mla = c.mla();
        if (mla != null) {
            // As llama.cpp's converter: key/value length describe the cache rows, the _mla keys the decompressed heads.
            g.put(a + ".leading_dense_block_count", c.layers()).put(a + ".attention.q_lora_rank", mla.qLoraRank())
                    .put(a + ".attention.kv_lora_rank", mla.kvLoraRank()).put(a + ".attention.key_length", mla.latentWidth())
                    .put(a + ".attention.value_length", mla.kvLoraRank()).put(a + ".attention.key_length_mla", c.headDim())
                    .put(a + ".attention.value_length_mla", mla.vHeadDim()).put(a + ".expert_feed_forward_length", c.ffn())
                    .put(a + ".expert_shared_count", 0);
        } else if (c.headDim() * c.heads() != c.dim()) {
            g.put(a + ".attention.key_length", c.headDim()).put(a + ".attention.value_length", c.headDim());
        }
        if (c.slidingWindow() > 0) g.put(a + ".attention.sliding_window", c.slidingWindow());
        String[] tokens = new String[c.vocab()];
        int[] types = new int[c.vocab()];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = i < 256 ? String.valueOf(org.attn4j.models.tokenizer.bpe.ByteLevel.charOf(i)) : "<|filler_" + i + "|>";
            types[i] = 1;
        }
        tokens[256] = "Ġt";
        tokens[257] = "he";
        tokens[tokens.length - 1] = "<|endoftext|>";
        types[tokens.length - 1] = 3;
        g.put("tokenizer.ggml.model", "gpt2").put("tokenizer.ggml.pre", "gpt-2").put("tokenizer.ggml.tokens", tokens)
                .put("tokenizer.ggml.token_type", types).put("tokenizer.ggml.merges", new String[] {"Ġ t", "h e"})
                .put("tokenizer.ggml.eos_token_id", c.vocab() - 1).put("tokenizer.ggml.bos_token_id", c.vocab() - 1)
                .put("tokenizer.ggml.add_bos_token", false);
        var F32 = org.attn4j.models.gguf.GgmlType.F32;
        int q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim();
        g.tensor("token_embd.weight", matrixType, w.tokenEmbedding().toFloats(), c.dim(), c.vocab());
        if (w.positionEmbedding() != null) g.tensor("position_embd.weight", F32, w.positionEmbedding(), c.dim(), c.contextLength());
        if (c.ropeFactors() != null) g.tensor("rope_freqs.weight", F32, c.ropeFactors(), c.ropeDim() / 2);
        for (int i = 0; i < c.layers(); i++) {
            DecoderWeights.Layer l = w.layers()[i];
            String p = "blk." + i + ".";
            g.tensor(p + "attn_norm.weight", F32, l.attnNorm(), c.dim());
            if (l.attnNormBias() != null) g.tensor(p + "attn_norm.bias", F32, l.attnNormBias(), c.dim());
            if (mla != null) {
                writeLatent(g, c, l, p, matrixType);
            } else if (c.arch() == DecoderConfig.Arch.GPT2) {
                g.tensor(p + "attn_qkv.weight", matrixType, concat(l.wq().toFloats(), l.wk().toFloats(), l.wv().toFloats()), c.dim(), q + 2L * kv);
                g.tensor(p + "attn_qkv.bias", F32, concat(l.bq(), l.bk(), l.bv()), q + 2L * kv);
            } else {
                g.tensor(p + "attn_q.weight", matrixType, l.wq().toFloats(), c.dim(), q);
                g.tensor(p + "attn_k.weight", matrixType, l.wk().toFloats(), c.dim(), kv);
                g.tensor(p + "attn_v.weight", matrixType, l.wv().toFloats(), c.dim(), kv);
                if (l.bq() != null) g.tensor(p + "attn_q.bias", F32, l.bq(), q);
                if (l.bk() != null) g.tensor(p + "attn_k.bias", F32, l.bk(), kv);
                if (l.bv() != null) g.tensor(p + "attn_v.bias", F32, l.bv(), kv);
            }
            if (l.qNorm() != null) g.tensor(p + "attn_q_norm.weight", F32, l.qNorm(), c.headDim());
            if (l.kNorm() != null) g.tensor(p + "attn_k_norm.weight", F32, l.kNorm(), c.headDim());
            g.tensor(p + "attn_output.weight", matrixType, l.wo().toFloats(), l.wo().cols(), c.dim());
            if (l.bo() != null) g.tensor(p + "attn_output.bias", F32, l.bo(), c.dim());
            g.tensor(p + "ffn_norm.weight", F32, l.ffnNorm(), c.dim());
            if (l.ffnNormBias() != null) g.tensor(p + "ffn_norm.bias", F32, l.ffnNormBias(), c.dim());
            if (l.wGate() != null) g.tensor(p + "ffn_gate.weight", matrixType, l.wGate().toFloats(), c.dim(), c.ffn());
            if (l.bGate() != null) g.tensor(p + "ffn_gate.bias", F32, l.bGate(), c.ffn());
            g.tensor(p + "ffn_up.weight", matrixType, l.wUp().toFloats(), c.dim(), c.ffn());
            if (l.bUp() != null) g.tensor(p + "ffn_up.bias", F32, l.bUp(), c.ffn());
            g.tensor(p + "ffn_down.weight", matrixType, l.wDown().toFloats(), c.ffn(), c.dim());
            if (l.bDown() != null) g.tensor(p + "ffn_down.bias", F32, l.bDown(), c.dim());
        }
        g.tensor("output_norm.weight", F32, w.outputNorm(), c.dim());
        if (w.outputNormBias() != null) g.tensor("output_norm.bias", F32, w.outputNormBias(), c.dim());
        if (w.output() != null) g.tensor("output.weight", matrixType, w.output().toFloats(), c.dim(), c.vocab());
        g.write(path);
    }

    /** A latent attention block's tensors, kv_b split into attn_k_b / attn_v_b as llama.cpp's converter writes them. */
    private static void writeLatent(org.attn4j.models.gguf.GgufWriter g, DecoderConfig c, DecoderWeights.Layer l, String p,
                                    org.attn4j.models.gguf.GgmlType matrixType) {
        var F32 = org.attn4j.models.gguf.GgmlType.F32;
        DecoderConfig.Mla m = c.mla();
        DecoderWeights.Mla w = l.mla();
        int h = c.heads(), dn = m.qkNopeDim(), dv = m.vHeadDim(), r = m.kvLoraRank(), ql = m.qLoraRank();
        if (w.qA() != null) {
            g.tensor(p + "attn_q_a.weight", matrixType, w.qA().toFloats(), c.dim(), ql);
            g.tensor(p + "attn_q_a_norm.weight", F32, w.qANorm(), ql);
            g.tensor(p + "attn_q_b.weight", matrixType, w.q().toFloats(), ql, (long) h * c.headDim());
        } else {
            g.tensor(p + "attn_q.weight", matrixType, w.q().toFloats(), c.dim(), (long) h * c.headDim());
        }
        g.tensor(p + "attn_kv_a_mqa.weight", matrixType, w.kvA().toFloats(), c.dim(), m.latentWidth());
        g.tensor(p + "attn_kv_a_norm.weight", F32, w.kvANorm(), r);
        float[] kvB = w.kvB().toFloats(), kb = new float[h * r * dn], vb = new float[h * dv * r];
        for (int hh = 0; hh < h; hh++) {
            for (int e = 0; e < dn; e++) for (int k = 0; k < r; k++) kb[(hh * r + k) * dn + e] = kvB[(hh * (dn + dv) + e) * r + k];
            System.arraycopy(kvB, (hh * (dn + dv) + dn) * r, vb, hh * dv * r, dv * r);
        }
        g.tensor(p + "attn_k_b.weight", F32, kb, dn, r, h);
        g.tensor(p + "attn_v_b.weight", F32, vb, r, dv, h);
    }

    private static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] out = new float[n];
        int o = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    /**
     * Tensor {@code name} of ggml shape {@code [cols, rows]} as a matrix: Q8_0 stays quantised
     * ({@link Q8Matrix}), the other types are dequantised to float32.
     */
    private static Matrix matrix(GgufFile g, String name, boolean required, int cols, int rows) throws GgufFormatException {
        GgufTensor t = g.tensors().get(name);
        if (t != null && t.type() == org.attn4j.models.gguf.GgmlType.Q8_0) {
            floatsCheck(g, t, name, cols, rows);
            return Q8Matrix.fromGgml(t.data(), rows, cols);
        }
        float[] f = floats(g, name, required, cols, rows);
        return f == null ? null : new FloatMatrix(f, rows, cols);
    }

    /**
     * Share of the maximum heap the weights may take. Long-lived arrays live in the old generation,
     * which under the parallel collector's default sizing (NewRatio 2) is two thirds of the heap; a
     * 4.9 GB model in a 6 GB heap (77 %) died with "GC overhead limit exceeded".
     */
    static final double HEAP_SHARE = 0.6;

    /**
     * Bytes of Java heap the model's weights occupy once loaded: Q8_0 tensors stay quantised (one
     * byte per weight and one float scale per 32), every other type becomes float32.
     */
    static long heapBytes(GgufFile g) {
        long bytes = 0;
        for (GgufTensor t : g.tensors().values()) {
            long n = t.elements();
            bytes += t.type() == org.attn4j.models.gguf.GgmlType.Q8_0 ? n + n / 8 : 4 * n;
        }
        return bytes;
    }

    /**
     * Refuses, before anything is read, a model whose weights ({@code needed} bytes) would take more
     * than {@link #HEAP_SHARE} of the maximum heap {@code maxHeap}: the alternative is a JVM that
     * thrashes and dies with "GC overhead limit exceeded" minutes later. The message says how much
     * heap to give.
     */
    static void requireHeap(String source, long needed, long maxHeap) {
        if (maxHeap == Long.MAX_VALUE || needed <= HEAP_SHARE * maxHeap) return;
        long suggestGiB = (long) Math.ceil(needed / HEAP_SHARE / (1L << 30)) + 1;
        throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                "%s: the weights need about %.2f GB of Java heap once loaded, more than %.0f %% of the %.2f GB this JVM may use;"
                        + " give it more, e.g. JAVA_OPTS=-Xmx%dg", source, needed / 1e9, 100 * HEAP_SHARE, maxHeap / 1e9, suggestGiB));
    }
}
