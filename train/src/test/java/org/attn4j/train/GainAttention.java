package org.attn4j.train;

import java.util.List;
import java.util.Map;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.trainable.ExactTrainableAttention;
import org.attn4j.variants.trainable.TrainableAttention;
import org.attn4j.variants.trainable.TrainableParam;

/**
 * A test mechanism with learned tensors of every initialisation kind, to check how the training
 * stack declares, initialises, passes and updates a mechanism's own parameters:
 * {@code out[b,h,t,:] = gain[h]·mix[h]·a[b,h,t,:] + shift[h]}, with {@code a} the exact causal
 * attention. {@code gain} [H] starts at ONE, {@code mix} [H, D, D] at IDENTITY (so the mechanism
 * starts as exact attention), {@code shift} [H] at ZERO, {@code unused} [3] NORMAL(0.5) (never read,
 * so its gradient stays 0).
 */
final class GainAttention implements TrainableAttention {
    private final ExactTrainableAttention exact = new ExactTrainableAttention(false, 0);

    @Override
    public String name() { return "gain-test"; }

    @Override
    public List<TrainableParam> parameters(int heads, int headDim, int seqLen) {
        return List.of(new TrainableParam("gain", new int[] {heads}, false, TrainableParam.Init.ONE, 0),
                new TrainableParam("mix", new int[] {heads, headDim, headDim}, true, TrainableParam.Init.IDENTITY, 0),
                new TrainableParam("shift", new int[] {heads}, false, TrainableParam.Init.ZERO, 0),
                new TrainableParam("unused", new int[] {3}, false, TrainableParam.Init.NORMAL, 0.5f));
    }

    private record State(Saved inner, Tensor output, Tensor gain, Tensor mix) implements Saved {}

    @Override
    public Saved forward(Tensor q, Tensor k, Tensor v, Map<String, Tensor> weights, int threads) {
        Saved inner = exact.forward(q, k, v, weights, threads);
        Tensor a = inner.output(), gain = weights.get("gain"), mix = weights.get("mix"), shift = weights.get("shift");
        int b = a.dim(0), h = a.dim(1), n = a.dim(2), d = a.dim(3);
        Tensor out = Tensor.zeros(b, h, n, d);
        for (int bi = 0; bi < b; bi++) for (int hi = 0; hi < h; hi++) for (int t = 0; t < n; t++) for (int i = 0; i < d; i++) {
            float s = 0;
            for (int e = 0; e < d; e++) s += mix.get(hi, i, e) * a.get(bi, hi, t, e);
            out.set(gain.get(hi) * s + shift.get(hi), bi, hi, t, i);
        }
        return new State(inner, out, gain, mix);
    }

    @Override
    public Gradients backward(Saved saved, Tensor dOut, Map<String, Tensor> grads, int threads) {
        State st = (State) saved;
        Tensor a = st.inner().output();
        int b = a.dim(0), h = a.dim(1), n = a.dim(2), d = a.dim(3);
        Tensor gGain = grads.get("gain"), gMix = grads.get("mix"), gShift = grads.get("shift");
        Tensor da = Tensor.zeros(b, h, n, d);
        for (int bi = 0; bi < b; bi++) for (int hi = 0; hi < h; hi++) for (int t = 0; t < n; t++) {
            float gain = st.gain().get(hi);
            for (int i = 0; i < d; i++) {
                float go = dOut.get(bi, hi, t, i), s = 0;
                for (int e = 0; e < d; e++) {
                    s += st.mix().get(hi, i, e) * a.get(bi, hi, t, e);
                    gMix.set(gMix.get(hi, i, e) + gain * go * a.get(bi, hi, t, e), hi, i, e);
                    da.set(da.get(bi, hi, t, e) + gain * st.mix().get(hi, i, e) * go, bi, hi, t, e);
                }
                gGain.set(gGain.get(hi) + go * s, hi);
                gShift.set(gShift.get(hi) + go, hi);
            }
        }
        return exact.backward(st.inner(), da, Map.of(), threads);
    }
}
