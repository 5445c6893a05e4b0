package org.attn4j.variants.neighborhood;

/**
 * Chooses the query patch (block shape) for a neighbourhood problem. A patch of P positions per
 * dimension visits a key box of up to {@code P + kernel + stride − 2} positions per dimension, and
 * every query of the block is scored against every key of the box: small patches waste fewer
 * score entries, while the kernel's matrix products run at full speed only from 32 query columns
 * on (two AVX-512 vectors; 16 columns leave the score GEMM latency-bound, fewer use masked paths).
 * The cost per query is therefore {@code box keys / efficiency(patch queries)}; results never
 * depend on the choice.
 *
 * <p>Measured (1 thread, D = 64, AVX-512): 1-D kernel 256 picks 32 or 64 (equal within noise, 128 is
 * 20% slower); on the block-sparse kernel 2-D 7×7 on 64×64 picks 4×4 (4×8 23% slower, 2×8 12%,
 * 8×8 50%: the gathered-row tiles made 16 query columns nearly as fast as 32). Plain 2-D
 * neighbourhoods (dilation and stride 1, not causal) do not use patches: {@link ShiftedKernel2d}.
 */
final class Patches {
    private Patches() {}

    /** Relative speed of the score and value products for a block of q query columns (measured). */
    static double efficiency(int q) {
        if (q >= 64) return 1.0;
        if (q >= 48) return 0.97;
        if (q >= 32) return 0.93;
        if (q >= 16) return 0.7;
        return 0.25 * q / 16.0;
    }

    static int[] choose(int[] grid, int[] kernel, int[] dilation, int[] stride) {
        int dims = grid.length;
        int[] lg = new int[dims];
        for (int a = 0; a < dims; a++) lg[a] = (grid[a] + dilation[a] - 1) / dilation[a];
        int[] sizes = {1, 2, 4, 8, 16, 32, 64, 96, 128};
        int[] best = null;
        double bestCost = Double.MAX_VALUE;
        int[] p = new int[dims];
        int combos = 1;
        for (int a = 0; a < dims; a++) combos *= sizes.length;
        for (int code = 0; code < combos; code++) {
            int rem = code, queries = 1;
            for (int a = 0; a < dims; a++) {
                p[a] = Math.min(sizes[rem % sizes.length], lg[a]);
                rem /= sizes.length;
                queries *= p[a];
            }
            if (queries > 128) continue;
            double keys = 1;
            for (int a = 0; a < dims; a++) keys *= Math.min(lg[a], p[a] + kernel[a] + stride[a] - 2);
            double cost = keys / efficiency(queries);
            if (cost < bestCost - 1e-9) {
                bestCost = cost;
                best = p.clone();
            }
        }
        return best;
    }
}
