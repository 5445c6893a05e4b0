package org.attn4j.variants.neighborhood;

/**
 * Chooses the query patch (block shape) for a neighbourhood problem: a patch of P positions per
 * dimension visits a key box of about {@code P + kernel − 1} positions per dimension, so small
 * patches waste fewer score entries, while the kernel's matrix products want 16 to 64 queries per
 * block. The cost model below (computed entries per query, divided by a measured efficiency of the
 * block size) picks the shape; results never depend on it.
 */
final class Patches {
    private Patches() {}

    /** Relative speed of a block of q query columns (matrix products of q columns; measured, AVX-512). */
    static double efficiency(int q) {
        if (q >= 64) return 1.0;
        if (q >= 48) return 0.95;
        if (q >= 32) return 0.9;
        if (q >= 16) return 0.75;
        return 0.4 * q / 16.0 + 0.1;
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
            // Entries computed per query, over the block's speed; gathering (2-D/3-D) costs a little per key row.
            double cost = keys / queries / efficiency(queries) + (dims > 1 ? 0.05 * keys / queries : 0);
            if (cost < bestCost - 1e-9) {
                bestCost = cost;
                best = p.clone();
            }
        }
        return best;
    }
}
