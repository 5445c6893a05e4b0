package org.attn4j.train.layers;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.train.Parameters;
import org.attn4j.variants.trainable.ExactTrainableAttention;
import org.attn4j.variants.trainable.TrainableAttention;
import org.attn4j.variants.trainable.TrainableParam;

/**
 * Multi-head causal self-attention: a fused QKV projection, optionally RoPE on q and k, a pluggable
 * {@link TrainableAttention} over the heads (by default the engine's exact attention), and an
 * output projection.
 *
 * <pre>
 *   qkv  = x·W_qkvᵀ + b_qkv                 [B·T, 3C]   columns: q | k | v, each H heads of D = C/H
 *   q, k = rope(q), rope(k)                             (in place, when RoPE is on)
 *   ctx  = attention(q, k, v; θ_attn)       [B, H, T, D] (e.g. softmax(q·kᵀ/√D + mask)·v on the engine)
 *   atty = ctx laid out token-major         [B·T, C]    (head h in columns h·D .. h·D+D−1)
 *   y    = atty·W_projᵀ + b_proj            [B·T, C]
 * </pre>
 *
 * <p>q, k and v are strided views into the fused buffer (strides {@code (T·3C, D, 3C, 1)}, offsets
 * 0, C, 2C): nothing is copied. The mechanism's own parameters ({@link TrainableAttention#parameters})
 * live in the model's flat buffers as {@code prefix.<name>} and are handed to it as views, values to
 * the forward and gradients to the backward. The backward reads the mechanism's saved state; for
 * the exact attention that is the output and the log-sum-exp only, so no N×N buffer is ever kept.
 */
public final class CausalSelfAttention {
    private final Linear qkv, proj;
    private final int c, heads, d, seqLen, threads;
    private final TrainableAttention attention;
    private final Rope rope;
    private final Map<String, Tensor> weights = new LinkedHashMap<>(), grads = new LinkedHashMap<>();
    private final float[] atty, dAtty, dQkv;
    private TrainableAttention.Saved saved;
    private int batch;

    /** Declares {@code prefix.c_attn} ({@code [3C, C]} + bias) and {@code prefix.c_proj} ({@code [C, C]} + bias). */
    public static void declare(Parameters.Builder b, String prefix, int c) {
        Linear.declare(b, prefix + ".c_attn", c, 3 * c, true);
        Linear.declare(b, prefix + ".c_proj", c, c, true);
    }

    /**
     * Declares {@code prefix.c_attn} ({@code [3C, C]}), {@code prefix.c_proj} ({@code [C, C]}), their
     * biases if {@code bias}, then the mechanism's own tensors as {@code prefix.<name>} in the order
     * it lists them. Returns those tensors' specifications (for their initialisation).
     */
    public static List<TrainableParam> declare(Parameters.Builder b, String prefix, int c, int heads, int seqLen,
                                               TrainableAttention attention, boolean bias) {
        if (heads <= 0 || c % heads != 0) throw new IllegalArgumentException("heads: must divide d_model=" + c + ", got " + heads);
        Linear.declare(b, prefix + ".c_attn", c, 3 * c, bias);
        Linear.declare(b, prefix + ".c_proj", c, c, bias);
        List<TrainableParam> own = attention.parameters(heads, c / heads, seqLen);
        for (TrainableParam p : own) b.add(prefix + "." + p.name(), p.decay(), p.shape());
        return own;
    }

    /**
     * The exact attention of the engine (as before the mechanism became pluggable).
     *
     * @param alibi  add ALiBi biases (slopes 2^(−8h/H)) to the logits
     * @param window keys at most this far back are visible ({@code j ≥ i − window}); 0 for no window
     */
    public CausalSelfAttention(Parameters params, String prefix, int heads, int seqLen, int maxBatch,
                               boolean alibi, int window, int threads) {
        this(params, prefix, heads, seqLen, maxBatch, new ExactTrainableAttention(alibi, window), false, threads);
    }

    /**
     * @param attention the mechanism; its tensors must have been declared by {@link #declare(Parameters.Builder, String, int, int, int, TrainableAttention, boolean)}
     * @param rope      rotate q and k by position (RoPE) before the mechanism sees them
     */
    public CausalSelfAttention(Parameters params, String prefix, int heads, int seqLen, int maxBatch,
                               TrainableAttention attention, boolean rope, int threads) {
        this.qkv = new Linear(params, prefix + ".c_attn", maxBatch * seqLen, threads);
        this.proj = new Linear(params, prefix + ".c_proj", maxBatch * seqLen, threads);
        this.c = proj.in();
        if (heads <= 0 || c % heads != 0) throw new IllegalArgumentException("heads: must divide d_model=" + c + ", got " + heads);
        this.heads = heads;
        this.d = c / heads;
        this.seqLen = seqLen;
        this.threads = threads;
        this.attention = attention;
        this.rope = rope ? new Rope(seqLen, d) : null;
        for (TrainableParam p : attention.parameters(heads, d, seqLen)) {
            Parameters.Param t = params.get(prefix + "." + p.name());
            if (!Arrays.equals(t.shape(), p.shape())) {
                throw new IllegalArgumentException("params: '" + t.name() + "' has shape " + Arrays.toString(t.shape()) + ", the mechanism wants " + Arrays.toString(p.shape()));
            }
            int[] strides = rowMajor(p.shape());
            weights.put(p.name(), Tensor.view(params.values(), t.offset(), p.shape(), strides));
            grads.put(p.name(), Tensor.view(params.grads(), t.offset(), p.shape(), strides));
        }
        int maxRows = maxBatch * seqLen;
        this.atty = new float[maxRows * c];
        this.dAtty = new float[maxRows * c];
        this.dQkv = new float[maxRows * 3 * c];
    }

    /** The attention mechanism. */
    public TrainableAttention attention() { return attention; }

    /** Attention over {@code batch} sequences of x ({@code [batch·T, C]}); returns the projection's output buffer {@code [batch·T, C]}. */
    public float[] forward(float[] x, int batch) {
        this.batch = batch;
        int rows = batch * seqLen;
        float[] fused = qkv.forward(x, rows);
        if (rope != null) {
            rope.apply(fused, 0, 3 * c, rows, heads, false, threads);   // q
            rope.apply(fused, c, 3 * c, rows, heads, false, threads);   // k
        }
        int[] shape = {batch, heads, seqLen, d};
        int[] strides = {seqLen * 3 * c, d, 3 * c, 1};
        Tensor q = Tensor.view(fused, 0, shape, strides);
        Tensor k = Tensor.view(fused, c, shape, strides);
        Tensor v = Tensor.view(fused, 2 * c, shape, strides);
        saved = attention.forward(q, k, v, weights, threads);
        // The mechanism returns [B, H, T, D]; the projection wants token rows [B·T, H·D].
        copyHeads(saved.output(), atty, 0, c);
        return proj.forward(atty, rows);
    }

    /** Accumulates {@code dInput += ∂loss/∂x} and the parameter gradients, for {@code dOut} = ∂loss/∂y ({@code [batch·T, C]}). */
    public void backward(float[] dOut, float[] dInput) {
        int rows = batch * seqLen;
        Arrays.fill(dAtty, 0, rows * c, 0f);
        proj.backward(dOut, dAtty);
        int[] shape = {batch, heads, seqLen, d};
        Tensor dOutHeads = Tensor.view(dAtty, 0, shape, new int[] {seqLen * c, d, c, 1});
        TrainableAttention.Gradients g = attention.backward(saved, dOutHeads, grads, threads);
        saved = null; // one backward per forward
        // dq, dk, dv ([B, H, T, D]) into the fused gradient [B·T, 3C] (every entry is written).
        copyHeads(g.dq(), dQkv, 0, 3 * c);
        copyHeads(g.dk(), dQkv, c, 3 * c);
        copyHeads(g.dv(), dQkv, 2 * c, 3 * c);
        if (rope != null) {
            rope.apply(dQkv, 0, 3 * c, rows, heads, true, threads);
            rope.apply(dQkv, c, 3 * c, rows, heads, true, threads);
        }
        qkv.backward(dQkv, dInput);
    }

    /** Copies a {@code [B, H, T, D]} tensor (any strides) to token-major rows: head h of token (b, t) at {@code offset + (b·T + t)·stride + h·D}. */
    private void copyHeads(Tensor src, float[] dst, int offset, int stride) {
        float[] s = src.data();
        int o = src.offset(), sb = src.stride(0), sh = src.stride(1), st = src.stride(2), sd = src.stride(3);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < seqLen; t++) {
                    int from = o + b * sb + h * sh + t * st, to = offset + (b * seqLen + t) * stride + h * d;
                    if (sd == 1) {
                        System.arraycopy(s, from, dst, to, d);
                    } else {
                        for (int i = 0; i < d; i++) dst[to + i] = s[from + i * sd];
                    }
                }
            }
        }
    }

    private static int[] rowMajor(int[] shape) {
        int[] strides = new int[shape.length];
        int s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= shape[i];
        }
        return strides;
    }
}
