package org.attn4j.train.layers;

import java.util.Arrays;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionGradients;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.train.Parameters;

/**
 * Multi-head causal self-attention: a fused QKV projection, the engine's exact attention over the
 * heads, and an output projection.
 *
 * <pre>
 *   qkv  = x·W_qkvᵀ + b_qkv                 [B·T, 3C]   columns: q | k | v, each H heads of D = C/H
 *   ctx  = softmax(q·kᵀ/√D + mask)·v        [B, H, T, D] (the engine; causal top-left, optional ALiBi/window)
 *   atty = ctx laid out token-major         [B·T, C]    (head h in columns h·D .. h·D+D−1)
 *   y    = atty·W_projᵀ + b_proj            [B·T, C]
 * </pre>
 *
 * <p>q, k and v are strided views into the fused buffer (strides {@code (T·3C, D, 3C, 1)}, offsets
 * 0, C, 2C): nothing is copied. The forward keeps qkv (in the QKV Linear's output), atty and the
 * log-sum-exp; the backward gives {@link Attention#backward} atty (as a {@code [B, H, T, D]} view)
 * as the forward output, so no probabilities and no N×N buffer are ever stored.
 */
public final class CausalSelfAttention {
    private final Linear qkv, proj;
    private final int c, heads, d, seqLen;
    private final AttentionSpec spec;
    private final float[] atty, dAtty, dQkv;
    private Tensor q, k, v, lse;
    private int batch;

    /** Declares {@code prefix.c_attn} ({@code [3C, C]} + bias) and {@code prefix.c_proj} ({@code [C, C]} + bias). */
    public static void declare(Parameters.Builder b, String prefix, int c) {
        Linear.declare(b, prefix + ".c_attn", c, 3 * c, true);
        Linear.declare(b, prefix + ".c_proj", c, c, true);
    }

    /**
     * @param heads   number of heads H (C % H == 0)
     * @param alibi   add ALiBi biases (slopes 2^(−8h/H)) to the logits
     * @param window  keys at most this far back are visible ({@code j ≥ i − window}); 0 for no window
     */
    public CausalSelfAttention(Parameters params, String prefix, int heads, int seqLen, int maxBatch,
                               boolean alibi, int window, int threads) {
        this.qkv = new Linear(params, prefix + ".c_attn", maxBatch * seqLen, threads);
        this.proj = new Linear(params, prefix + ".c_proj", maxBatch * seqLen, threads);
        this.c = proj.in();
        if (heads <= 0 || c % heads != 0) throw new IllegalArgumentException("heads: must divide d_model=" + c + ", got " + heads);
        this.heads = heads;
        this.d = c / heads;
        this.seqLen = seqLen;
        AttentionSpec.Builder s = AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).returnLse(true).threads(threads);
        if (alibi) s.alibi(true);
        if (window > 0) s.window(window, 0);
        this.spec = s.build();
        int maxRows = maxBatch * seqLen;
        this.atty = new float[maxRows * c];
        this.dAtty = new float[maxRows * c];
        this.dQkv = new float[maxRows * 3 * c];
    }

    /** Attention over {@code batch} sequences of x ({@code [batch·T, C]}); returns the projection's output buffer {@code [batch·T, C]}. */
    public float[] forward(float[] x, int batch) {
        this.batch = batch;
        int rows = batch * seqLen;
        float[] fused = qkv.forward(x, rows);
        int[] shape = {batch, heads, seqLen, d};
        int[] strides = {seqLen * 3 * c, d, 3 * c, 1};
        q = Tensor.view(fused, 0, shape, strides);
        k = Tensor.view(fused, c, shape, strides);
        v = Tensor.view(fused, 2 * c, shape, strides);
        AttentionResult r = Attention.sdpa(q, k, v, spec);
        lse = r.lse();
        // The engine returns [B, H, T, D] row-major; the projection wants token rows [B·T, H·D].
        float[] o = r.output().data();
        int oOff = r.output().offset();
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                for (int t = 0; t < seqLen; t++) {
                    System.arraycopy(o, oOff + ((b * heads + h) * seqLen + t) * d, atty, (b * seqLen + t) * c + h * d, d);
                }
            }
        }
        return proj.forward(atty, rows);
    }

    /** Accumulates {@code dInput += ∂loss/∂x} and the parameter gradients, for {@code dOut} = ∂loss/∂y ({@code [batch·T, C]}). */
    public void backward(float[] dOut, float[] dInput) {
        int rows = batch * seqLen;
        Arrays.fill(dAtty, 0, rows * c, 0f);
        proj.backward(dOut, dAtty);
        int[] shape = {batch, heads, seqLen, d};
        int[] tokenMajor = {seqLen * c, d, c, 1};
        Tensor out = Tensor.view(atty, 0, shape, tokenMajor);
        Tensor dOutHeads = Tensor.view(dAtty, 0, shape, tokenMajor);
        AttentionGradients g = Attention.backward(q, k, v, out, lse, dOutHeads, spec);
        // Scatter dq, dk, dv ([B, H, T, D] row-major) into the fused gradient [B·T, 3C].
        Arrays.fill(dQkv, 0, rows * 3 * c, 0f);
        Tensor[] parts = {g.dq(), g.dk(), g.dv()};
        for (int part = 0; part < 3; part++) {
            float[] src = parts[part].data();
            int sOff = parts[part].offset();
            for (int b = 0; b < batch; b++) {
                for (int h = 0; h < heads; h++) {
                    for (int t = 0; t < seqLen; t++) {
                        System.arraycopy(src, sOff + ((b * heads + h) * seqLen + t) * d,
                                dQkv, (b * seqLen + t) * 3 * c + part * c + h * d, d);
                    }
                }
            }
        }
        qkv.backward(dQkv, dInput);
    }
}
