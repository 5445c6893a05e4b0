package org.attn4j.train.layers;

/**
 * A per-row normalisation over the last dimension ({@link LayerNorm} or {@link RmsNorm}): rows are
 * {@code [rows, C]} row-major.
 */
public interface Normalization {
    /** Normalises {@code rows} rows of {@code x}; returns the layer's output buffer. Keeps {@code x} for the backward. */
    float[] forward(float[] x, int rows);

    /** Accumulates {@code dInput += ∂loss/∂x} and the parameter gradients for {@code dOut} = ∂loss/∂y. */
    void backward(float[] dOut, float[] dInput);
}
