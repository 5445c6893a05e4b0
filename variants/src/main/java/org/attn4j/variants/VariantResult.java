package org.attn4j.variants;

import org.attn4j.core.tensor.Tensor;

/**
 * A variant's output and the work it did.
 *
 * @param output [B, H, N, Dv] (or the shape the variant documents)
 * @param flops  floating-point operations actually executed by the mechanism's main loops
 *               (multiply and add counted separately, so a D-long dot product is 2·D); skipped
 *               tiles are not counted. The benchmark divides the dense-attention count
 *               {@code 2·B·H·Nq·Nk·(D + Dv)} by this to report the work saved.
 */
public record VariantResult(Tensor output, long flops) {
    /** FLOPs of exact dense attention with the given shape (the two GEMMs; softmax not counted). */
    public static long denseFlops(int batch, int heads, int nq, int nk, int d, int dv) {
        return 2L * batch * heads * nq * nk * (d + dv);
    }
}
