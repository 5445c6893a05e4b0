package org.attn4j.models.bert;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.weights.ModelWeights;

/**
 * A BERT encoder forward pass on the attn4j engine, readable top to bottom in {@link #forward}.
 *
 * <p>Sequences are packed: the tokens of all sequences of a batch are concatenated into one
 * {@code [T, H]} matrix (T = total real tokens), so projections and FFNs never compute on padding,
 * and attention runs per sequence on zero-copy views of the fused QKV projection.
 */
public final class BertEncoder {
    private final BertConfig cfg;
    /**
     * Word embeddings {@code [vocab, H]}: a heap array's segment, or a read-only mapping of a model cache file
     * (only the rows of the tokens seen are ever read, so a cached model does not copy them onto the heap).
     */
    private final MemorySegment wordEmb;
    private final float[] posEmb, typeEmb, embLnW, embLnB;
    private final Layer[] layers;

    private record Layer(PackedLinear qkv, PackedLinear attnOut, float[] ln1W, float[] ln1B, PackedLinear ffnIn, PackedLinear ffnOut, float[] ln2W, float[] ln2B) {}

    /**
     * Hook points of a forward pass, named as in attn4j's architecture. Reading:
     * {@code layer.L.attn.q/k/v} ({@link #qkv}), {@code layer.L.attn.scores} (pre-softmax logits,
     * {@link #scores}), {@code layer.L.attn.probs} ({@link #probabilities}), {@code layer.L.attn.ctx}
     * ({@link #context}) and {@code layer.L.resid_post} ({@link #hidden}; layer L's input is
     * {@code resid_post} of L − 1). Editing: {@link #headScale} (0 ablates a head),
     * {@link #attentionBias} (added to the logits) and {@link #replaceProbabilities} (a whole map).
     * Every method has a do-nothing default, and a forward pass without a probe calls none of them.
     * All per-head arrays are row-major {@code [heads][n][…]} for one sequence of n tokens.
     */
    public interface Probe {
        /** Whether layer L's attention probabilities are wanted (they come from the reference kernel). */
        default boolean wantsProbabilities(int layer) { return false; }

        /** {@code layer.L.attn.probs}: probabilities of one sequence, {@code [heads][n][n]} (query, key). */
        default void probabilities(int layer, int sequence, float[] probs, int n) {}

        /** Whether layer L's pre-softmax logits are wanted. */
        default boolean wantsScores(int layer) { return false; }

        /** {@code layer.L.attn.scores}: q·k/√d plus any {@link #attentionBias}, {@code [heads][n][n]}. */
        default void scores(int layer, int sequence, float[] scores, int n) {}

        /** Whether layer L's per-head queries, keys and values are wanted. */
        default boolean wantsQkv(int layer) { return false; }

        /** {@code layer.L.attn.q/k/v}: per-head projections, each {@code [heads][n][headDim]}. */
        default void qkv(int layer, int sequence, float[] q, float[] k, float[] v, int n) {}

        /** Whether layer L's context vectors are wanted. */
        default boolean wantsContext(int layer) { return false; }

        /** {@code layer.L.attn.ctx}: context vectors {@code [n][H]} (heads concatenated, after {@link #headScale}). */
        default void context(int layer, int sequence, float[] ctx, int n) {}

        /** Factor applied to head h's context vectors in layer L; 0 ablates the head. */
        default float headScale(int layer, int head) { return 1f; }

        /** An additive bias {@code [heads][n][n]} for layer L's logits of this sequence (−inf masks), or null. */
        default float[] attentionBias(int layer, int sequence, int n) { return null; }

        /** A replacement attention map {@code [heads][n][n]} for layer L of this sequence, or null to keep the model's. */
        default float[] replaceProbabilities(int layer, int sequence, int n) { return null; }

        /**
         * {@code layer.L.resid_post}: hidden states {@code [n][H]} of one sequence after layer L − 1;
         * L = 0 is the embeddings' output, L = layers the last hidden state.
         */
        default void hidden(int layer, int sequence, float[] states, int n) {}
    }

    /** The output of a batch: the last hidden state of every real token, packed. */
    public record Output(float[] hidden, int[] offsets, int hiddenSize) {
        /** Number of sequences. */
        public int batch() { return offsets.length - 1; }
        /** Real tokens of sequence b. */
        public int length(int b) { return offsets[b + 1] - offsets[b]; }
        /** Hidden state of token t of sequence b (a copy, length H). */
        public float[] token(int b, int t) {
            int row = offsets[b] + t;
            return Arrays.copyOfRange(hidden, row * hiddenSize, (row + 1) * hiddenSize);
        }
    }

    /**
     * Builds the encoder from weights under canonical names ({@code embeddings.word_embeddings.weight},
     * {@code encoder.layer.L.attention.self.query.weight} stored {@code [in, out]}, …; see
     * {@code BertWeights.expected}). Every tensor's shape is checked against {@code cfg}. The
     * embeddings and LayerNorm parameters are copied and the linear weights packed into panels, so
     * the encoder keeps no reference to {@code w} and later changes to it have no effect; the packed
     * copy costs about the size of the weights once more while {@code w} is alive.
     * The encoder is immutable and thread-safe: {@link #forward} may run concurrently.
     *
     * @throws IllegalArgumentException naming the tensor and the source if one is missing or has
     *     the wrong shape
     */
    public BertEncoder(BertConfig cfg, ModelWeights w) {
        this.cfg = cfg;
        int h = cfg.hidden(), inner = cfg.intermediate();
        wordEmb = MemorySegment.ofArray(w.get("embeddings.word_embeddings.weight", cfg.vocabSize(), h).contiguous().toArray());
        posEmb = w.get("embeddings.position_embeddings.weight", cfg.maxPositions(), h).contiguous().toArray();
        typeEmb = w.get("embeddings.token_type_embeddings.weight", cfg.typeVocabSize(), h).contiguous().toArray();
        embLnW = vec(w, "embeddings.LayerNorm.weight", h);
        embLnB = vec(w, "embeddings.LayerNorm.bias", h);
        layers = new Layer[cfg.layers()];
        for (int l = 0; l < cfg.layers(); l++) {
            String p = "encoder.layer." + l + ".";
            PackedLinear qkv = PackedLinear.concat(
                    new Tensor[] {weight(w, p + "attention.self.query", h, h), weight(w, p + "attention.self.key", h, h),
                            weight(w, p + "attention.self.value", h, h)},
                    new Tensor[] {w.get(p + "attention.self.query.bias", h), w.get(p + "attention.self.key.bias", h),
                            w.get(p + "attention.self.value.bias", h)});
            layers[l] = new Layer(qkv, linear(w, p + "attention.output.dense", h, h),
                    vec(w, p + "attention.output.LayerNorm.weight", h), vec(w, p + "attention.output.LayerNorm.bias", h),
                    linear(w, p + "intermediate.dense", h, inner), linear(w, p + "output.dense", inner, h),
                    vec(w, p + "output.LayerNorm.weight", h), vec(w, p + "output.LayerNorm.bias", h));
        }
    }

    private BertEncoder(BertConfig cfg, MemorySegment wordEmb, float[] posEmb, float[] typeEmb, float[] embLnW, float[] embLnB, Layer[] layers) {
        this.cfg = cfg;
        this.wordEmb = wordEmb;
        this.posEmb = posEmb;
        this.typeEmb = typeEmb;
        this.embLnW = embLnW;
        this.embLnB = embLnB;
        this.layers = layers;
    }

    /**
     * The encoder's parameters in their prepared form (linear weights already packed into panels), as
     * native-order float segments in a fixed order: word, position and type embeddings, the embedding
     * LayerNorm's weight and bias, then per layer the QKV, attention output, FFN in and FFN out weights
     * and biases and the two LayerNorms. {@link #fromPrepared} rebuilds an identical encoder from them
     * (a model cache stores them so a later start skips parsing and packing).
     */
    public List<MemorySegment> preparedParts() {
        List<MemorySegment> parts = new ArrayList<>(5 + 12 * layers.length);
        parts.add(wordEmb);
        for (float[] a : new float[][] {posEmb, typeEmb, embLnW, embLnB}) parts.add(MemorySegment.ofArray(a));
        for (Layer l : layers) {
            for (PackedLinear lin : new PackedLinear[] {l.qkv(), l.attnOut()}) {
                parts.add(MemorySegment.ofArray(lin.packed()));
                parts.add(MemorySegment.ofArray(lin.b));
            }
            parts.add(MemorySegment.ofArray(l.ln1W()));
            parts.add(MemorySegment.ofArray(l.ln1B()));
            for (PackedLinear lin : new PackedLinear[] {l.ffnIn(), l.ffnOut()}) {
                parts.add(MemorySegment.ofArray(lin.packed()));
                parts.add(MemorySegment.ofArray(lin.b));
            }
            parts.add(MemorySegment.ofArray(l.ln2W()));
            parts.add(MemorySegment.ofArray(l.ln2B()));
        }
        return parts;
    }

    /**
     * The encoder whose {@link #preparedParts} are {@code parts} (native-order floats). The word
     * embeddings' segment is kept as given (a file mapping stays mapped for the encoder's life); the
     * others are copied onto the heap.
     *
     * @throws IllegalArgumentException naming the part if the count or a size does not match {@code cfg}
     */
    public static BertEncoder fromPrepared(BertConfig cfg, List<MemorySegment> parts) {
        int h = cfg.hidden(), inner = cfg.intermediate();
        if (parts.size() != 5 + 12 * cfg.layers()) {
            throw new IllegalArgumentException("parts: expected " + (5 + 12 * cfg.layers()) + " prepared parts for " + cfg.layers() + " layers, got " + parts.size());
        }
        int[] at = {0};
        MemorySegment word = part(parts, at, (long) cfg.vocabSize() * h);
        float[] pos = floats(parts, at, (long) cfg.maxPositions() * h), type = floats(parts, at, (long) cfg.typeVocabSize() * h);
        float[] lnW = floats(parts, at, h), lnB = floats(parts, at, h);
        Layer[] layers = new Layer[cfg.layers()];
        for (int l = 0; l < layers.length; l++) {
            PackedLinear qkv = PackedLinear.ofPacked(h, 3 * h, floats(parts, at, PackedLinear.packedSize(h, 3 * h)), floats(parts, at, 3 * h));
            PackedLinear attnOut = PackedLinear.ofPacked(h, h, floats(parts, at, PackedLinear.packedSize(h, h)), floats(parts, at, h));
            float[] ln1W = floats(parts, at, h), ln1B = floats(parts, at, h);
            PackedLinear ffnIn = PackedLinear.ofPacked(h, inner, floats(parts, at, PackedLinear.packedSize(h, inner)), floats(parts, at, inner));
            PackedLinear ffnOut = PackedLinear.ofPacked(inner, h, floats(parts, at, PackedLinear.packedSize(inner, h)), floats(parts, at, h));
            layers[l] = new Layer(qkv, attnOut, ln1W, ln1B, ffnIn, ffnOut, floats(parts, at, h), floats(parts, at, h));
        }
        return new BertEncoder(cfg, word, pos, type, lnW, lnB, layers);
    }

    private static MemorySegment part(List<MemorySegment> parts, int[] at, long floats) {
        MemorySegment s = parts.get(at[0]);
        if (s.byteSize() != floats * Float.BYTES) {
            throw new IllegalArgumentException("parts[" + at[0] + "]: expected " + floats + " floats, got " + s.byteSize() / Float.BYTES);
        }
        at[0]++;
        return s;
    }

    private static float[] floats(List<MemorySegment> parts, int[] at, long floats) {
        return part(parts, at, floats).toArray(ValueLayout.JAVA_FLOAT);
    }

    private static float[] vec(ModelWeights w, String name, int n) {
        return w.get(name, n).contiguous().toArray();
    }

    private static Tensor weight(ModelWeights w, String name, int in, int out) {
        return w.get(name + ".weight", in, out);
    }

    private static PackedLinear linear(ModelWeights w, String name, int in, int out) {
        return PackedLinear.of(weight(w, name, in, out), w.get(name + ".bias", out));
    }

    public BertConfig config() { return cfg; }

    /**
     * The parameters as new row-major float arrays under their canonical names (linear weights
     * {@code [in, out]}, see {@code BertWeights.expected}), for {@link BertGrad}. Costs a copy of the weights.
     */
    java.util.Map<String, float[]> parameterArrays() {
        java.util.Map<String, float[]> m = new java.util.LinkedHashMap<>();
        m.put("embeddings.word_embeddings.weight", wordEmb.toArray(ValueLayout.JAVA_FLOAT));
        m.put("embeddings.position_embeddings.weight", posEmb.clone());
        m.put("embeddings.token_type_embeddings.weight", typeEmb.clone());
        m.put("embeddings.LayerNorm.weight", embLnW.clone());
        m.put("embeddings.LayerNorm.bias", embLnB.clone());
        int h = cfg.hidden();
        for (int l = 0; l < layers.length; l++) {
            String p = "encoder.layer." + l + ".";
            Layer layer = layers[l];
            float[] qkv = layer.qkv().unpacked();
            String[] names = {"attention.self.query", "attention.self.key", "attention.self.value"};
            for (int part = 0; part < 3; part++) {
                float[] w = new float[h * h], b = new float[h];
                for (int r = 0; r < h; r++) System.arraycopy(qkv, r * 3 * h + part * h, w, r * h, h);
                System.arraycopy(layer.qkv().b, part * h, b, 0, h);
                m.put(p + names[part] + ".weight", w);
                m.put(p + names[part] + ".bias", b);
            }
            m.put(p + "attention.output.dense.weight", layer.attnOut().unpacked());
            m.put(p + "attention.output.dense.bias", layer.attnOut().b.clone());
            m.put(p + "attention.output.LayerNorm.weight", layer.ln1W().clone());
            m.put(p + "attention.output.LayerNorm.bias", layer.ln1B().clone());
            m.put(p + "intermediate.dense.weight", layer.ffnIn().unpacked());
            m.put(p + "intermediate.dense.bias", layer.ffnIn().b.clone());
            m.put(p + "output.dense.weight", layer.ffnOut().unpacked());
            m.put(p + "output.dense.bias", layer.ffnOut().b.clone());
            m.put(p + "output.LayerNorm.weight", layer.ln2W().clone());
            m.put(p + "output.LayerNorm.bias", layer.ln2B().clone());
        }
        return m;
    }

    /**
     * Runs the encoder.
     *
     * @param ids     token ids per sequence (unpadded; each 1..maxPositions long)
     * @param typeIds token type ids per sequence (same lengths), or null for all 0
     * @param threads worker threads (0 = all processors)
     */
    public Output forward(int[][] ids, int[][] typeIds, int threads) {
        return forward(ids, typeIds, threads, null);
    }

    /** {@link #forward(int[][], int[][], int)} with hook points (see {@link Probe}); probe may be null. */
    public Output forward(int[][] ids, int[][] typeIds, int threads, Probe probe) {
        int nThreads = Parallel.resolveThreads(threads);
        int batch = ids.length, h = cfg.hidden();
        int[] offsets = new int[batch + 1];
        for (int b = 0; b < batch; b++) {
            int len = ids[b].length;
            if (len < 1 || len > cfg.maxPositions()) {
                throw new IllegalArgumentException("ids[" + b + "]: expected 1.." + cfg.maxPositions() + " tokens, got " + len);
            }
            if (typeIds != null && typeIds[b].length != len) {
                throw new IllegalArgumentException("typeIds[" + b + "]: expected " + len + " entries (as ids), got " + typeIds[b].length);
            }
            offsets[b + 1] = offsets[b] + len;
        }
        int tokens = offsets[batch];
        float[] x = embed(ids, typeIds, offsets, h);
        layerNorm(x, null, tokens, embLnW, embLnB, nThreads);
        if (probe != null) reportHidden(probe, 0, x, offsets);

        float[] qkv = new float[tokens * 3 * h], ctx = new float[tokens * h], tmp = new float[tokens * h];
        float[] inner = new float[tokens * cfg.intermediate()];
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            layer.qkv.apply(x, tokens, qkv, nThreads);
            attention(qkv, offsets, ctx, nThreads, probe, l);
            layer.attnOut.apply(ctx, tokens, tmp, nThreads);
            layerNorm(x, tmp, tokens, layer.ln1W, layer.ln1B, nThreads);
            layer.ffnIn.apply(x, tokens, inner, nThreads);
            gelu(inner, nThreads);
            layer.ffnOut.apply(inner, tokens, tmp, nThreads);
            layerNorm(x, tmp, tokens, layer.ln2W, layer.ln2B, nThreads);
            if (probe != null) reportHidden(probe, l + 1, x, offsets);
        }
        return new Output(x, offsets, h);
    }

    private float[] embed(int[][] ids, int[][] typeIds, int[] offsets, int h) {
        float[] x = new float[offsets[ids.length] * h];
        for (int b = 0; b < ids.length; b++) {
            for (int t = 0; t < ids[b].length; t++) {
                int id = ids[b][t], type = typeIds == null ? 0 : typeIds[b][t];
                if (id < 0 || id >= cfg.vocabSize()) {
                    throw new IllegalArgumentException("ids[" + b + "][" + t + "]: expected 0.." + (cfg.vocabSize() - 1) + ", got " + id);
                }
                if (type < 0 || type >= cfg.typeVocabSize()) {
                    throw new IllegalArgumentException("typeIds[" + b + "][" + t + "]: expected 0.." + (cfg.typeVocabSize() - 1) + ", got " + type);
                }
                int row = (offsets[b] + t) * h;
                MemorySegment.copy(wordEmb, ValueLayout.JAVA_FLOAT, (long) id * h * Float.BYTES, x, row, h);
                for (int c = 0; c < h; c++) x[row + c] = x[row + c] + posEmb[t * h + c] + typeEmb[type * h + c];
            }
        }
        return x;
    }

    /** One sequence's attention with the probe's reads and edits; returns the output [heads][len][hd]. */
    private float[] probedAttention(Probe probe, int layer, int b, int len, Tensor q, Tensor k, Tensor v, AttentionSpec spec, boolean probs) {
        int heads = cfg.heads(), hd = cfg.headDim();
        float[] bias = probe.attentionBias(layer, b, len);
        if (bias != null) {
            if (bias.length != heads * len * len) {
                throw new IllegalArgumentException("attentionBias(layer " + layer + ", sequence " + b + "): expected [heads=" + heads + "][n=" + len
                        + "][n] = " + heads * len * len + " values, got " + bias.length);
            }
            spec = spec.toBuilder().bias(Tensor.of(bias, 1, heads, len, len)).build();
        }
        if (probe.wantsQkv(layer)) {
            probe.qkv(layer, b, q.contiguous().toArray(), k.contiguous().toArray(), v.contiguous().toArray(), len);
        }
        if (probe.wantsScores(layer)) {
            float[] qa = q.contiguous().toArray(), ka = k.contiguous().toArray(), sc = new float[heads * len * len];
            double scale = 1.0 / Math.sqrt(hd);
            for (int hh = 0; hh < heads; hh++)
                for (int i = 0; i < len; i++)
                    for (int j = 0; j < len; j++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += (double) qa[(hh * len + i) * hd + d] * ka[(hh * len + j) * hd + d];
                        int at = (hh * len + i) * len + j;
                        sc[at] = (float) (dot * scale + (bias == null ? 0 : bias[at]));
                    }
            probe.scores(layer, b, sc, len);
        }
        float[] replacement = probe.replaceProbabilities(layer, b, len);
        if (replacement == null) {
            var result = Attention.sdpa(q, k, v, spec);
            if (probs) probe.probabilities(layer, b, result.probs().data(), len);
            return result.output().data();
        }
        if (replacement.length != heads * len * len) {
            throw new IllegalArgumentException("replaceProbabilities(layer " + layer + ", sequence " + b + "): expected [heads=" + heads + "][n=" + len
                    + "][n] = " + heads * len * len + " values, got " + replacement.length);
        }
        if (probs) probe.probabilities(layer, b, replacement.clone(), len);
        float[] va = v.contiguous().toArray(), out = new float[heads * len * hd];
        for (int hh = 0; hh < heads; hh++)
            for (int i = 0; i < len; i++)
                for (int j = 0; j < len; j++) {
                    float w = replacement[(hh * len + i) * len + j];
                    if (w != 0f) MicroKernels.get().axpy(w, va, (hh * len + j) * hd, out, (hh * len + i) * hd, hd);
                }
        return out;
    }

    private static void reportHidden(Probe probe, int layer, float[] x, int[] offsets) {
        int h = x.length / Math.max(1, offsets[offsets.length - 1]);
        for (int b = 0; b + 1 < offsets.length; b++) {
            probe.hidden(layer, b, Arrays.copyOfRange(x, offsets[b] * h, offsets[b + 1] * h), offsets[b + 1] - offsets[b]);
        }
    }

    /** Multi-head self-attention of each sequence over itself, reading Q, K, V as strided views of qkv. */
    private void attention(float[] qkv, int[] offsets, float[] ctx, int threads, Probe probe, int layer) {
        int h = cfg.hidden(), heads = cfg.heads(), hd = cfg.headDim(), row = 3 * h;
        boolean probs = probe != null && probe.wantsProbabilities(layer);
        AttentionSpec spec = AttentionSpec.builder().threads(threads).validate(false).returnProbs(probs).build();
        float[] scales = null;
        if (probe != null) {
            scales = new float[heads];
            boolean all1 = true;
            for (int hh = 0; hh < heads; hh++) {
                scales[hh] = probe.headScale(layer, hh);
                all1 &= scales[hh] == 1f;
            }
            if (all1) scales = null;
        }
        for (int b = 0; b + 1 < offsets.length; b++) {
            int start = offsets[b], len = offsets[b + 1] - start;
            int[] shape = {1, heads, len, hd}, strides = {len * row, hd, row, 1};
            Tensor q = Tensor.view(qkv, start * row, shape, strides);
            Tensor k = Tensor.view(qkv, start * row + h, shape, strides);
            Tensor v = Tensor.view(qkv, start * row + 2 * h, shape, strides);
            float[] out;
            if (probe == null) {
                out = Attention.sdpa(q, k, v, spec).output().data(); // [1, heads, len, hd]
            } else {
                out = probedAttention(probe, layer, b, len, q, k, v, spec, probs);
            }
            for (int hh = 0; hh < heads; hh++) {
                for (int t = 0; t < len; t++) System.arraycopy(out, (hh * len + t) * hd, ctx, (start + t) * h + hh * hd, hd);
                if (scales != null && scales[hh] != 1f) {
                    for (int t = 0; t < len; t++) MicroKernels.get().scale(ctx, (start + t) * h + hh * hd, hd, scales[hh]);
                }
            }
            if (probe != null && probe.wantsContext(layer)) {
                probe.context(layer, b, Arrays.copyOfRange(ctx, start * h, (start + len) * h), len);
            }
        }
    }

    private void gelu(float[] x, int threads) {
        int n = cfg.intermediate(), rows = x.length / n, chunk = 64;
        Parallel.forEach(threads, (rows + chunk - 1) / chunk, t -> null, (item, unused) -> {
            int r0 = item * chunk, r1 = Math.min(rows, r0 + chunk);
            MicroKernels.get().gelu(x, r0 * n, (r1 - r0) * n);
        });
    }

    /** In place, per row: x = LayerNorm(x + residual) (residual may be null), rows split over threads. */
    private void layerNorm(float[] x, float[] residual, int rows, float[] gamma, float[] beta, int threads) {
        int h = cfg.hidden(), chunk = 64;
        float eps = (float) cfg.layerNormEps();
        Parallel.forEach(threads, (rows + chunk - 1) / chunk, t -> null, (item, unused) -> {
            MicroKernels mk = MicroKernels.get();
            for (int r = item * chunk, end = Math.min(rows, r + chunk); r < end; r++) {
                mk.addLayerNorm(x, r * h, residual, r * h, h, gamma, beta, eps);
            }
        });
    }
}
