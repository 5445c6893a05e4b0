package org.attn4j.variants.local;

/**
 * Hyper-parameters of {@link CswinAttention}.
 *
 * @param grid   the H×W token grid, or null for a square grid of N
 * @param stripe stripe width sw >= 1 (rows per horizontal stripe, columns per vertical stripe)
 * @param lepe   whether LePE (a depthwise 3×3 convolution of V inside each stripe) is added
 * @param scale  logit scale, or null for 1/sqrt(D)
 */
public record CswinParams(int[] grid, int stripe, boolean lepe, Float scale) {
    /** sw = 2, CSWin-T's stripe width at its second stage (28×28 tokens); sensible for small grids. */
    public static final int DEFAULT_STRIPE = 2;

    public CswinParams {
        grid = LocalSupport.checkGrid(grid, 2);
        if (stripe < 1) throw new IllegalArgumentException("stripe: expected a stripe width >= 1, got " + stripe);
        scale = LocalSupport.checkScale(scale);
    }
}
