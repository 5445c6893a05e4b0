package org.attn4j.variants.trainable;

import java.util.List;
import java.util.Map;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionGradients;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;

/**
 * The engine's exact causal attention, softmax(q·kᵀ/√D + mask)·v, optionally with ALiBi and a
 * sliding window; no parameters of its own. The forward keeps only the output and the log-sum-exp,
 * so nothing of size N×N is stored; the backward is {@link Attention#backward} (flash kernel).
 */
public final class ExactTrainableAttention implements TrainableAttention {
    private final String name;
    private final boolean alibi;
    /** Keys at most this far back are visible; −1 for no window. */
    private final int left;

    /**
     * @param alibi  add ALiBi biases (slopes 2^(−8h/H)) to the logits
     * @param window keys at most this far back are visible ({@code j ≥ i − window}); 0 for none
     */
    public ExactTrainableAttention(boolean alibi, int window) {
        if (window < 0) throw new IllegalArgumentException("window: must be ≥ 0, got " + window);
        this.name = "full";
        this.alibi = alibi;
        this.left = window > 0 ? window : -1;
    }

    private ExactTrainableAttention(String name, int left) {
        this.name = name;
        this.alibi = false;
        this.left = left;
    }

    /**
     * {@code neighborhood-1d} with causal masking, dilation 1 and stride 1 (P102's 1-D neighbourhood
     * attention): row i sees the {@code kernel} keys {@code max(0, i − kernel + 1) .. i}, which is the
     * engine's sliding window {@code j ≥ i − (kernel − 1)}, so it trains on the flash kernels.
     */
    public static ExactTrainableAttention neighborhood(int kernel) {
        if (kernel < 1) throw new IllegalArgumentException("kernel: expected ≥ 1, got " + kernel);
        return new ExactTrainableAttention("neighborhood-1d", kernel - 1);
    }

    @Override
    public String name() { return name; }

    public boolean alibi() { return alibi; }

    /** Keys at most this far back are visible; 0 when there is no window (or a window of the query alone, see {@link #windowed}). */
    public int window() { return Math.max(left, 0); }

    /** Whether a sliding window applies. */
    public boolean windowed() { return left >= 0; }

    @Override
    public List<TrainableParam> parameters(int heads, int headDim, int seqLen) { return List.of(); }

    private AttentionSpec spec(int threads) {
        AttentionSpec.Builder s = AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).returnLse(true).threads(threads);
        if (alibi) s.alibi(true);
        if (left >= 0) s.window(left, 0);
        return s.build();
    }

    private record State(Tensor q, Tensor k, Tensor v, Tensor output, Tensor lse, AttentionSpec spec) implements Saved {}

    @Override
    public Saved forward(Tensor q, Tensor k, Tensor v, Map<String, Tensor> weights, int threads) {
        AttentionSpec spec = spec(threads);
        AttentionResult r = Attention.sdpa(q, k, v, spec);
        return new State(q, k, v, r.output(), r.lse(), spec);
    }

    @Override
    public Gradients backward(Saved saved, Tensor dOut, Map<String, Tensor> grads, int threads) {
        State s = (State) saved;
        AttentionGradients g = Attention.backward(s.q, s.k, s.v, s.output, s.lse, dOut, s.spec);
        return new Gradients(g.dq(), g.dk(), g.dv());
    }
}
