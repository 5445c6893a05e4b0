package org.attn4j.variants.local;

import java.util.Arrays;

/**
 * Hyper-parameters of {@link HaloAttention}.
 *
 * @param dims  1 (a sequence) or 2 (a row-major H×W grid)
 * @param grid  the token grid ({@code dims} extents), or null for N (1-D) or a square grid of N (2-D)
 * @param block query block extent per dimension (HaloNet's b), each >= 1
 * @param halo  halo per dimension (HaloNet's h), each >= 0: a block's keys are the block grown by
 *              the halo on every side, clipped to the grid
 * @param scale logit scale, or null for 1/sqrt(D)
 * @param zeroPadding false (default): window positions beyond the grid are masked out; true: they
 *              are zero keys with zero values, as HaloNet's zero-padded feature map gives (each adds
 *              e^0 to the softmax denominator and nothing to the numerator)
 */
public record HaloParams(int dims, int[] grid, int[] block, int[] halo, Float scale, boolean zeroPadding) {
    /** HaloNet's standard block b = 8 and halo h = 3 (the paper's configuration). */
    public static final int DEFAULT_BLOCK = 8, DEFAULT_HALO = 3;

    public HaloParams {
        if (dims != 1 && dims != 2) throw new IllegalArgumentException("dims: expected 1 or 2, got " + dims);
        grid = LocalSupport.checkGrid(grid, dims);
        if (block == null || block.length != dims) {
            throw new IllegalArgumentException("block: expected " + dims + " extents, got " + (block == null ? "null" : Arrays.toString(block)));
        }
        for (int b : block) if (b < 1) throw new IllegalArgumentException("block: expected extents >= 1, got " + Arrays.toString(block));
        if (halo == null || halo.length != dims) {
            throw new IllegalArgumentException("halo: expected " + dims + " values, got " + (halo == null ? "null" : Arrays.toString(halo)));
        }
        for (int h : halo) if (h < 0) throw new IllegalArgumentException("halo: expected values >= 0, got " + Arrays.toString(halo));
        block = block.clone();
        halo = halo.clone();
        scale = LocalSupport.checkScale(scale);
    }

    /** Square blocks and halos of the same size in every dimension. */
    public static HaloParams of(int dims, int[] grid, int block, int halo) {
        int[] b = new int[dims], h = new int[dims];
        Arrays.fill(b, block);
        Arrays.fill(h, halo);
        return new HaloParams(dims, grid, b, h, null, false);
    }
}
