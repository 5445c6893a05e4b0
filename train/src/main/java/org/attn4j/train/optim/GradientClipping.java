package org.attn4j.train.optim;

import org.attn4j.train.Parameters;

/**
 * Global-norm gradient clipping: when ‖g‖₂ over all parameters exceeds {@code maxNorm}, every
 * gradient is scaled by {@code maxNorm/‖g‖₂}. The norm is summed in float64 in layout order (one
 * thread, fixed order: the same gradients always give the same norm, bit for bit).
 */
public final class GradientClipping {
    private GradientClipping() {}

    /** ‖g‖₂ of the whole gradient buffer. */
    public static double globalNorm(Parameters params) {
        double s = 0;
        for (float x : params.grads()) s += (double) x * x;
        return Math.sqrt(s);
    }

    /**
     * Scales the gradients so their global norm is at most {@code maxNorm} ({@code maxNorm ≤ 0} or
     * infinite: no clipping). Returns the norm before clipping.
     */
    public static double clip(Parameters params, double maxNorm) {
        double norm = globalNorm(params);
        if (maxNorm > 0 && Double.isFinite(maxNorm) && norm > maxNorm) {
            float scale = (float) (maxNorm / norm);
            float[] g = params.grads();
            for (int i = 0; i < g.length; i++) g[i] *= scale;
        }
        return norm;
    }
}
