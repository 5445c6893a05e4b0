package org.attn4j.variants.neighborhood;

import org.attn4j.core.attention.SparseAttention;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P102 — Generalized Neighborhood Attention (GNA, NATTEN): every token of a 1-D, 2-D or 3-D grid
 * attends to a window of {@code kernel} keys per dimension around it, optionally dilated, strided
 * (groups of {@code stride} queries share one window) and causal per dimension; see
 * {@link NeighborhoodPattern} for the exact window rule, which follows NATTEN's.
 *
 * <p>Contract: {@code q [B, H, N, D]}, {@code k, v [B, Hkv, N, D|Dv]} (H a multiple of Hkv) with N
 * tokens in row-major grid order (last dimension fastest). Output {@code [B, H, N, Dv]}:
 * {@code out_i = Σ_{j ∈ NB(i)} softmax_j(q_i·k_j / √D)·v_j}, NB(i) the token's neighbourhood.
 *
 * <p>Runs on the engine's block-sparse flash kernel ({@link SparseAttention}): queries go in spatial
 * patches, each patch visits only the key rows of its neighbourhood box, so the work is about
 * N·prod(kernel) instead of N², with no N×N mask. Plain 2-D neighbourhoods (dilation and stride 1,
 * not causal) run on {@link ShiftedKernel2d} instead, which computes only the window's scores.
 */
public final class NeighborhoodAttention implements Variant {
    private final VariantInfo info;
    private final NeighborhoodParams params;

    public NeighborhoodAttention(NeighborhoodParams params) {
        this.params = params;
        int dims = params.dims();
        this.info = new VariantInfo("neighborhood-" + dims + "d", "P102", "Generalized Neighborhood Attention", Family.S, true,
                dims + "-D neighbourhood attention (kernel, dilation, stride, causal per dimension) on the block-sparse flash kernel");
    }

    public NeighborhoodParams params() { return params; }

    /** Causal in the token order when every dimension is causal (row-major: then each key index ≤ the query's). */
    @Override
    public boolean causal() {
        for (boolean c : params.causal()) if (!c) return false;
        return true;
    }

    @Override
    public VariantInfo info() { return info; }

    /** The key pattern for N tokens (grid resolved from the params). */
    public NeighborhoodPattern pattern(int n) {
        int[] grid = params.gridFor(n);
        int[] kernel = params.kernel(), dilation = params.dilation(), stride = params.stride();
        int[] patch = params.patch() != null ? params.patch() : Patches.choose(grid, kernel, dilation, stride);
        return new NeighborhoodPattern(grid, kernel, dilation, stride, params.causal(), patch);
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        // Both kernels behave alike (SparseAttention rejects a negative count too).
        if (threads < 0) throw new IllegalArgumentException("threads: expected >= 1 (or 0 for all processors), got " + threads);
        int[] grid = params.gridFor(s.nq());
        if (ShiftedKernel2d.applies(grid, params.kernel(), params.dilation(), params.stride(), params.causal(), q, k, v)) {
            ShiftedKernel2d.Result r = ShiftedKernel2d.run(q, k, v, grid, params.kernel(), (float) (1.0 / Math.sqrt(q.dim(3))), threads);
            return new VariantResult(r.output(), r.flops());
        }
        SparseAttention.Result r = SparseAttention.run(q, k, v, pattern(s.nq()), null, threads);
        return new VariantResult(r.output(), r.flops());
    }
}
