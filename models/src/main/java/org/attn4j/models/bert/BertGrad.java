package org.attn4j.models.bert;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionGradients;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.Erf;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;

/**
 * The BERT encoder with its backward pass: a forward that keeps what the backward needs
 * ({@link #forward} returns a {@link Pass}) and {@link Pass#backward}, which reads the forward's
 * steps bottom to top (llm.c's style). The forward computes what {@link BertEncoder#forward} does
 * (same packed layout, same erf-GELU and LayerNorm), in float32.
 *
 * <p>Differentiable inputs besides the parameters: the word-embedding vector of every token (so
 * gradients can be taken at points between embeddings, as integrated gradients needs), one gate
 * ξ per (layer, head) multiplying that head's context vectors (the {@link BertEncoder.Probe#headScale}
 * hook as an input), and each layer's attention probabilities (their gradient is the twin of the
 * {@code layer.L.attn.probs} hook point).
 *
 * <p>Attention runs through the engine on one padded {@code [B, heads, N, headDim]} problem per
 * layer, with {@code kvLengths} and {@code qLengths} marking each sequence's real tokens; its
 * backward is {@link Attention#backward}. Probabilities come from the reference kernel.
 *
 * <p>Holds a row-major copy of the encoder's parameters (and the transposes of the linear weights),
 * about twice the weights' size. Thread-safe: passes share nothing mutable.
 */
public final class BertGrad {
    private final BertConfig cfg;
    private final Map<String, float[]> params;
    private final float[] wordEmb, posEmb, typeEmb, embLnW, embLnB;
    private final Layer[] layers;

    /** A dense layer y = x·W + b, W row-major {@code [in, out]}, with Wᵀ kept for the input gradient. */
    private record Lin(int in, int out, float[] w, float[] wt, float[] b) {
        static Lin of(int in, int out, float[] w, float[] b) {
            float[] wt = new float[in * out];
            for (int i = 0; i < in; i++) for (int o = 0; o < out; o++) wt[o * in + i] = w[i * out + o];
            return new Lin(in, out, w, wt, b);
        }
    }

    private record Layer(Lin qkv, Lin attnOut, float[] ln1W, float[] ln1B, Lin ffnIn, Lin ffnOut, float[] ln2W, float[] ln2B) {}

    /** The differentiable pass of {@code encoder} (its parameters are copied). */
    public BertGrad(BertEncoder encoder) {
        this(encoder.config(), encoder.parameterArrays());
    }

    /**
     * The differentiable pass of a model given by its parameters under canonical names (as
     * {@link #parameterSizes} lists them; linear weights {@code [in, out]}). The arrays are used as
     * they are, not copied (the fused query/key/value weight and the transposes are derived copies),
     * so a trainer that changes them builds a new instance to see the change.
     *
     * @throws IllegalArgumentException naming the tensor when one is missing or has the wrong size
     */
    public static BertGrad of(BertConfig cfg, Map<String, float[]> parameters) {
        Map<String, float[]> p = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : expectedSizes(cfg).entrySet()) {
            float[] v = parameters.get(e.getKey());
            if (v == null) throw new IllegalArgumentException("parameters: missing tensor '" + e.getKey() + "'");
            if (v.length != e.getValue()) {
                throw new IllegalArgumentException("parameters: '" + e.getKey() + "' should hold " + e.getValue() + " floats, got " + v.length);
            }
            p.put(e.getKey(), v);
        }
        if (parameters.size() != p.size()) {
            throw new IllegalArgumentException("parameters: expected the " + p.size() + " tensors of " + cfg + ", got " + parameters.size());
        }
        return new BertGrad(cfg, p);
    }

    /** The canonical parameter names of a model of {@code cfg} in their canonical order, with their sizes. */
    public static Map<String, Integer> expectedSizes(BertConfig cfg) {
        int h = cfg.hidden(), inner = cfg.intermediate();
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("embeddings.word_embeddings.weight", cfg.vocabSize() * h);
        m.put("embeddings.position_embeddings.weight", cfg.maxPositions() * h);
        m.put("embeddings.token_type_embeddings.weight", cfg.typeVocabSize() * h);
        m.put("embeddings.LayerNorm.weight", h);
        m.put("embeddings.LayerNorm.bias", h);
        for (int l = 0; l < cfg.layers(); l++) {
            String n = "encoder.layer." + l + ".";
            for (String part : new String[] {"query", "key", "value"}) {
                m.put(n + "attention.self." + part + ".weight", h * h);
                m.put(n + "attention.self." + part + ".bias", h);
            }
            m.put(n + "attention.output.dense.weight", h * h);
            m.put(n + "attention.output.dense.bias", h);
            m.put(n + "attention.output.LayerNorm.weight", h);
            m.put(n + "attention.output.LayerNorm.bias", h);
            m.put(n + "intermediate.dense.weight", h * inner);
            m.put(n + "intermediate.dense.bias", inner);
            m.put(n + "output.dense.weight", inner * h);
            m.put(n + "output.dense.bias", h);
            m.put(n + "output.LayerNorm.weight", h);
            m.put(n + "output.LayerNorm.bias", h);
        }
        return m;
    }

    private BertGrad(BertConfig cfg, Map<String, float[]> p) {
        this.cfg = cfg;
        this.params = p;
        int h = cfg.hidden(), inner = cfg.intermediate();
        wordEmb = p.get("embeddings.word_embeddings.weight");
        posEmb = p.get("embeddings.position_embeddings.weight");
        typeEmb = p.get("embeddings.token_type_embeddings.weight");
        embLnW = p.get("embeddings.LayerNorm.weight");
        embLnB = p.get("embeddings.LayerNorm.bias");
        layers = new Layer[cfg.layers()];
        for (int l = 0; l < layers.length; l++) {
            String n = "encoder.layer." + l + ".";
            float[] wq = p.get(n + "attention.self.query.weight"), wk = p.get(n + "attention.self.key.weight"), wv = p.get(n + "attention.self.value.weight");
            float[] w = new float[h * 3 * h], b = new float[3 * h];
            for (int r = 0; r < h; r++) {
                System.arraycopy(wq, r * h, w, r * 3 * h, h);
                System.arraycopy(wk, r * h, w, r * 3 * h + h, h);
                System.arraycopy(wv, r * h, w, r * 3 * h + 2 * h, h);
            }
            System.arraycopy(p.get(n + "attention.self.query.bias"), 0, b, 0, h);
            System.arraycopy(p.get(n + "attention.self.key.bias"), 0, b, h, h);
            System.arraycopy(p.get(n + "attention.self.value.bias"), 0, b, 2 * h, h);
            layers[l] = new Layer(Lin.of(h, 3 * h, w, b),
                    Lin.of(h, h, p.get(n + "attention.output.dense.weight"), p.get(n + "attention.output.dense.bias")),
                    p.get(n + "attention.output.LayerNorm.weight"), p.get(n + "attention.output.LayerNorm.bias"),
                    Lin.of(h, inner, p.get(n + "intermediate.dense.weight"), p.get(n + "intermediate.dense.bias")),
                    Lin.of(inner, h, p.get(n + "output.dense.weight"), p.get(n + "output.dense.bias")),
                    p.get(n + "output.LayerNorm.weight"), p.get(n + "output.LayerNorm.bias"));
        }
    }

    public BertConfig config() { return cfg; }

    /** The parameter names in their canonical order, with their sizes (linear weights {@code [in, out]}). */
    public Map<String, Integer> parameterSizes() {
        Map<String, Integer> m = new LinkedHashMap<>();
        params.forEach((k, v) -> m.put(k, v.length));
        return m;
    }

    /** A copy of word-embedding row {@code id} (length H). */
    public float[] wordEmbedding(int id) {
        if (id < 0 || id >= cfg.vocabSize()) throw new IllegalArgumentException("id: expected 0.." + (cfg.vocabSize() - 1) + ", got " + id);
        int h = cfg.hidden();
        return Arrays.copyOfRange(wordEmb, id * h, (id + 1) * h);
    }

    /**
     * The inputs of a pass.
     *
     * @param words   per sequence, the word-embedding vectors of its n tokens, {@code [n·H]} row-major
     *                (the rows of the word-embedding table for real tokens, or any other points)
     * @param typeIds per sequence, n token type ids, or null for all 0
     * @param ids     per sequence, the token ids the word vectors came from (needed only for the
     *                word-embedding table's gradient), or null
     */
    public record Input(float[][] words, int[][] typeIds, int[][] ids) {}

    /** The input of token ids: each token's word vector is its row of the table. */
    public Input input(int[][] ids, int[][] typeIds) {
        float[][] words = new float[ids.length][];
        for (int b = 0; b < ids.length; b++) {
            words[b] = new float[ids[b].length * cfg.hidden()];
            for (int t = 0; t < ids[b].length; t++) {
                int id = ids[b][t];
                if (id < 0 || id >= cfg.vocabSize()) {
                    throw new IllegalArgumentException("ids[" + b + "][" + t + "]: expected 0.." + (cfg.vocabSize() - 1) + ", got " + id);
                }
                System.arraycopy(wordEmb, id * cfg.hidden(), words[b], t * cfg.hidden(), cfg.hidden());
            }
        }
        return new Input(words, typeIds, ids);
    }

    /** What one layer's forward keeps for the backward. */
    private static final class LayerTape {
        float[] in, qkv, attnOutput, lse, probs, ctx, ctxScaled, s1, x1, mean1, rstd1, pre, act, s2, mean2, rstd2;
        Tensor q, k, v;
        AttentionSpec spec;
    }

    /**
     * Runs the forward pass and keeps its activations.
     *
     * @param gates   head gates ξ {@code [layers][heads]} (1 = the model; 0 ablates the head), or null for all 1
     * @param threads worker threads (0 = all processors)
     * @throws IllegalArgumentException naming the argument if lengths, ids or gate shapes are wrong
     */
    public Pass forward(Input input, float[][] gates, int threads) {
        int h = cfg.hidden(), heads = cfg.heads(), nThreads = Parallel.resolveThreads(threads);
        float[][] words = input.words();
        int batch = words.length;
        if (batch < 1) throw new IllegalArgumentException("input.words: expected at least one sequence, got 0");
        int[] offsets = new int[batch + 1], lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            if (words[b].length % h != 0 || words[b].length == 0 || words[b].length / h > cfg.maxPositions()) {
                throw new IllegalArgumentException("input.words[" + b + "]: expected n·H floats with H = " + h + " and 1 <= n <= " + cfg.maxPositions()
                        + ", got " + words[b].length);
            }
            lengths[b] = words[b].length / h;
            if (input.typeIds() != null && input.typeIds()[b].length != lengths[b]) {
                throw new IllegalArgumentException("input.typeIds[" + b + "]: expected " + lengths[b] + " entries, got " + input.typeIds()[b].length);
            }
            if (input.ids() != null && input.ids()[b].length != lengths[b]) {
                throw new IllegalArgumentException("input.ids[" + b + "]: expected " + lengths[b] + " entries, got " + input.ids()[b].length);
            }
            offsets[b + 1] = offsets[b] + lengths[b];
        }
        if (gates != null) {
            if (gates.length != cfg.layers()) throw new IllegalArgumentException("gates: expected [" + cfg.layers() + "][" + heads + "], got " + gates.length + " rows");
            for (int l = 0; l < gates.length; l++) {
                if (gates[l].length != heads) throw new IllegalArgumentException("gates[" + l + "]: expected " + heads + " entries, got " + gates[l].length);
            }
        }
        int tokens = offsets[batch];
        Pass pass = new Pass(input, gates, offsets, lengths, nThreads);
        // embeddings: word + position + type, then LayerNorm
        float[] e = new float[tokens * h];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < lengths[b]; t++) {
                int type = input.typeIds() == null ? 0 : input.typeIds()[b][t];
                if (type < 0 || type >= cfg.typeVocabSize()) {
                    throw new IllegalArgumentException("input.typeIds[" + b + "][" + t + "]: expected 0.." + (cfg.typeVocabSize() - 1) + ", got " + type);
                }
                int row = (offsets[b] + t) * h;
                for (int c = 0; c < h; c++) e[row + c] = words[b][t * h + c] + posEmb[t * h + c] + typeEmb[type * h + c];
            }
        }
        pass.embSum = e;
        pass.embMean = new float[tokens];
        pass.embRstd = new float[tokens];
        float[] x = layerNorm(e, tokens, embLnW, embLnB, pass.embMean, pass.embRstd);
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            LayerTape tp = new LayerTape();
            pass.tapes[l] = tp;
            tp.in = x;
            tp.qkv = linear(layer.qkv, x, tokens, nThreads);
            attention(pass, l, tp);
            float[] o = linear(layer.attnOut, tp.ctxScaled, tokens, nThreads);
            tp.s1 = add(x, o);
            tp.mean1 = new float[tokens];
            tp.rstd1 = new float[tokens];
            tp.x1 = layerNorm(tp.s1, tokens, layer.ln1W, layer.ln1B, tp.mean1, tp.rstd1);
            tp.pre = linear(layer.ffnIn, tp.x1, tokens, nThreads);
            tp.act = tp.pre.clone();
            MicroKernels.get().gelu(tp.act, 0, tp.act.length);
            float[] f = linear(layer.ffnOut, tp.act, tokens, nThreads);
            tp.s2 = add(tp.x1, f);
            tp.mean2 = new float[tokens];
            tp.rstd2 = new float[tokens];
            x = layerNorm(tp.s2, tokens, layer.ln2W, layer.ln2B, tp.mean2, tp.rstd2);
        }
        pass.hidden = x;
        return pass;
    }

    /** Multi-head attention of every sequence over itself, as one padded engine problem. */
    private void attention(Pass pass, int l, LayerTape tp) {
        int h = cfg.hidden(), heads = cfg.heads(), hd = cfg.headDim(), batch = pass.lengths.length;
        int n = 0;
        for (int len : pass.lengths) n = Math.max(n, len);
        float[] q = new float[batch * heads * n * hd], k = new float[q.length], v = new float[q.length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < pass.lengths[b]; t++) {
                int src = (pass.offsets[b] + t) * 3 * h;
                for (int hh = 0; hh < heads; hh++) {
                    int dst = ((b * heads + hh) * n + t) * hd;
                    System.arraycopy(tp.qkv, src + hh * hd, q, dst, hd);
                    System.arraycopy(tp.qkv, src + h + hh * hd, k, dst, hd);
                    System.arraycopy(tp.qkv, src + 2 * h + hh * hd, v, dst, hd);
                }
            }
        }
        tp.q = Tensor.of(q, batch, heads, n, hd);
        tp.k = Tensor.of(k, batch, heads, n, hd);
        tp.v = Tensor.of(v, batch, heads, n, hd);
        tp.spec = AttentionSpec.builder().kvLengths(pass.lengths).qLengths(pass.lengths).kernel(KernelChoice.REFERENCE)
                .returnLse(true).returnProbs(true).threads(pass.threads).validate(false).build();
        AttentionResult r = Attention.sdpa(tp.q, tp.k, tp.v, tp.spec);
        tp.attnOutput = r.output().data();
        tp.lse = r.lse().data();
        tp.probs = r.probs().data();
        tp.ctx = new float[pass.offsets[batch] * h];
        tp.ctxScaled = new float[tp.ctx.length];
        for (int b = 0; b < batch; b++) {
            for (int hh = 0; hh < heads; hh++) {
                float g = pass.gates == null ? 1f : pass.gates[l][hh];
                for (int t = 0; t < pass.lengths[b]; t++) {
                    int src = ((b * heads + hh) * n + t) * hd, dst = (pass.offsets[b] + t) * h + hh * hd;
                    for (int d = 0; d < hd; d++) {
                        tp.ctx[dst + d] = tp.attnOutput[src + d];
                        tp.ctxScaled[dst + d] = g * tp.attnOutput[src + d];
                    }
                }
            }
        }
    }

    /**
     * The gradients of one backward pass.
     *
     * @param words      per sequence, ∂f/∂(word-embedding vectors), {@code [n·H]}
     * @param probs      {@code [layer][sequence]}: ∂f/∂P with P the attention probabilities
     *                   {@code [heads][n][n]} (query, key), treating P as an input of {@code ctx = P·V}
     *                   (the gradient twin of {@code layer.L.attn.probs})
     * @param gates      {@code [sequence][layer][head]}: the part of ∂f/∂ξ coming through each
     *                   sequence (∂f/∂ξ is their sum over sequences)
     * @param parameters ∂f/∂θ by canonical name and layout (as {@link #parameterSizes}), or null when
     *                   not asked for
     */
    public record Gradients(float[][] words, float[][][] probs, double[][][] gates, Map<String, float[]> parameters) {}

    /**
     * How the backward treats LayerNorm and attention. {@link #EXACT} is the true gradient. {@link #GIM}
     * is the gradient modification of GIM (Edin et al. 2025, "Gradient Interaction Modifications"):
     * LayerNorm's standard deviation held constant (the centring is still differentiated), the
     * softmax's backward taken as if its logits were divided by a temperature (the forward is
     * unchanged), and the gradients reaching Q, K and V scaled by constant factors.
     *
     * @param frozenNorm          treat each LayerNorm's 1/σ as a constant in the backward
     * @param softmaxTemperature  T: dS = P_T ⊙ (dP − Σ_j P_T·dP) with P_T = softmax(S/T) (1 = exact)
     * @param qScale              factor on ∂/∂Q (1 = exact)
     * @param kScale              factor on ∂/∂K
     * @param vScale              factor on ∂/∂V
     */
    public record Rules(boolean frozenNorm, double softmaxTemperature, double qScale, double kScale, double vScale) {
        /** The true gradient. */
        public static final Rules EXACT = new Rules(false, 1, 1, 1, 1);
        /** GIM's defaults in the authors' package: frozen norms, T = 2, Q and K × 0.25, V × 0.5. */
        public static final Rules GIM = new Rules(true, 2, 0.25, 0.25, 0.5);

        public Rules {
            if (!(softmaxTemperature > 0)) throw new IllegalArgumentException("softmaxTemperature: expected > 0, got " + softmaxTemperature);
        }

        boolean exactAttention() { return softmaxTemperature == 1 && qScale == 1 && kScale == 1 && vScale == 1; }
    }

    /** A forward pass's activations; {@link #backward} may be called any number of times. */
    public final class Pass {
        private final Input input;
        private final float[][] gates;
        private final int[] offsets, lengths;
        private final int threads;
        private final LayerTape[] tapes = new LayerTape[layers.length];
        private float[] embSum, embMean, embRstd, hidden;

        private Pass(Input input, float[][] gates, int[] offsets, int[] lengths, int threads) {
            this.input = input;
            this.gates = gates;
            this.offsets = offsets;
            this.lengths = lengths;
            this.threads = threads;
        }

        /** The last hidden state {@code [T, H]}, sequences packed (not a copy). */
        public float[] hidden() { return hidden; }

        /** Start row of each sequence and the total, {@code [B + 1]}. */
        public int[] offsets() { return offsets.clone(); }

        public int batch() { return lengths.length; }

        public int length(int b) { return lengths[b]; }

        /** Layer l's attention probabilities of sequence b, {@code [heads][n][n]} (query, key); a copy. */
        public float[] probabilities(int l, int b) {
            LayerTape tp = tapes[l];
            int heads = cfg.heads(), n = tp.q.dim(2), len = lengths[b];
            float[] p = new float[heads * len * len];
            for (int hh = 0; hh < heads; hh++)
                for (int i = 0; i < len; i++) System.arraycopy(tp.probs, ((b * heads + hh) * n + i) * n, p, (hh * len + i) * len, len);
            return p;
        }

        /**
         * Layer l's query, key and value projections of every token, packed as {@link #hidden}:
         * {@code [T, 3H]}, each row the token's query (H), then key (H), then value (H), heads side
         * by side within each (head h at columns {@code h·headDim ..}); a copy.
         */
        public float[] qkv(int l) {
            if (l < 0 || l >= layers.length) throw new IllegalArgumentException("l: expected 0.." + (layers.length - 1) + ", got " + l);
            return tapes[l].qkv.clone();
        }

        /** The pooled, pre-normalisation embedding of sequence b under {@code pooling} (length H). */
        public float[] pooled(int b, BertConfig.Pooling pooling) {
            return BertGrad.pool(hidden, offsets[b], lengths[b], cfg.hidden(), pooling);
        }

        /**
         * The backward pass for {@code dHidden} = ∂f/∂(last hidden state) ({@code [T, H]}, packed as
         * {@link #hidden}). With {@code parameterGradients} false, the weight gradients are skipped
         * (about a third of the work).
         */
        public Gradients backward(float[] dHidden, boolean parameterGradients) {
            return backward(dHidden, parameterGradients, Rules.EXACT);
        }

        /** {@link #backward(float[], boolean)} under modified {@link Rules} (e.g. {@link Rules#GIM}). */
        public Gradients backward(float[] dHidden, boolean parameterGradients, Rules rules) {
            int h = cfg.hidden(), tokens = offsets[lengths.length];
            if (dHidden.length != tokens * h) throw new IllegalArgumentException("dHidden: expected [T=" + tokens + "][H=" + h + "] = " + tokens * h + " floats, got " + dHidden.length);
            return backwardFrom(layers.length - 1, dHidden.clone(), null, parameterGradients, rules);
        }

        /**
         * The backward pass for an objective that reads layer {@code layer}'s query, key and value
         * projections ({@link #qkv}) and nothing above them: {@code dQkv} = ∂f/∂qkv, {@code [T, 3H]}
         * packed as {@link #qkv}. Gradients reach that layer's query/key/value weights and biases and
         * everything below; the tensors above (the layer's attention output and feed-forward block,
         * higher layers) get zero gradients, their gates zero and their probabilities' gradients
         * null (the gradient never passes through those attentions).
         */
        public Gradients backwardFromQkv(int layer, float[] dQkv, boolean parameterGradients) {
            int h = cfg.hidden(), tokens = offsets[lengths.length];
            if (layer < 0 || layer >= layers.length) throw new IllegalArgumentException("layer: expected 0.." + (layers.length - 1) + ", got " + layer);
            if (dQkv.length != tokens * 3 * h) {
                throw new IllegalArgumentException("dQkv: expected [T=" + tokens + "][3H=" + 3 * h + "] = " + tokens * 3 * h + " floats, got " + dQkv.length);
            }
            return backwardFrom(layer, null, dQkv.clone(), parameterGradients, Rules.EXACT);
        }

        /**
         * Layers {@code top} down to 0, then the embeddings. The gradient enters either at the output
         * of layer {@code top} ({@code dTop}) or at its query/key/value projections ({@code dQkvTop}).
         */
        private Gradients backwardFrom(int top, float[] dTop, float[] dQkvTop, boolean parameterGradients, Rules rules) {
            int h = cfg.hidden(), tokens = offsets[lengths.length], batch = lengths.length, heads = cfg.heads();
            Map<String, float[]> g = parameterGradients ? new LinkedHashMap<>() : null;
            if (g != null) params.forEach((name, v) -> g.put(name, new float[v.length]));
            float[][][] dProbs = new float[layers.length][batch][];
            double[][][] dGates = new double[batch][layers.length][heads];
            float[] dx = dTop;
            for (int l = top; l >= 0; l--) {
                Layer layer = layers[l];
                LayerTape tp = tapes[l];
                String n = "encoder.layer." + l + ".";
                if (l == top && dQkvTop != null) {
                    // the objective reads this layer's projections only: nothing flows through its attention or FFN
                    float[] dIn = new float[tokens * h];
                    if (g != null) {
                        g.put(n + "qkv.weight", new float[h * 3 * h]);
                        g.put(n + "qkv.bias", new float[3 * h]);
                    }
                    linearBackward(layer.qkv, tp.in, dQkvTop, tokens, dIn, g, n + "qkv", threads);
                    if (g != null) splitQkv(g, n, h);
                    dx = dIn;
                    continue;
                }
                // x = LN2(x1 + ffnOut(gelu(ffnIn(x1))))
                float[] ds2 = new float[tokens * h];
                layerNormBackward(dx, tp.s2, tokens, layer.ln2W, tp.mean2, tp.rstd2, ds2, g, n + "output.LayerNorm", rules.frozenNorm());
                float[] dx1 = ds2.clone();
                float[] dAct = new float[tp.act.length];
                linearBackward(layer.ffnOut, tp.act, ds2, tokens, dAct, g, n + "output.dense", threads);
                geluBackward(tp.pre, dAct);
                linearBackward(layer.ffnIn, tp.x1, dAct, tokens, dx1, g, n + "intermediate.dense", threads);
                // x1 = LN1(in + attnOut(ctx))
                float[] ds1 = new float[tokens * h];
                layerNormBackward(dx1, tp.s1, tokens, layer.ln1W, tp.mean1, tp.rstd1, ds1, g, n + "attention.output.LayerNorm", rules.frozenNorm());
                float[] dIn = ds1.clone();
                float[] dCtx = new float[tokens * h];
                linearBackward(layer.attnOut, tp.ctxScaled, ds1, tokens, dCtx, g, n + "attention.output.dense", threads);
                float[] dQkv = attentionBackward(l, tp, dCtx, dProbs[l], dGates, rules);
                if (g != null) {
                    // the fused QKV weight's gradient is split back into query, key and value below
                    g.put(n + "qkv.weight", new float[h * 3 * h]);
                    g.put(n + "qkv.bias", new float[3 * h]);
                }
                linearBackward(layer.qkv, tp.in, dQkv, tokens, dIn, g, n + "qkv", threads);
                if (g != null) splitQkv(g, n, h);
                dx = dIn;
            }
            // embeddings: x0 = LN(word + pos + type)
            float[] de = new float[tokens * h];
            layerNormBackward(dx, embSum, tokens, embLnW, embMean, embRstd, de, g, "embeddings.LayerNorm", rules.frozenNorm());
            float[][] dWords = new float[batch][];
            for (int b = 0; b < batch; b++) {
                dWords[b] = Arrays.copyOfRange(de, offsets[b] * h, offsets[b + 1] * h);
                if (g == null) continue;
                float[] dPos = g.get("embeddings.position_embeddings.weight"), dType = g.get("embeddings.token_type_embeddings.weight");
                float[] dWord = g.get("embeddings.word_embeddings.weight");
                for (int t = 0; t < lengths[b]; t++) {
                    int type = input.typeIds() == null ? 0 : input.typeIds()[b][t], row = (offsets[b] + t) * h;
                    for (int c = 0; c < h; c++) {
                        dPos[t * h + c] += de[row + c];
                        dType[type * h + c] += de[row + c];
                    }
                    if (input.ids() != null) {
                        int id = input.ids()[b][t];
                        for (int c = 0; c < h; c++) dWord[id * h + c] += de[row + c];
                    }
                }
            }
            if (g != null && input.ids() == null) g.remove("embeddings.word_embeddings.weight");
            return new Gradients(dWords, dProbs, dGates, g);
        }

        /** From ∂f/∂(gated context) to ∂f/∂qkv; records ∂f/∂P and ∂f/∂ξ. */
        private float[] attentionBackward(int l, LayerTape tp, float[] dCtx, float[][] dProbsOut, double[][][] dGates, Rules rules) {
            int h = cfg.hidden(), heads = cfg.heads(), hd = cfg.headDim(), batch = lengths.length, n = tp.q.dim(2);
            float[] dOut = new float[tp.attnOutput.length];
            for (int b = 0; b < batch; b++) {
                for (int hh = 0; hh < heads; hh++) {
                    float gate = gates == null ? 1f : gates[l][hh];
                    double dg = 0;
                    for (int t = 0; t < lengths[b]; t++) {
                        int src = (offsets[b] + t) * h + hh * hd, dst = ((b * heads + hh) * n + t) * hd;
                        for (int d = 0; d < hd; d++) {
                            dg += (double) dCtx[src + d] * tp.ctx[src + d];
                            dOut[dst + d] = gate * dCtx[src + d];
                        }
                    }
                    dGates[b][l][hh] = dg;
                }
                // ∂f/∂P[i, j] = dO_i · V_j over the sequence's real tokens
                int len = lengths[b];
                float[] dp = new float[heads * len * len];
                float[] va = tp.v.data();
                MicroKernels mk = MicroKernels.get();
                for (int hh = 0; hh < heads; hh++) {
                    int base = (b * heads + hh) * n * hd;
                    for (int i = 0; i < len; i++)
                        for (int j = 0; j < len; j++) dp[(hh * len + i) * len + j] = mk.dot(dOut, base + i * hd, va, base + j * hd, hd);
                }
                dProbsOut[b] = dp;
            }
            float[] dq, dk, dv;
            if (rules.exactAttention()) {
                AttentionGradients ag = Attention.backward(tp.q, tp.k, tp.v, Tensor.of(tp.attnOutput, tp.q.shape()), Tensor.of(tp.lse, batch, heads, n),
                        Tensor.of(dOut, tp.q.shape()), tp.spec);
                dq = ag.dq().data();
                dk = ag.dk().data();
                dv = ag.dv().data();
            } else {
                float[][] grads = modifiedAttentionBackward(tp, dOut, n, rules);
                dq = grads[0];
                dk = grads[1];
                dv = grads[2];
            }
            float[] dQkv = new float[offsets[batch] * 3 * h];
            for (int b = 0; b < batch; b++) {
                for (int t = 0; t < lengths[b]; t++) {
                    int dst = (offsets[b] + t) * 3 * h;
                    for (int hh = 0; hh < heads; hh++) {
                        int src = ((b * heads + hh) * n + t) * hd;
                        System.arraycopy(dq, src, dQkv, dst + hh * hd, hd);
                        System.arraycopy(dk, src, dQkv, dst + h + hh * hd, hd);
                        System.arraycopy(dv, src, dQkv, dst + 2 * h + hh * hd, hd);
                    }
                }
            }
            return dQkv;
        }
    }

    /**
     * The attention backward under modified rules, written out per sequence and head (the engine's
     * backward has no temperature): dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P_T ⊙ (dP − rowsum(P_T ⊙ dP)) with
     * P_T the softmax of the scaled logits divided by T, dQ = scale·dS·K, dK = scale·dSᵀ·Q; then the
     * Q, K, V factors. With T = 1 and factors 1 it is the exact backward (checked against the engine's).
     */
    private float[][] modifiedAttentionBackward(LayerTape tp, float[] dOut, int n, Rules rules) {
        int heads = cfg.heads(), hd = cfg.headDim(), batch = tp.q.dim(0);
        int[] lengths = tp.spec.kvLengths();
        float[] q = tp.q.data(), k = tp.k.data(), v = tp.v.data(), p = tp.probs;
        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        double scale = 1 / Math.sqrt(hd), invT = 1 / rules.softmaxTemperature();
        for (int b = 0; b < batch; b++) {
            int len = lengths[b];
            for (int hh = 0; hh < heads; hh++) {
                int base = (b * heads + hh) * n;
                for (int i = 0; i < len; i++) {
                    double[] s = new double[len], pt = new double[len], dp = new double[len];
                    double max = Double.NEGATIVE_INFINITY, z = 0, dot = 0;
                    for (int j = 0; j < len; j++) {
                        double acc = 0;
                        for (int d = 0; d < hd; d++) acc += (double) q[(base + i) * hd + d] * k[(base + j) * hd + d];
                        s[j] = acc * scale * invT;
                        max = Math.max(max, s[j]);
                        for (int d = 0; d < hd; d++) dp[j] += (double) dOut[(base + i) * hd + d] * v[(base + j) * hd + d];
                    }
                    for (int j = 0; j < len; j++) z += pt[j] = Math.exp(s[j] - max);
                    for (int j = 0; j < len; j++) {
                        pt[j] /= z;
                        dot += pt[j] * dp[j];
                    }
                    for (int j = 0; j < len; j++) {
                        double ds = pt[j] * (dp[j] - dot) * scale;
                        float pij = p[(base + i) * n + j];
                        for (int d = 0; d < hd; d++) {
                            dq[(base + i) * hd + d] += (float) (ds * k[(base + j) * hd + d] * rules.qScale());
                            dk[(base + j) * hd + d] += (float) (ds * q[(base + i) * hd + d] * rules.kScale());
                            dv[(base + j) * hd + d] += (float) (pij * dOut[(base + i) * hd + d] * rules.vScale());
                        }
                    }
                }
            }
        }
        return new float[][] {dq, dk, dv};
    }

    private static void splitQkv(Map<String, float[]> g, String n, int h) {
        float[] w = g.remove(n + "qkv.weight"), b = g.remove(n + "qkv.bias");
        String[] names = {"attention.self.query", "attention.self.key", "attention.self.value"};
        for (int part = 0; part < 3; part++) {
            float[] dw = g.get(n + names[part] + ".weight"), db = g.get(n + names[part] + ".bias");
            for (int r = 0; r < h; r++) for (int c = 0; c < h; c++) dw[r * h + c] += w[r * 3 * h + part * h + c];
            for (int c = 0; c < h; c++) db[c] += b[part * h + c];
        }
    }

    // ---- layers: forward, and beside it the backward (which accumulates into its outputs) ----

    private static final int ROW_BLOCK = 96;

    /** y = x·W + b, {@code [rows, out]}. */
    private static float[] linear(Lin lin, float[] x, int rows, int threads) {
        float[] y = new float[rows * lin.out];
        MicroKernels mk = MicroKernels.get();
        Parallel.forEach(threads, (rows + ROW_BLOCK - 1) / ROW_BLOCK, t -> null, (item, unused) -> {
            int r0 = item * ROW_BLOCK, m = Math.min(ROW_BLOCK, rows - r0);
            for (int r = r0; r < r0 + m; r++) System.arraycopy(lin.b, 0, y, r * lin.out, lin.out);
            mk.gemm(m, lin.out, lin.in, x, r0 * lin.in, lin.in, 1, lin.w, 0, lin.out, y, r0 * lin.out, lin.out, true);
        });
        return y;
    }

    /** dX += dY·Wᵀ; when {@code g} is not null, g[name.weight] += Xᵀ·dY and g[name.bias] += Σ_rows dY. */
    private static void linearBackward(Lin lin, float[] x, float[] dy, int rows, float[] dx, Map<String, float[]> g, String name, int threads) {
        MicroKernels mk = MicroKernels.get();
        Parallel.forEach(threads, (rows + ROW_BLOCK - 1) / ROW_BLOCK, t -> null, (item, unused) -> {
            int r0 = item * ROW_BLOCK, m = Math.min(ROW_BLOCK, rows - r0);
            mk.gemm(m, lin.in, lin.out, dy, r0 * lin.out, lin.out, 1, lin.wt, 0, lin.in, dx, r0 * lin.in, lin.in, true);
        });
        if (g == null) return;
        float[] dw = g.get(name + ".weight"), db = g.get(name + ".bias");
        int block = 48;
        // dW[i0:i1, :] += X[:, i0:i1]ᵀ·dY: A(i, r) = x[r·in + i], so the row stride is 1 and the column stride in
        Parallel.forEach(threads, (lin.in + block - 1) / block, t -> null, (item, unused) -> {
            int i0 = item * block, m = Math.min(block, lin.in - i0);
            mk.gemm(m, lin.out, rows, x, i0, 1, lin.in, dy, 0, lin.out, dw, i0 * lin.out, lin.out, true);
        });
        for (int r = 0; r < rows; r++) mk.axpy(1f, dy, r * lin.out, db, 0, lin.out);
    }

    private static float[] add(float[] a, float[] b) {
        float[] y = new float[a.length];
        for (int i = 0; i < y.length; i++) y[i] = a[i] + b[i];
        return y;
    }

    /** Per row: (x − mean)·rstd·γ + β, keeping mean and rstd; float64 statistics. */
    private float[] layerNorm(float[] x, int rows, float[] gamma, float[] beta, float[] mean, float[] rstd) {
        int h = cfg.hidden();
        float[] y = new float[rows * h];
        for (int r = 0; r < rows; r++) {
            int o = r * h;
            double m = 0;
            for (int i = 0; i < h; i++) m += x[o + i];
            m /= h;
            double var = 0;
            for (int i = 0; i < h; i++) var += (x[o + i] - m) * (x[o + i] - m);
            var /= h;
            float s = (float) (1 / Math.sqrt(var + cfg.layerNormEps()));
            mean[r] = (float) m;
            rstd[r] = s;
            for (int i = 0; i < h; i++) y[o + i] = (float) ((x[o + i] - m) * s) * gamma[i] + beta[i];
        }
        return y;
    }

    /**
     * dX += LN'ᵀ·dY per row; g[name.weight] += Σ dY·x̂, g[name.bias] += Σ dY when g is not null. With
     * {@code frozen}, 1/σ is a constant: dX += (γ·dY − mean(γ·dY))/σ.
     */
    private void layerNormBackward(float[] dy, float[] x, int rows, float[] gamma, float[] mean, float[] rstd, float[] dx, Map<String, float[]> g, String name,
                                   boolean frozen) {
        int h = cfg.hidden();
        float[] dg = g == null ? null : g.get(name + ".weight"), db = g == null ? null : g.get(name + ".bias");
        for (int r = 0; r < rows; r++) {
            int o = r * h;
            float m = mean[r], s = rstd[r];
            double gMean = 0, gnMean = 0;
            for (int i = 0; i < h; i++) {
                float xh = (x[o + i] - m) * s, gi = dy[o + i] * gamma[i];
                gMean += gi;
                gnMean += gi * xh;
            }
            gMean /= h;
            gnMean /= h;
            for (int i = 0; i < h; i++) {
                float xh = (x[o + i] - m) * s, gi = dy[o + i] * gamma[i];
                dx[o + i] += (float) (s * (gi - gMean - (frozen ? 0 : xh * gnMean)));
                if (dg != null) {
                    dg[i] += dy[o + i] * xh;
                    db[i] += dy[o + i];
                }
            }
        }
    }

    /** In place: d ← d·gelu'(x), gelu'(x) = Φ(x) + x·φ(x) for the erf form. */
    private static void geluBackward(float[] x, float[] d) {
        final double invSqrt2 = 1 / Math.sqrt(2), invSqrt2Pi = 1 / Math.sqrt(2 * Math.PI);
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            d[i] = (float) (d[i] * (0.5 * (1 + Erf.erf(v * invSqrt2)) + v * invSqrt2Pi * Math.exp(-0.5 * v * v)));
        }
    }

    // ---- pooling and L2 normalisation, forward and backward ----

    /** Mean of rows [start, start + n) of {@code hidden} ({@code [T, h]}), or row {@code start} for CLS. */
    public static float[] pool(float[] hidden, int start, int n, int h, BertConfig.Pooling pooling) {
        int rows = pooling == BertConfig.Pooling.CLS ? 1 : n;
        double[] acc = new double[h];
        for (int t = 0; t < rows; t++) for (int c = 0; c < h; c++) acc[c] += hidden[(start + t) * h + c];
        float[] y = new float[h];
        for (int c = 0; c < h; c++) y[c] = (float) (acc[c] / rows);
        return y;
    }

    /** Adds ∂f/∂hidden for the pool of rows [start, start + n) given {@code dPooled} = ∂f/∂pooled. */
    public static void poolBackward(float[] dPooled, int start, int n, int h, BertConfig.Pooling pooling, float[] dHidden) {
        int rows = pooling == BertConfig.Pooling.CLS ? 1 : n;
        for (int t = 0; t < rows; t++) for (int c = 0; c < h; c++) dHidden[(start + t) * h + c] += dPooled[c] / rows;
    }

    /** x / ‖x‖ (a zero vector stays zero). */
    public static float[] normalise(float[] x) {
        double ss = 0;
        for (float v : x) ss += (double) v * v;
        double norm = Math.sqrt(ss);
        float[] y = new float[x.length];
        if (norm > 0) for (int i = 0; i < x.length; i++) y[i] = (float) (x[i] / norm);
        return y;
    }

    /** ∂f/∂x for y = x/‖x‖ given dY: (dY − y·(y·dY)) / ‖x‖. */
    public static float[] normaliseBackward(float[] x, float[] dY) {
        double ss = 0;
        for (float v : x) ss += (double) v * v;
        double norm = Math.sqrt(ss), yDotDy = 0;
        float[] dx = new float[x.length];
        if (norm == 0) return dx;
        for (int i = 0; i < x.length; i++) yDotDy += x[i] / norm * dY[i];
        for (int i = 0; i < x.length; i++) dx[i] = (float) ((dY[i] - x[i] / norm * yDotDy) / norm);
        return dx;
    }
}
