package org.attn4j.variants.trainable;

import java.util.List;
import java.util.Map;
import org.attn4j.core.tensor.Tensor;

/**
 * An attention mechanism that can be trained: a causal forward that keeps what its backward needs,
 * and a backward that returns the gradients of its inputs and adds those of its own parameters.
 *
 * <p>Shapes: {@code q [B, H, N, D]}, {@code k [B, H, N, D]}, {@code v [B, H, N, D]} (strided views
 * accepted, the training stack passes views into its fused QKV buffer), output {@code [B, H, N, D]}.
 * Output row i may depend only on keys j ≤ i: the training tasks are next-token prediction.
 *
 * <p>Parameters are declared once per shape by {@link #parameters}; the training stack owns their
 * storage and passes them by name as views into its flat buffers, so the optimiser and checkpoints
 * see them like any other tensor. {@code forward} reads {@code weights}; {@code backward} adds
 * (never overwrites) into {@code grads}, which has the same names and shapes.
 *
 * <p>Determinism: for the same inputs, weights and {@code threads}, forward and backward give
 * bit-identical results. Instances hold settings only and are thread-safe; per-call state lives in
 * the returned {@link Saved}.
 */
public interface TrainableAttention {
    /** Registry name ({@code full}, {@code linear}, ...). */
    String name();

    /**
     * The learned tensors this mechanism owns for {@code heads} heads of size {@code headDim} over
     * sequences of {@code seqLen}; empty when it has none. Throws IllegalArgumentException naming the
     * setting when the shape does not suit it (e.g. a block size that does not divide seqLen).
     */
    List<TrainableParam> parameters(int heads, int headDim, int seqLen);

    /** Runs the causal forward; {@code threads} as in {@code Variant.run} (0 = all cores). */
    Saved forward(Tensor q, Tensor k, Tensor v, Map<String, Tensor> weights, int threads);

    /**
     * Gradients of the loss with respect to q, k and v (fresh tensors, shapes of the inputs) for
     * {@code dOut = ∂loss/∂output}; adds ∂loss/∂θ for each own parameter into {@code grads}.
     */
    Gradients backward(Saved saved, Tensor dOut, Map<String, Tensor> grads, int threads);

    /** What one forward produced and kept for its backward. */
    interface Saved {
        /** The attention output {@code [B, H, N, D]}. */
        Tensor output();
    }

    /** Gradients of the inputs. */
    record Gradients(Tensor dq, Tensor dk, Tensor dv) {}
}
