package org.attn4j.variants.local;

/**
 * Hyper-parameters of {@link LuongAttention}.
 *
 * @param mode   global (all source positions), local-m (window around p_t = t) or local-p (window
 *               around a predicted p_t, Gaussian-weighted)
 * @param score  dot {@code q·k}, general {@code q·W·k} or concat {@code vₐ·tanh(Wₐ[q; k])}
 * @param window the half-width D of the local window {@code [p_t − D, p_t + D]}, >= 0 (>= 1 for
 *               local-p, whose Gaussian has σ = D/2); ignored by global
 * @param scale  factor on the dot and general scores, or null for 1/sqrt(D) (1 gives the paper's
 *               unscaled scores); concat scores are never scaled (vₐ is their learned scale)
 */
public record LuongParams(Mode mode, Score score, int window, Float scale) {
    /** The paper's window half-width D = 10. */
    public static final int DEFAULT_WINDOW = 10;

    public enum Mode { GLOBAL, LOCAL_M, LOCAL_P }

    public enum Score { DOT, GENERAL, CONCAT }

    public LuongParams {
        if (mode == null) throw new IllegalArgumentException("mode: expected GLOBAL, LOCAL_M or LOCAL_P, got null");
        if (score == null) throw new IllegalArgumentException("score: expected DOT, GENERAL or CONCAT, got null");
        if (window < 0) throw new IllegalArgumentException("window: expected a half-width >= 0, got " + window);
        if (mode == Mode.LOCAL_P && window < 1) {
            throw new IllegalArgumentException("window: local-p needs a half-width >= 1 (its Gaussian has sigma = window/2), got " + window);
        }
        scale = LocalSupport.checkScale(scale);
    }
}
