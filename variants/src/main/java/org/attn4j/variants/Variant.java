package org.attn4j.variants;

import org.attn4j.core.tensor.Tensor;

/**
 * One attention mechanism with its hyper-parameters (and learned parameters, if any) fixed.
 *
 * <p>Inputs are {@code q [B, H, Nq, D]}, {@code k [B, Hkv, Nk, D]}, {@code v [B, Hkv, Nk, Dv]}
 * (strided views accepted); spatial variants read N as a token grid given by their {@code grid}
 * parameter, row-major (last dimension fastest). Unless the class says otherwise the output is
 * {@code [B, H, Nq, Dv]} and the logit scale is {@code 1/sqrt(D)}. Bad shapes or parameters throw
 * IllegalArgumentException naming the argument. Instances are immutable and thread-safe.
 *
 * <p><b>Seeded constructors.</b> A constructor that takes {@code long seed} (as the registry's
 * builders do) stands in for trained weights: it draws the learned parameters with {@link Init} from
 * (seed, parameter name, input shape), so the same seed and settings give the same parameters and
 * outputs on every machine, thread count and call order, and another seed gives independent ones.
 * Parameters that depend on the input shape are drawn on first use of that shape and kept in a
 * bounded {@link ShapeCache} (an evicted shape is drawn again identically). Where a class also has a
 * constructor taking explicit weights, that is the one for trained parameters; its input shapes must
 * then match the weights.
 */
public interface Variant {
    /** Registry name, paper, family, exactness. */
    VariantInfo info();

    /**
     * Runs the mechanism.
     *
     * @param threads worker threads; 0 means all cores
     */
    VariantResult run(Tensor q, Tensor k, Tensor v, int threads);

    /**
     * Whether output i depends only on keys j ≤ i (with this variant's settings). The benchmark
     * compares a causal variant against causal exact attention, a non-causal one against full.
     */
    default boolean causal() {
        return false;
    }

    /** {@link #run} on all cores, output only. */
    default Tensor forward(Tensor q, Tensor k, Tensor v) {
        return run(q, k, v, 0).output();
    }
}
