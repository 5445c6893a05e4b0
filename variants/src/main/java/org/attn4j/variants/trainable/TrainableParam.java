package org.attn4j.variants.trainable;

import java.util.Arrays;
import java.util.Objects;

/**
 * A learned tensor owned by a {@link TrainableAttention} (not the Q/K/V projections, which belong to
 * the attention block around it).
 *
 * @param name  name relative to the mechanism, e.g. {@code "gate"}; the training stack prefixes it
 *              with the block's name ({@code h.0.attn.gate})
 * @param shape dimensions, all positive
 * @param decay whether AdamW's weight decay applies (false for gates' biases, scales, norms)
 * @param init  how the training stack initialises it
 * @param std   standard deviation for {@link Init#NORMAL}; ignored otherwise
 */
public record TrainableParam(String name, int[] shape, boolean decay, Init init, float std) {
    /** How a parameter starts. */
    public enum Init {
        /** All zeros. */
        ZERO,
        /** All ones. */
        ONE,
        /** N(0, std²), drawn by the training stack from its seed. */
        NORMAL,
        /** The identity matrix in the last two dimensions (each leading index gets its own). */
        IDENTITY
    }

    public TrainableParam {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(init, "init");
        shape = shape.clone();
        for (int s : shape) {
            if (s <= 0) throw new IllegalArgumentException("shape: dimensions must be positive, got " + Arrays.toString(shape) + " for " + name);
        }
        if (init == Init.IDENTITY && (shape.length < 2 || shape[shape.length - 1] != shape[shape.length - 2])) {
            throw new IllegalArgumentException("init: IDENTITY needs square last two dimensions, got " + Arrays.toString(shape) + " for " + name);
        }
    }

    @Override
    public int[] shape() { return shape.clone(); }

    /** Number of elements. */
    public int size() {
        int n = 1;
        for (int s : shape) n *= s;
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainableParam p && p.name.equals(name) && Arrays.equals(p.shape, shape)
                && p.decay == decay && p.init == init && Float.compare(p.std, std) == 0;
    }

    @Override
    public int hashCode() { return name.hashCode() * 31 + Arrays.hashCode(shape); }

    @Override
    public String toString() { return name + Arrays.toString(shape) + " " + init + (decay ? " decay" : ""); }
}
