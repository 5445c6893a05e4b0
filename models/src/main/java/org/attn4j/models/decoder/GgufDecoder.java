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
 */
public final class GgufDecoder {
    private GgufDecoder() {}

    /** The architectures read (values of {@code general.architecture}). */
    public static final List<String> ARCHITECTURES = List.of("llama", "mistral", "qwen2", "qwen3", "gpt2");

    /** Opens {@code path} and reads the model; a bad file raises GgufFormatException naming it and the fault. */
    public static DecoderModel load(Path path) throws IOException {
        try (GgufFile g = GgufFile.open(path)) {
            return load(g);
        }
    }

    /** Reads the model of an open file (the weights are copied out, so the file may be closed after). */
    public static DecoderModel load(GgufFile g) throws GgufFormatException {
        DecoderConfig c = config(g);
        int layers = c.layers();
        DecoderWeights.Layer[] ls = new DecoderWeights.Layer[layers];
        boolean gpt2 = c.arch() == DecoderConfig.Arch.GPT2;
        int q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim();
        for (int i = 0; i < layers; i++) {
            String p = "blk." + i + ".";
            float[] wq, wk, wv, bq = null, bk = null, bv = null;
            if (g.tensors().containsKey(p + "attn_qkv.weight")) {
                float[] w = floats(g, p + "attn_qkv.weight", true, (long) c.dim(), (long) q + 2L * kv);
                wq = slice(w, 0, q * c.dim());
                wk = slice(w, q * c.dim(), kv * c.dim());
                wv = slice(w, (q + kv) * c.dim(), kv * c.dim());
                float[] b = floats(g, p + "attn_qkv.bias", false, (long) q + 2L * kv);
                if (b != null) {
                    bq = slice(b, 0, q);
                    bk = slice(b, q, kv);
                    bv = slice(b, q + kv, kv);
                }
            } else {
                wq = floats(g, p + "attn_q.weight", true, c.dim(), q);
                wk = floats(g, p + "attn_k.weight", true, c.dim(), kv);
                wv = floats(g, p + "attn_v.weight", true, c.dim(), kv);
                bq = floats(g, p + "attn_q.bias", false, q);
                bk = floats(g, p + "attn_k.bias", false, kv);
                bv = floats(g, p + "attn_v.bias", false, kv);
            }
            ls[i] = new DecoderWeights.Layer(
                    floats(g, p + "attn_norm.weight", true, c.dim()), floats(g, p + "attn_norm.bias", gpt2, c.dim()),
                    wq, bq, wk, bk, wv, bv,
                    floats(g, p + "attn_q_norm.weight", c.arch() == DecoderConfig.Arch.QWEN3, c.headDim()),
                    floats(g, p + "attn_k_norm.weight", c.arch() == DecoderConfig.Arch.QWEN3, c.headDim()),
                    floats(g, p + "attn_output.weight", true, q, c.dim()), floats(g, p + "attn_output.bias", gpt2, c.dim()),
                    floats(g, p + "ffn_norm.weight", true, c.dim()), floats(g, p + "ffn_norm.bias", gpt2, c.dim()),
                    floats(g, p + "ffn_gate.weight", !gpt2, c.dim(), c.ffn()),
                    floats(g, p + "ffn_up.weight", true, c.dim(), c.ffn()), floats(g, p + "ffn_up.bias", gpt2, c.ffn()),
                    floats(g, p + "ffn_down.weight", true, c.ffn(), c.dim()), floats(g, p + "ffn_down.bias", gpt2, c.dim()));
        }
        DecoderWeights w = new DecoderWeights(
                floats(g, "token_embd.weight", true, c.dim(), c.vocab()),
                floats(g, "position_embd.weight", gpt2, c.dim(), c.contextLength()),
                ls,
                floats(g, "output_norm.weight", true, c.dim()),
                floats(g, "output_norm.bias", gpt2, c.dim()),
                floats(g, "output.weight", false, c.dim(), c.vocab()));
        try {
            return new DecoderModel(c, w);
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
        };
        int ropeDim = (int) g.integer(a + ".rope.dimension_count", headDim);
        float[] factors = null;
        if (g.tensors().containsKey("rope_freqs.weight")) factors = floats(g, "rope_freqs.weight", true, ropeDim / 2);
        String scaling = g.string(a + ".rope.scaling.type", "none");
        if (!scaling.equals("none") && !(scaling.equals("linear") && number(g, a + ".rope.scaling.factor", 1f) == 1f)) {
            throw new GgufFormatException(g.path() + ": metadata '" + a + ".rope.scaling.type': '" + scaling + "' is not supported (none, or Llama 3's rope_freqs tensor)");
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
        long[] have = t.ne();
        boolean ok = have.length >= ne.length;
        for (int i = 0; ok && i < have.length; i++) ok = have[i] == (i < ne.length ? ne[i] : 1);
        if (!ok) throw new GgufFormatException(g.path() + ": tensor '" + name + "': expected ne " + java.util.Arrays.toString(ne) + ", got " + java.util.Arrays.toString(have));
        if (!t.type().dequantizable()) {
            throw new GgufFormatException(g.path() + ": tensor '" + name + "': quantisation " + t.type() + " is not supported (F32, F16, BF16, Q8_0, Q4_0)");
        }
        try {
            return t.toFloats();
        } catch (IllegalStateException e) {
            throw new GgufFormatException(g.path() + ": " + e.getMessage());
        }
    }

    private static float[] slice(float[] a, int from, int n) {
        return java.util.Arrays.copyOfRange(a, from, from + n);
    }
}
