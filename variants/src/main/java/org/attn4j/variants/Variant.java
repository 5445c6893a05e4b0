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
