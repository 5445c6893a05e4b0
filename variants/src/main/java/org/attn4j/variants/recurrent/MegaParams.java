package org.attn4j.variants.recurrent;

/**
 * Hyper-parameters of {@link MegaAttention}. Widths of 0 mean "relative to the model width d = H·D":
 * {@code zdim = max(1, d/2)}, {@code vdim = 2·d}.
 *
 * @param zdim      width z of the shared query/key representation Z (0 = d/2)
 * @param vdim      width of the attention values and reset gate (0 = 2·d)
 * @param ndim      EMA expansion dimension h per channel (≥ 1)
 * @param attention the attention function on the scores
 * @param causal    causal attention mask (the EMA is always causal)
 * @param chunk     Mega-chunk: attention only within consecutive chunks of this many tokens
 *                  (the last may be shorter); 0 = one chunk, the whole sequence
 */
public record MegaParams(int zdim, int vdim, int ndim, Activation attention, boolean causal, int chunk) {
    /** Mega's attention functions. */
    public enum Activation {
        /** softmax(Q Kᵀ / sqrt(z) + bias) */
        SOFTMAX,
        /** laplace(Q Kᵀ / len + bias) = ½(1 + erf((s − μ)/(σ√2))), μ = √½, σ = √(1/4π); no normalisation */
        LAPLACE,
        /** relu(Q Kᵀ / len + bias)²; no normalisation */
        RELU2
    }

    public MegaParams {
        if (zdim < 0) throw new IllegalArgumentException("zdim: expected >= 0 (0 = d/2), got " + zdim);
        if (vdim < 0) throw new IllegalArgumentException("vdim: expected >= 0 (0 = 2·d), got " + vdim);
        if (ndim < 1) throw new IllegalArgumentException("ndim: expected >= 1, got " + ndim);
        if (attention == null) throw new IllegalArgumentException("attention: expected softmax, laplace or relu2, got null");
        if (chunk < 0) throw new IllegalArgumentException("chunk: expected >= 0 (0 = whole sequence), got " + chunk);
    }

    int z(int d) { return zdim > 0 ? zdim : Math.max(1, d / 2); }

    int v(int d) { return vdim > 0 ? vdim : 2 * d; }
}
