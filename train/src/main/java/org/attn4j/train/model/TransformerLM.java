package org.attn4j.train.model;

import java.util.Arrays;
import java.util.Random;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.train.Parameters;
import org.attn4j.train.layers.CausalSelfAttention;
import org.attn4j.train.layers.Embedding;
import org.attn4j.train.layers.Gelu;
import org.attn4j.train.layers.LayerNorm;
import org.attn4j.train.layers.Linear;
import org.attn4j.train.layers.Residual;
import org.attn4j.train.layers.TiedCrossEntropy;

/**
 * A GPT-2-style decoder-only transformer (pre-LayerNorm blocks, tied output projection) trained with
 * explicit forward and backward passes, llm.c's way.
 *
 * <pre>
 *   x      = wte[tokens] + wpe[positions]                      [B·T, C]
 *   for each block l:
 *     x1   = x  + attn_l(ln_1(x))                              causal multi-head attention on the engine
 *     x    = x1 + c_proj_l(gelu(c_fc_l(ln_2(x1))))             MLP of width mlpRatio·C
 *   loss   = cross-entropy(ln_f(x)·wteᵀ, targets) on the marked positions
 * </pre>
 *
 * <p>Parameters (one flat buffer, see {@link Parameters}) are named as in GPT-2: {@code wte},
 * {@code wpe}, {@code h.L.ln_1.weight|bias}, {@code h.L.attn.c_attn.weight|bias},
 * {@code h.L.attn.c_proj.weight|bias}, {@code h.L.ln_2.weight|bias}, {@code h.L.mlp.c_fc.weight|bias},
 * {@code h.L.mlp.c_proj.weight|bias}, {@code ln_f.weight|bias}. Matrices are {@code [out, in]} (the
 * transpose of Hugging Face GPT-2's Conv1D {@code [in, out]}).
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
    private final LayerNorm lnF;
    private final TiedCrossEntropy head;

    // Gradient scratch for the backward, shared by all blocks (each use starts from zero).
    private final float[] dX, dX1, dBranch, dNorm, dAct, dHidden;

    private int batch = -1;
    private boolean backwardReady;

    /** The activations one block keeps between its forward and backward, and its layers. */
    private static final class Block {
        final LayerNorm ln1, ln2;
        final CausalSelfAttention attn;
        final Linear fc, fcProj;
        final Gelu gelu;
        final float[] x1, out;

        Block(Parameters p, String prefix, TransformerConfig cfg, int maxBatch, int threads) {
            int maxRows = maxBatch * cfg.seqLen(), c = cfg.dModel();
            ln1 = new LayerNorm(p, prefix + ".ln_1", maxRows, cfg.lnEps(), threads);
            attn = new CausalSelfAttention(p, prefix + ".attn", cfg.heads(), cfg.seqLen(), maxBatch, cfg.alibi(), cfg.window(), threads);
            ln2 = new LayerNorm(p, prefix + ".ln_2", maxRows, cfg.lnEps(), threads);
            fc = new Linear(p, prefix + ".mlp.c_fc", maxRows, threads);
            gelu = new Gelu(maxRows * cfg.mlpRatio() * c, threads);
            fcProj = new Linear(p, prefix + ".mlp.c_proj", maxRows, threads);
            x1 = new float[maxRows * c];
            out = new float[maxRows * c];
        }
    }

    /**
     * A model with freshly initialised weights (GPT-2's scheme, from {@code seed}).
     *
     * @param maxBatch the most sequences per forward (sizes the activation buffers)
     * @param threads  worker threads for every layer (0 = all processors)
     */
    public TransformerLM(TransformerConfig config, int maxBatch, int threads, long seed) {
        if (maxBatch <= 0) throw new IllegalArgumentException("maxBatch: expected > 0, got " + maxBatch);
        this.config = config;
        this.maxBatch = maxBatch;
        this.threads = Parallel.resolveThreads(threads);
        this.params = declare(config);
        int maxRows = Math.multiplyExact(maxBatch, config.seqLen()), c = config.dModel();
        this.embedding = new Embedding(params, config.seqLen(), maxRows);
        this.blocks = new Block[config.layers()];
        for (int l = 0; l < blocks.length; l++) blocks[l] = new Block(params, "h." + l, config, maxBatch, this.threads);
        this.lnF = new LayerNorm(params, "ln_f", maxRows, config.lnEps(), this.threads);
        this.head = new TiedCrossEntropy(params, maxRows, this.threads);
        int n = maxRows * c, nh = n * config.mlpRatio();
        dX = new float[n];
        dX1 = new float[n];
        dBranch = new float[n];
        dNorm = new float[n];
        dAct = new float[nh];
        dHidden = new float[nh];
        initialise(seed);
    }

    /** The parameter layout of a model with this config, in the order GPT-2 lists its tensors. */
    public static Parameters declare(TransformerConfig cfg) {
        Parameters.Builder b = Parameters.builder();
        int c = cfg.dModel();
        Embedding.declare(b, cfg.vocab(), cfg.seqLen(), c, cfg.learnedPositions());
        for (int l = 0; l < cfg.layers(); l++) {
            String p = "h." + l;
            LayerNorm.declare(b, p + ".ln_1", c);
            CausalSelfAttention.declare(b, p + ".attn", c);
            LayerNorm.declare(b, p + ".ln_2", c);
            Linear.declare(b, p + ".mlp.c_fc", c, cfg.mlpRatio() * c, true);
            Linear.declare(b, p + ".mlp.c_proj", cfg.mlpRatio() * c, c, true);
        }
        LayerNorm.declare(b, "ln_f", c);
        return b.build();
    }

    /**
     * GPT-2's initialisation: matrices and embeddings ~ N(0, initStd²), the two residual output
     * projections ({@code c_proj}) ~ N(0, (initStd/√(2L))²) so the residual stream's variance does not
     * grow with depth, biases 0, LayerNorm γ = 1 and β = 0. Tensors are drawn in layout order from one
     * {@link Random} (whose Gaussian sequence is fixed by its specification, so a seed means the same
     * weights on every JVM).
     */
    private void initialise(long seed) {
        Random rnd = new Random(seed);
        float[] w = params.values();
        double residualStd = config.initStd() / Math.sqrt(2.0 * config.layers());
        for (Parameters.Param p : params.params()) {
            String name = p.name();
            if (name.contains("ln_")) {
                Arrays.fill(w, p.offset(), p.offset() + p.size(), name.endsWith(".weight") ? 1f : 0f);
            } else if (name.endsWith(".bias")) {
                Arrays.fill(w, p.offset(), p.offset() + p.size(), 0f);
            } else {
                double std = name.endsWith("c_proj.weight") ? residualStd : config.initStd();
                for (int i = p.offset(); i < p.offset() + p.size(); i++) w[i] = (float) (rnd.nextGaussian() * std);
            }
        }
    }

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
            float[] hidden = blk.fc.forward(blk.ln2.forward(blk.x1, rows), rows);
            float[] mlp = blk.fcProj.forward(blk.gelu.forward(hidden, n * config.mlpRatio()), rows);
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
        int rows = batch * config.seqLen(), n = rows * config.dModel(), nh = n * config.mlpRatio();

        zero(dNorm, n);
        head.backward(dNorm);
        zero(dX, n);
        lnF.backward(dNorm, dX);                      // dX = ∂loss/∂(output of the last block)
        for (int l = blocks.length - 1; l >= 0; l--) {
            Block blk = blocks[l];
            // out = x1 + mlp
            zero(dX1, n);
            zero(dBranch, n);
            Residual.backward(dX, dX1, dBranch, n);
            zero(dAct, nh);
            blk.fcProj.backward(dBranch, dAct);
            zero(dHidden, nh);
            blk.gelu.backward(dAct, dHidden);
            zero(dNorm, n);
            blk.fc.backward(dHidden, dNorm);
            blk.ln2.backward(dNorm, dX1);             // dX1 now holds both paths into x1
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

    private static void zero(float[] a, int n) { Arrays.fill(a, 0, n, 0f); }
}
