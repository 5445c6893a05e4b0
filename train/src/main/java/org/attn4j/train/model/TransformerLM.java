package org.attn4j.train.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.train.Parameters;
import org.attn4j.train.layers.CausalSelfAttention;
import org.attn4j.train.layers.Embedding;
import org.attn4j.train.layers.Gelu;
import org.attn4j.train.layers.LayerNorm;
import org.attn4j.train.layers.Linear;
import org.attn4j.train.layers.Normalization;
import org.attn4j.train.layers.Residual;
import org.attn4j.train.layers.RmsNorm;
import org.attn4j.train.layers.SwiGlu;
import org.attn4j.train.layers.TiedCrossEntropy;
import org.attn4j.variants.trainable.TrainableAttention;
import org.attn4j.variants.trainable.TrainableParam;

/**
 * A decoder-only transformer (pre-norm blocks) trained with explicit forward and backward passes,
 * llm.c's way. GPT-2's layers by default; Llama's (RoPE, RMSNorm, SwiGLU, untied output, no biases)
 * by {@link TransformerConfig}'s choices, in any mix.
 *
 * <pre>
 *   x      = wte[tokens] (+ wpe[positions] when learned)          [B·T, C]
 *   for each block l:
 *     x1   = x  + attn_l(norm_1(x))                              causal multi-head attention (pluggable mechanism, RoPE/ALiBi/window)
 *     x    = x1 + c_proj_l(act(c_fc_l(norm_2(x1))))              act: GELU, or SwiGLU on the fused gate|up of c_fc
 *                                                                (mlpRatio 0: x = x1, and the block has no norm_2 and no MLP)
 *   loss   = cross-entropy(norm_f(x)·Wₒᵀ, targets) on the marked positions, Wₒ = wte (tied) or lm_head
 * </pre>
 *
 * <p>Parameters (one flat buffer, see {@link Parameters}) are named as in GPT-2: {@code wte},
 * {@code wpe}, {@code h.L.ln_1.weight|bias}, {@code h.L.attn.c_attn.weight|bias},
 * {@code h.L.attn.c_proj.weight|bias}, {@code h.L.attn.<mechanism tensor>}, {@code h.L.ln_2.weight|bias},
 * {@code h.L.mlp.c_fc.weight|bias}, {@code h.L.mlp.c_proj.weight|bias}, {@code ln_f.weight|bias},
 * {@code lm_head.weight}. Matrices are {@code [out, in]} (the transpose of Hugging Face GPT-2's
 * Conv1D {@code [in, out]}, the same as Llama's {@code nn.Linear}). RMSNorm has no {@code .bias};
 * with SwiGLU, {@code c_fc} is {@code [2·hidden, C]}: rows {@code 0..hidden} are the gate, the rest
 * the up projection. {@code docs/training-stack.md} maps these names to GPT-2's and Llama's.
 *
 * <p>Usage per step: {@link Parameters#zeroGrad()}, {@link #forward}, {@link #backward}, then an
 * optimiser step. Not thread-safe: one model, one caller; its work runs on {@code threads} workers.
 * With the same seed and thread count, every result is bit-identical from run to run.
 */
public final class TransformerLM {
    private final TransformerConfig config;
    private final Parameters params;
    private final int maxBatch, threads;

    private final Embedding embedding;
    private final Block[] blocks;
    private final Normalization lnF;
    private final TiedCrossEntropy head;
    /** The attention mechanism's own tensors by their full name, for the initialisation. */
    private final Map<String, TrainableParam> mechanismParams;

    // Gradient scratch for the backward, shared by all blocks (each use starts from zero).
    private final float[] dX, dX1, dBranch, dNorm, dAct, dHidden;

    private int batch = -1;
    private boolean backwardReady;

    /** The activations one block keeps between its forward and backward, and its layers (ln2 and the MLP null without an MLP). */
    private static final class Block {
        final Normalization ln1, ln2;
        final CausalSelfAttention attn;
        final Linear fc, fcProj;
        final Gelu gelu;       // GELU MLP
        final SwiGlu swiGlu;   // or SwiGLU
        final float[] x1, out;

        Block(Parameters p, String prefix, TransformerConfig cfg, TrainableAttention attention, int maxBatch, int threads) {
            int maxRows = maxBatch * cfg.seqLen(), c = cfg.dModel();
            ln1 = norm(p, prefix + ".ln_1", cfg, maxRows, threads);
            attn = new CausalSelfAttention(p, prefix + ".attn", cfg.heads(), cfg.seqLen(), maxBatch, attention, cfg.rope(), threads);
            boolean mlp = cfg.hasMlp(), swi = cfg.mlp() == TransformerConfig.Mlp.SWIGLU;
            ln2 = mlp ? norm(p, prefix + ".ln_2", cfg, maxRows, threads) : null;
            fc = mlp ? new Linear(p, prefix + ".mlp.c_fc", maxRows, threads) : null;
            gelu = mlp && !swi ? new Gelu(maxRows * cfg.hidden(), threads) : null;
            swiGlu = mlp && swi ? new SwiGlu(maxRows, cfg.hidden(), threads) : null;
            fcProj = mlp ? new Linear(p, prefix + ".mlp.c_proj", maxRows, threads) : null;
            x1 = new float[maxRows * c];
            out = mlp ? new float[maxRows * c] : null;
        }
    }

    private static Normalization norm(Parameters p, String prefix, TransformerConfig cfg, int maxRows, int threads) {
        return cfg.norm() == TransformerConfig.Norm.RMS
                ? new RmsNorm(p, prefix, maxRows, cfg.lnEps(), threads)
                : new LayerNorm(p, prefix, maxRows, cfg.lnEps(), threads);
    }

    /**
     * A model with freshly initialised weights (GPT-2's scheme, from {@code seed}), its attention
     * mechanism built from the config ({@link TransformerConfig#createAttention()}).
     *
     * @param maxBatch the most sequences per forward (sizes the activation buffers)
     * @param threads  worker threads for every layer (0 = all processors)
     */
    public TransformerLM(TransformerConfig config, int maxBatch, int threads, long seed) {
        this(config, config.createAttention(), maxBatch, threads, seed);
    }

    /**
     * A model whose every layer uses {@code attention} (an instance configured by the caller; its
     * {@link TrainableAttention#name()} must be the config's {@code attention}).
     */
    public TransformerLM(TransformerConfig config, TrainableAttention attention, int maxBatch, int threads, long seed) {
        if (maxBatch <= 0) throw new IllegalArgumentException("maxBatch: expected > 0, got " + maxBatch);
        if (!attention.name().equals(config.attention())) {
            throw new IllegalArgumentException("attention: the config names '" + config.attention() + "', the instance is '" + attention.name() + "'");
        }
        this.config = config;
        this.maxBatch = maxBatch;
        this.threads = Parallel.resolveThreads(threads);
        this.mechanismParams = new LinkedHashMap<>();
        this.params = declare(config, attention, mechanismParams);
        int maxRows = Math.multiplyExact(maxBatch, config.seqLen()), c = config.dModel();
        this.embedding = new Embedding(params, config.seqLen(), maxRows);
        this.blocks = new Block[config.layers()];
        for (int l = 0; l < blocks.length; l++) blocks[l] = new Block(params, "h." + l, config, attention, maxBatch, this.threads);
        this.lnF = norm(params, "ln_f", config, maxRows, this.threads);
        this.head = new TiedCrossEntropy(params, config.tiedOutput() ? "wte" : "lm_head.weight", maxRows, this.threads);
        int n = maxRows * c, nh = maxRows * config.hidden();
        int fcOut = config.mlp() == TransformerConfig.Mlp.SWIGLU ? 2 * nh : nh;
        dX = new float[n];
        dX1 = new float[n];
        dBranch = new float[n];
        dNorm = new float[n];
        dAct = new float[nh];
        dHidden = new float[fcOut];
        initialise(seed);
    }

    /** The parameter layout of a model with this config, in the order GPT-2 lists its tensors. */
    public static Parameters declare(TransformerConfig cfg) {
        return declare(cfg, cfg.createAttention(), new LinkedHashMap<>());
    }

    private static Parameters declare(TransformerConfig cfg, TrainableAttention attention, Map<String, TrainableParam> own) {
        Parameters.Builder b = Parameters.builder();
        int c = cfg.dModel(), hidden = cfg.hidden();
        boolean rms = cfg.norm() == TransformerConfig.Norm.RMS;
        int fcOut = cfg.mlp() == TransformerConfig.Mlp.SWIGLU ? 2 * hidden : hidden;
        Embedding.declare(b, cfg.vocab(), cfg.seqLen(), c, cfg.learnedPositions());
        for (int l = 0; l < cfg.layers(); l++) {
            String p = "h." + l;
            declareNorm(b, p + ".ln_1", c, rms);
            for (TrainableParam t : CausalSelfAttention.declare(b, p + ".attn", c, cfg.heads(), cfg.seqLen(), attention, cfg.bias())) {
                own.put(p + ".attn." + t.name(), t);
            }
            if (!cfg.hasMlp()) continue;
            declareNorm(b, p + ".ln_2", c, rms);
            Linear.declare(b, p + ".mlp.c_fc", c, fcOut, cfg.bias());
            Linear.declare(b, p + ".mlp.c_proj", hidden, c, cfg.bias());
        }
        declareNorm(b, "ln_f", c, rms);
        if (!cfg.tiedOutput()) b.add("lm_head.weight", true, cfg.vocab(), c);
        return b.build();
    }

    private static void declareNorm(Parameters.Builder b, String prefix, int c, boolean rms) {
        if (rms) RmsNorm.declare(b, prefix, c);
        else LayerNorm.declare(b, prefix, c);
    }

    /**
     * GPT-2's initialisation: matrices and embeddings ~ N(0, initStd²), the two residual output
     * projections ({@code c_proj}) ~ N(0, (initStd/√(2L))²) so the residual stream's variance does not
     * grow with depth, biases 0, norm γ = 1 and β = 0; the attention mechanism's own tensors as their
     * {@link TrainableParam.Init} says. Tensors are drawn in layout order from one {@link Random}
     * (whose Gaussian sequence is fixed by its specification, so a seed means the same weights on
     * every JVM).
     */
    private void initialise(long seed) {
        Random rnd = new Random(seed);
        float[] w = params.values();
        double residualStd = config.initStd() / Math.sqrt(2.0 * config.layers());
        for (Parameters.Param p : params.params()) {
            String name = p.name();
            int from = p.offset(), to = p.offset() + p.size();
            TrainableParam own = mechanismParams.get(name);
            if (own != null) {
                initialise(own, w, from, rnd);
            } else if (name.contains("ln_")) {
                Arrays.fill(w, from, to, name.endsWith(".weight") ? 1f : 0f);
            } else if (name.endsWith(".bias")) {
                Arrays.fill(w, from, to, 0f);
            } else {
                double std = name.endsWith("c_proj.weight") ? residualStd : config.initStd();
                for (int i = from; i < to; i++) w[i] = (float) (rnd.nextGaussian() * std);
            }
        }
    }

    private static void initialise(TrainableParam p, float[] w, int offset, Random rnd) {
        int n = p.size();
        switch (p.init()) {
            case ZERO -> Arrays.fill(w, offset, offset + n, 0f);
            case ONE -> Arrays.fill(w, offset, offset + n, 1f);
            case NORMAL -> {
                for (int i = 0; i < n; i++) w[offset + i] = (float) (rnd.nextGaussian() * p.std());
            }
            case IDENTITY -> {
                int[] shape = p.shape();
                int d = shape[shape.length - 1];
                Arrays.fill(w, offset, offset + n, 0f);
                for (int m = 0; m < n / (d * d); m++) {
                    for (int i = 0; i < d; i++) w[offset + m * d * d + i * d + i] = 1f;
                }
            }
        }
    }

    /** The attention mechanism's own tensors, by full name ({@code h.L.attn.<name>}), in layout order. */
    public Map<String, TrainableParam> mechanismParameters() { return java.util.Collections.unmodifiableMap(mechanismParams); }

    public TransformerConfig config() { return config; }

    public Parameters parameters() { return params; }

    public int threads() { return threads; }

    public int maxBatch() { return maxBatch; }

    /**
     * The training forward: mean cross-entropy (natural log) over the marked positions, keeping what
     * {@link #backward} needs.
     *
     * @param tokens   {@code [B, T]} row-major token ids in {@code [0, V)}; B = tokens.length / T ≤ maxBatch
     * @param targets  {@code [B, T]}: the token expected at each position (read only where marked)
     * @param lossMask {@code [B, T]}: the positions that count
     * @return the loss (0 when nothing is marked)
     */
    public double forward(int[] tokens, int[] targets, boolean[] lossMask) {
        return run(tokens, targets, lossMask, true);
    }

    /** {@link #forward} without keeping a gradient (evaluation); {@link #backward} may not follow. */
    public double evaluate(int[] tokens, int[] targets, boolean[] lossMask) {
        return run(tokens, targets, lossMask, false);
    }

    /** Positions marked in the last forward. */
    public int lastMarked() { return head.marked(); }

    /** Marked positions of the last forward whose arg-max prediction was the target. */
    public int lastCorrect() { return head.correct(); }

    private double run(int[] tokens, int[] targets, boolean[] lossMask, boolean training) {
        int t = config.seqLen();
        if (tokens == null || tokens.length == 0 || tokens.length % t != 0) {
            throw new IllegalArgumentException("tokens: expected a positive multiple of seqLen=" + t + " ids, got " + (tokens == null ? "null" : tokens.length));
        }
        if (targets == null || targets.length != tokens.length) throw new IllegalArgumentException("targets: expected " + tokens.length + " ids, got " + (targets == null ? "null" : targets.length));
        if (lossMask == null || lossMask.length != tokens.length) throw new IllegalArgumentException("lossMask: expected " + tokens.length + " flags, got " + (lossMask == null ? "null" : lossMask.length));
        int b = tokens.length / t;
        if (b > maxBatch) throw new IllegalArgumentException("tokens: at most maxBatch=" + maxBatch + " sequences, got " + b);
        this.batch = b;
        int rows = b * t, n = rows * config.dModel();

        float[] x = embedding.forward(tokens, rows);
        for (Block blk : blocks) {
            float[] att = blk.attn.forward(blk.ln1.forward(x, rows), b);
            Residual.forward(x, att, blk.x1, n);
            if (blk.fc == null) {               // attention-only block: its output is x1
                x = blk.x1;
                continue;
            }
            float[] hidden = blk.fc.forward(blk.ln2.forward(blk.x1, rows), rows);
            float[] act = blk.swiGlu != null ? blk.swiGlu.forward(hidden, rows) : blk.gelu.forward(hidden, rows * config.hidden());
            float[] mlp = blk.fcProj.forward(act, rows);
            Residual.forward(blk.x1, mlp, blk.out, n);
            x = blk.out;
        }
        double loss = head.forward(lnF.forward(x, rows), rows, targets, lossMask, training);
        backwardReady = training;
        return loss;
    }

    /**
     * Accumulates ∂loss/∂θ of the last {@link #forward} into {@link Parameters#grads()}, reading the
     * layers in reverse.
     */
    public void backward() {
        if (!backwardReady) throw new IllegalStateException("backward: call forward (not evaluate) first, once per backward");
        backwardReady = false;
        int rows = batch * config.seqLen(), n = rows * config.dModel(), nh = rows * config.hidden();
        int fcOut = swiGlu() ? 2 * nh : nh;

        zero(dNorm, n);
        head.backward(dNorm);
        zero(dX, n);
        lnF.backward(dNorm, dX);                      // dX = ∂loss/∂(output of the last block)
        for (int l = blocks.length - 1; l >= 0; l--) {
            Block blk = blocks[l];
            if (blk.fc == null) {
                System.arraycopy(dX, 0, dX1, 0, n);   // out = x1
            } else {
                mlpBackward(blk, n, nh, fcOut);
            }
            // x1 = x + att
            zero(dX, n);
            zero(dBranch, n);
            Residual.backward(dX1, dX, dBranch, n);
            zero(dNorm, n);
            blk.attn.backward(dBranch, dNorm);
            blk.ln1.backward(dNorm, dX);              // dX = ∂loss/∂(input of this block)
        }
        embedding.backward(dX);
    }

    /** out = x1 + mlp(norm_2(x1)): from dX = ∂loss/∂out, dX1 = ∂loss/∂x1 through both paths, and the MLP's and norm's gradients. */
    private void mlpBackward(Block blk, int n, int nh, int fcOut) {
        zero(dX1, n);
        zero(dBranch, n);
        Residual.backward(dX, dX1, dBranch, n);
        zero(dAct, nh);
        blk.fcProj.backward(dBranch, dAct);
        zero(dHidden, fcOut);
        if (blk.swiGlu != null) blk.swiGlu.backward(dAct, dHidden);
        else blk.gelu.backward(dAct, dHidden);
        zero(dNorm, n);
        blk.fc.backward(dHidden, dNorm);
        blk.ln2.backward(dNorm, dX1);                 // dX1 now holds both paths into x1
    }

    private boolean swiGlu() { return config.mlp() == TransformerConfig.Mlp.SWIGLU; }

    private static void zero(float[] a, int n) { Arrays.fill(a, 0, n, 0f); }
}
