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
    private final boolean alibi;
    private final int window;

    /**
     * @param alibi  add ALiBi biases (slopes 2^(−8h/H)) to the logits
     * @param window keys at most this far back are visible ({@code j ≥ i − window}); 0 for none
     */
    public ExactTrainableAttention(boolean alibi, int window) {
        if (window < 0) throw new IllegalArgumentException("window: must be ≥ 0, got " + window);
        this.alibi = alibi;
        this.window = window;
    }

    @Override
    public String name() { return "full"; }

    public boolean alibi() { return alibi; }

    public int window() { return window; }

    @Override
    public List<TrainableParam> parameters(int heads, int headDim, int seqLen) { return List.of(); }

    private AttentionSpec spec(int threads) {
        AttentionSpec.Builder s = AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).returnLse(true).threads(threads);
        if (alibi) s.alibi(true);
        if (window > 0) s.window(window, 0);
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
