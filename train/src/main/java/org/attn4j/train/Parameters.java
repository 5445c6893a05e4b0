package org.attn4j.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * All trainable parameters of a model in one flat float32 buffer, and their gradients in a second
 * buffer with the same layout (llm.c's way: the optimiser, clipping and checkpoints are loops over
 * one array, and a layer finds its tensors by offset).
 *
 * <p>Each named tensor is a contiguous, row-major slice {@code values[offset, offset + size)}; its
 * gradient is {@code grads[offset, offset + size)}. Tensors are laid out in the order they were
 * added. Layers' backward passes <em>accumulate</em> into {@link #grads()}; call {@link #zeroGrad()}
 * before each step (or after several, to accumulate gradients over micro-batches).
 */
public final class Parameters {

    /**
     * One named tensor in the flat buffers.
     *
     * @param name   a stable name, e.g. {@code h.0.attn.c_attn.weight}
     * @param offset its first element in {@link #values()} and {@link #grads()}
     * @param shape  its row-major shape
     * @param decay  whether AdamW's weight decay applies to it (by default only to matrices of
     *               linear layers, not to norms, biases or embeddings)
     */
    public record Param(String name, int offset, int[] shape, boolean decay) {
        public Param {
            shape = shape.clone();
        }

        /** Number of elements. */
        public int size() {
            int n = 1;
            for (int s : shape) n = Math.multiplyExact(n, s);
            return n;
        }

        @Override
        public int[] shape() { return shape.clone(); }

        /** Size of dimension {@code axis}. */
        public int dim(int axis) { return shape[axis]; }

        @Override
        public boolean equals(Object o) {
            return o instanceof Param p && p.name.equals(name) && p.offset == offset && Arrays.equals(p.shape, shape) && p.decay == decay;
        }

        @Override
        public int hashCode() { return name.hashCode() * 31 + offset; }

        @Override
        public String toString() { return name + Arrays.toString(shape) + "@" + offset + (decay ? " decay" : ""); }
    }

    private final List<Param> params;
    private final Map<String, Param> byName;
    private final float[] values;
    private final float[] grads;

    private Parameters(List<Param> params, int size) {
        this.params = Collections.unmodifiableList(new ArrayList<>(params));
        Map<String, Param> m = new LinkedHashMap<>();
        for (Param p : params) m.put(p.name(), p);
        this.byName = Collections.unmodifiableMap(m);
        this.values = new float[size];
        this.grads = new float[size];
    }

    /** A builder that assigns offsets in the order tensors are added. */
    public static Builder builder() { return new Builder(); }

    /** The tensors in layout order. */
    public List<Param> params() { return params; }

    /** The tensor called {@code name}; throws IllegalArgumentException naming it when there is none. */
    public Param get(String name) {
        Param p = byName.get(name);
        if (p == null) throw new IllegalArgumentException("name: no parameter tensor called '" + name + "' (have " + byName.keySet() + ")");
        return p;
    }

    /** Whether there is a tensor called {@code name}. */
    public boolean contains(String name) { return byName.containsKey(name); }

    /** The flat parameter buffer (live, not a copy). */
    public float[] values() { return values; }

    /** The flat gradient buffer, same layout as {@link #values()} (live, not a copy). */
    public float[] grads() { return grads; }

    /** Total number of parameters. */
    public int size() { return values.length; }

    /** Sets every gradient to zero. */
    public void zeroGrad() { Arrays.fill(grads, 0f); }

    /** Builds a {@link Parameters}: tensors get consecutive offsets in the order added. */
    public static final class Builder {
        private final List<Param> params = new ArrayList<>();
        private final Map<String, Param> names = new LinkedHashMap<>();
        private int size;

        private Builder() {}

        /** Adds a tensor of the given shape; throws on a duplicate name or a non-positive dimension. */
        public Param add(String name, boolean decay, int... shape) {
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("name: expected a non-empty name, got " + name);
            if (names.containsKey(name)) throw new IllegalArgumentException("name: duplicate parameter tensor '" + name + "'");
            for (int s : shape) {
                if (s <= 0) throw new IllegalArgumentException("shape: dimensions of '" + name + "' must be positive, got " + Arrays.toString(shape));
            }
            Param p = new Param(name, size, shape, decay);
            size = Math.addExact(size, p.size());
            params.add(p);
            names.put(name, p);
            return p;
        }

        public Parameters build() { return new Parameters(params, size); }
    }
}
