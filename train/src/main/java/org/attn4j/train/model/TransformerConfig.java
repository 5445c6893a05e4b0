package org.attn4j.train.model;

import java.util.ArrayList;
import java.util.List;
import org.attn4j.variants.Settings;
import org.attn4j.variants.trainable.TrainableAttention;
import org.attn4j.variants.trainable.TrainableRegistry;

/**
 * The shape of a {@link TransformerLM}.
 *
 * @param vocab             vocabulary size V
 * @param seqLen            sequence length T (every batch is {@code [B, T]})
 * @param layers            number of transformer blocks L
 * @param dModel            width C
 * @param heads             attention heads H (C % H == 0)
 * @param mlpRatio          hidden width of the MLP as a multiple of C (4 in GPT-2); 0 for attention-only blocks
 *                          (no {@code ln_2} and no MLP: {@code x = x + attn(norm_1(x))}, as Zoology's MQAR models)
 * @param learnedPositions  learned absolute positions ({@code wpe})
 * @param alibi             ALiBi biases in every attention layer (through the engine: {@code full} attention only)
 * @param window            causal sliding window in every attention layer (keys {@code j ≥ i − window}); 0 for none
 *                          ({@code full} attention only)
 * @param lnEps             epsilon of the LayerNorm / RMSNorm
 * @param initStd           standard deviation of the normal initialisation of matrices and embeddings (GPT-2: 0.02);
 *                          the residual output projections get {@code initStd/√(2L)}
 * @param rope              rotary position embedding (RoPE, base 10000, rotate-half pairing) on q and k of every layer
 * @param norm              LayerNorm (GPT-2) or RMSNorm (Llama) for every norm of the model
 * @param mlp               GELU MLP (GPT-2) or SwiGLU (Llama); both have hidden width {@code mlpRatio·C}
 * @param tiedOutput        the output projection is the token embedding {@code wte} (GPT-2) or its own {@code lm_head}
 * @param bias              the linear layers have biases (GPT-2) or not (Llama)
 * @param attention         the trainable attention mechanism by registry name ({@code full}, or a variant with a backward)
 * @param attentionSettings its settings as {@code key=value} strings (as {@code --set} gives them); for {@code full},
 *                          {@code alibi} and {@code window} come from the two components above
 */
public record TransformerConfig(int vocab, int seqLen, int layers, int dModel, int heads, int mlpRatio,
                                boolean learnedPositions, boolean alibi, int window, float lnEps, float initStd,
                                boolean rope, Norm norm, Mlp mlp, boolean tiedOutput, boolean bias,
                                String attention, List<String> attentionSettings) {

    /** The normalisation layer. */
    public enum Norm { LAYER, RMS }

    /** The feed-forward block. */
    public enum Mlp { GELU, SWIGLU }

    public TransformerConfig {
        positive("vocab", vocab);
        positive("seqLen", seqLen);
        positive("layers", layers);
        positive("dModel", dModel);
        positive("heads", heads);
        if (mlpRatio < 0) throw new IllegalArgumentException("mlpRatio: expected >= 0 (0: no MLP), got " + mlpRatio);
        if (dModel % heads != 0) throw new IllegalArgumentException("heads: must divide dModel=" + dModel + ", got " + heads);
        if (window < 0) throw new IllegalArgumentException("window: expected 0 (none) or a positive count, got " + window);
        if (!(lnEps > 0)) throw new IllegalArgumentException("lnEps: expected > 0, got " + lnEps);
        if (!(initStd > 0)) throw new IllegalArgumentException("initStd: expected > 0, got " + initStd);
        if (norm == null) throw new IllegalArgumentException("norm: expected LAYER or RMS, got null");
        if (mlp == null) throw new IllegalArgumentException("mlp: expected GELU or SWIGLU, got null");
        if (rope && (dModel / heads) % 2 != 0) {
            throw new IllegalArgumentException("rope: needs an even head dimension, got dModel/heads=" + dModel / heads);
        }
        if (attention == null || attention.isEmpty()) throw new IllegalArgumentException("attention: expected a mechanism name, got " + attention);
        attentionSettings = List.copyOf(attentionSettings == null ? List.of() : attentionSettings);
        if (!attention.equals("full")) {
            if (alibi) throw new IllegalArgumentException("alibi: ALiBi runs in the engine's full attention, not in '" + attention + "'");
            if (window > 0) throw new IllegalArgumentException("window: the window belongs to the engine's full attention, not to '" + attention + "' (use its own settings)");
        }
        for (String s : attentionSettings) {
            String key = s.indexOf('=') > 0 ? s.substring(0, s.indexOf('=')).trim() : s;
            if (attention.equals("full") && (key.equals("alibi") || key.equals("window"))) {
                throw new IllegalArgumentException("attentionSettings: '" + key + "' of full attention is set by withAlibi/withWindow, got " + s);
            }
        }
    }

    /** The original eleven components (GPT-2 layers, full attention); the rest take their defaults. */
    public TransformerConfig(int vocab, int seqLen, int layers, int dModel, int heads, int mlpRatio,
                             boolean learnedPositions, boolean alibi, int window, float lnEps, float initStd) {
        this(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, window, lnEps, initStd,
                false, Norm.LAYER, Mlp.GELU, true, true, "full", List.of());
    }

    /** GPT-2's choices: learned positions, LayerNorm, GELU MLP of ratio 4, biases, tied output, eps 1e-5, init std 0.02, full attention. */
    public static TransformerConfig gpt(int vocab, int seqLen, int layers, int dModel, int heads) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, 4, true, false, 0, 1e-5f, 0.02f);
    }

    /**
     * Llama's choices: RoPE and no learned positions, RMSNorm (eps 1e-5), SwiGLU of hidden width
     * {@code mlpRatio·C} (ratio 3 here, near Llama's 8/3), no biases, untied output, full attention.
     */
    public static TransformerConfig llama(int vocab, int seqLen, int layers, int dModel, int heads) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, 3, false, false, 0, 1e-5f, 0.02f,
                true, Norm.RMS, Mlp.SWIGLU, false, false, "full", List.of());
    }

    /**
     * The attention mechanism of every layer: a fresh instance from {@link TrainableRegistry}
     * ({@code full} gets {@code alibi} and {@code window} from this config). Throws
     * IllegalArgumentException naming {@code attention} or the setting when they are not accepted.
     */
    public TrainableAttention createAttention() {
        List<String> pairs = new ArrayList<>(attentionSettings);
        if (attention.equals("full")) {
            pairs.add("alibi=" + alibi);
            pairs.add("window=" + window);
        }
        return TrainableRegistry.create(attention, Settings.parse(pairs));
    }

    /** How positions enter the model, for reports: any of {@code learned}, {@code rope}, {@code alibi} joined by '+', or {@code none}. */
    public String positions() {
        List<String> p = new ArrayList<>();
        if (learnedPositions) p.add("learned");
        if (rope) p.add("rope");
        if (alibi) p.add("alibi");
        return p.isEmpty() ? "none" : String.join("+", p);
    }

    public TransformerConfig withAlibi(boolean on) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, on, window, lnEps, initStd,
                rope, norm, mlp, tiedOutput, bias, attention, attentionSettings);
    }

    public TransformerConfig withLearnedPositions(boolean on) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, on, alibi, window, lnEps, initStd,
                rope, norm, mlp, tiedOutput, bias, attention, attentionSettings);
    }

    public TransformerConfig withWindow(int w) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, w, lnEps, initStd,
                rope, norm, mlp, tiedOutput, bias, attention, attentionSettings);
    }

    public TransformerConfig withInitStd(float std) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, window, lnEps, std,
                rope, norm, mlp, tiedOutput, bias, attention, attentionSettings);
    }

    public TransformerConfig withRope(boolean on) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, window, lnEps, initStd,
                on, norm, mlp, tiedOutput, bias, attention, attentionSettings);
    }

    public TransformerConfig withNorm(Norm n) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, window, lnEps, initStd,
                rope, n, mlp, tiedOutput, bias, attention, attentionSettings);
    }

    public TransformerConfig withMlp(Mlp m) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, window, lnEps, initStd,
                rope, norm, m, tiedOutput, bias, attention, attentionSettings);
    }

    public TransformerConfig withMlpRatio(int ratio) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, ratio, learnedPositions, alibi, window, lnEps, initStd,
                rope, norm, mlp, tiedOutput, bias, attention, attentionSettings);
    }

    public TransformerConfig withTiedOutput(boolean on) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, window, lnEps, initStd,
                rope, norm, mlp, on, bias, attention, attentionSettings);
    }

    public TransformerConfig withBias(boolean on) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, window, lnEps, initStd,
                rope, norm, mlp, tiedOutput, on, attention, attentionSettings);
    }

    /** The attention mechanism by registry name with its {@code key=value} settings. */
    public TransformerConfig withAttention(String name, List<String> settings) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, window, lnEps, initStd,
                rope, norm, mlp, tiedOutput, bias, name, settings);
    }

    /** Head dimension D = C/H. */
    public int headDim() { return dModel / heads; }

    /** Hidden width of the MLP, {@code mlpRatio·C} (0: the blocks have no MLP). */
    public int hidden() { return mlpRatio * dModel; }

    /** Whether every block has a norm and an MLP after its attention ({@code mlpRatio > 0}). */
    public boolean hasMlp() { return mlpRatio > 0; }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + ": expected > 0, got " + v);
    }
}
