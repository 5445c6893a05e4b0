package org.attn4j.variants.neighborhood;

import java.util.Arrays;

/**
 * Hyper-parameters of {@link NeighborhoodAttention} (GNA / NATTEN), one entry per grid dimension
 * (1, 2 or 3 dimensions, the last one varying fastest in the token order).
 *
 * @param kernel   window size per dimension, {@code >= 1}; every query sees {@code kernel} keys along
 *                 the dimension, except under causal masking: near the start, and with stride &gt; 1
 *                 for every query before its group leader (its window ends at the query itself)
 * @param dilation per dimension, {@code >= 1}; {@code kernel·dilation <= extent}. The axis splits into
 *                 {@code dilation} interleaved sub-sequences (equal positions mod dilation), each a
 *                 neighbourhood problem of its own
 * @param stride   per dimension, {@code 1 <= stride <= kernel}; consecutive groups of {@code stride}
 *                 queries (within a sub-sequence) share the window of their group leader (causal:
 *                 the leader's window start, each query's own position as the end)
 * @param causal   per dimension: keys at or before the query only, window {@code [leader−kernel+1, i]}
 * @param grid     token grid (extents per dimension, product N), or null to take N (1-D), a square
 *                 (2-D) or a cube (3-D) of N at run time
 * @param patch    query block shape per dimension in sub-sequence positions (performance only:
 *                 results do not depend on it), or null to choose one from the kernel size
 */
public record NeighborhoodParams(int[] kernel, int[] dilation, int[] stride, boolean[] causal, int[] grid, int[] patch) {

    public NeighborhoodParams {
        if (kernel == null) throw new IllegalArgumentException("kernel: expected 1 to 3 window sizes, got null");
        int n = kernel.length;
        if (n < 1 || n > 3) throw new IllegalArgumentException("kernel: expected 1 to 3 dimensions, got " + n + " " + Arrays.toString(kernel));
        kernel = kernel.clone();
        dilation = dilation == null ? filled(n, 1) : dilation.clone();
        stride = stride == null ? filled(n, 1) : stride.clone();
        causal = causal == null ? new boolean[n] : causal.clone();
        grid = grid == null ? null : grid.clone();
        patch = patch == null ? null : patch.clone();
        sameLength("dilation", dilation.length, n);
        sameLength("stride", stride.length, n);
        sameLength("causal", causal.length, n);
        if (grid != null) sameLength("grid", grid.length, n);
        if (patch != null) sameLength("patch", patch.length, n);
        for (int a = 0; a < n; a++) {
            if (kernel[a] < 1) throw new IllegalArgumentException("kernel: expected >= 1 in dimension " + a + ", got " + kernel[a]);
            if (dilation[a] < 1) throw new IllegalArgumentException("dilation: expected >= 1 in dimension " + a + ", got " + dilation[a]);
            if (stride[a] < 1 || stride[a] > kernel[a]) {
                throw new IllegalArgumentException("stride: expected 1.." + kernel[a] + " (at most the kernel) in dimension " + a + ", got " + stride[a]);
            }
            if (patch != null && patch[a] < 1) throw new IllegalArgumentException("patch: expected >= 1 in dimension " + a + ", got " + patch[a]);
        }
        if (grid != null) checkGrid(kernel, dilation, grid);
    }

    /** Plain neighbourhood attention: the given window sizes, no dilation, stride 1, not causal, grid from N. */
    public static NeighborhoodParams of(int... kernel) {
        return new NeighborhoodParams(kernel, null, null, null, null, null);
    }

    /** Number of grid dimensions. */
    public int dims() { return kernel.length; }

    @Override public int[] kernel() { return kernel.clone(); }
    @Override public int[] dilation() { return dilation.clone(); }
    @Override public int[] stride() { return stride.clone(); }
    @Override public boolean[] causal() { return causal.clone(); }
    @Override public int[] grid() { return grid == null ? null : grid.clone(); }
    @Override public int[] patch() { return patch == null ? null : patch.clone(); }

    /** The grid for N tokens: the given one (its product must be N) or N, √N×√N, ∛N×∛N×∛N; checked against kernel·dilation. */
    public int[] gridFor(int n) {
        int[] g;
        if (grid != null) {
            long prod = 1;
            for (int x : grid) prod *= x;
            if (prod != n) throw new IllegalArgumentException("grid: " + fmt(grid) + " has " + prod + " tokens, but the input has N=" + n);
            g = grid.clone();
        } else {
            int dims = kernel.length;
            int side = (int) Math.round(Math.pow(n, 1.0 / dims));
            long prod = 1;
            for (int a = 0; a < dims; a++) prod *= side;
            if (prod != n) {
                throw new IllegalArgumentException("grid: N=" + n + " is not a " + (dims == 2 ? "square" : "cube")
                        + "; give the grid explicitly (grid=" + (dims == 2 ? "HxW" : "DxHxW") + ")");
            }
            g = filled(dims, side);
        }
        checkGrid(kernel, dilation, g);
        return g;
    }

    private static void checkGrid(int[] kernel, int[] dilation, int[] grid) {
        for (int a = 0; a < kernel.length; a++) {
            if (grid[a] < 1) throw new IllegalArgumentException("grid: expected extents >= 1, got " + fmt(grid));
            if ((long) kernel[a] * dilation[a] > grid[a]) {
                throw new IllegalArgumentException("kernel: kernel·dilation must not exceed the grid extent in dimension " + a + " ("
                        + kernel[a] + "·" + dilation[a] + " > " + grid[a] + ", grid " + fmt(grid) + ")");
            }
        }
    }

    private static void sameLength(String name, int got, int n) {
        if (got != n) throw new IllegalArgumentException(name + ": expected " + n + " values (one per dimension, like kernel), got " + got);
    }

    private static int[] filled(int n, int value) {
        int[] a = new int[n];
        Arrays.fill(a, value);
        return a;
    }

    static String fmt(int[] xs) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < xs.length; i++) sb.append(i == 0 ? "" : "x").append(xs[i]);
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NeighborhoodParams p && Arrays.equals(kernel, p.kernel) && Arrays.equals(dilation, p.dilation)
                && Arrays.equals(stride, p.stride) && Arrays.equals(causal, p.causal) && Arrays.equals(grid, p.grid)
                && Arrays.equals(patch, p.patch);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {Arrays.hashCode(kernel), Arrays.hashCode(dilation), Arrays.hashCode(stride),
                Arrays.hashCode(causal), Arrays.hashCode(grid), Arrays.hashCode(patch)});
    }

    @Override
    public String toString() {
        return "NeighborhoodParams[kernel=" + fmt(kernel) + ", dilation=" + fmt(dilation) + ", stride=" + fmt(stride) + ", causal="
                + Arrays.toString(causal) + ", grid=" + (grid == null ? "auto" : fmt(grid)) + ", patch=" + (patch == null ? "auto" : fmt(patch)) + "]";
    }
}
