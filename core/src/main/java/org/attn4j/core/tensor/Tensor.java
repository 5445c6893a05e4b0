package org.attn4j.core.tensor;

import java.util.Arrays;

/**
 * A float32 tensor: a strided view over a {@code float[]}. Views ({@link #permute}) share the
 * array; nothing is copied unless a method says so.
 *
 * <p>Attention inputs use the logical layout {@code [B, H, N, D]}; a buffer stored as
 * {@code [B, N, H, D]} is passed as {@code Tensor.of(data, B, N, H, D).permute(0, 2, 1, 3)}.
 */
public final class Tensor {
    private final float[] data;
    private final Layout layout;

    private Tensor(float[] data, Layout layout) {
        if (layout.extent() > data.length) {
            throw new IllegalArgumentException("view " + layout + " with strides " + Arrays.toString(layout.strides())
                    + " and offset " + layout.offset() + " reaches element " + (layout.extent() - 1)
                    + " but the array has " + data.length);
        }
        this.data = data;
        this.layout = layout;
    }

    /** Wraps {@code data} as a row-major tensor; its length must equal the product of {@code shape}. */
    public static Tensor of(float[] data, int... shape) {
        long n = Layout.count(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("data has " + data.length + " elements but shape " + Arrays.toString(shape) + " needs " + n);
        }
        return new Tensor(data, Layout.contiguous(shape));
    }

    /** A strided view; strides and offset are in elements. */
    public static Tensor view(float[] data, int offset, int[] shape, int[] strides) {
        return new Tensor(data, new Layout(shape, strides, offset));
    }

    public static Tensor view(float[] data, Layout layout) {
        return new Tensor(data, layout);
    }

    public static Tensor zeros(int... shape) {
        long n = Layout.count(shape);
        if (n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large for one array");
        return new Tensor(new float[(int) n], Layout.contiguous(shape));
    }

    /**
     * The backing array itself, not a copy: writes to it change this tensor and every view that
     * shares it. It is the whole array, so for a view (a {@link #permute permuted} or
     * {@link #view strided} tensor, or one with a nonzero {@link #offset}) element {@code [i, j, …]}
     * is {@code data()[offset() + i·stride(0) + j·stride(1) + …]}, not {@code data()[row-major
     * index]}, and the array may hold elements outside the view. Use {@link #toArray} for the
     * elements in row-major order, or check {@link #isContiguous} (and {@link #offset}) first.
     */
    public float[] data() { return data; }
    public Layout layout() { return layout; }
    public int rank() { return layout.rank(); }
    public int dim(int axis) { return layout.dim(axis); }
    public int stride(int axis) { return layout.stride(axis); }
    public int offset() { return layout.offset(); }
    public int[] shape() { return layout.shape(); }
    public int[] strides() { return layout.strides(); }
    public long size() { return layout.size(); }
    public boolean isContiguous() { return layout.isContiguous(); }

    /**
     * The element at {@code idx} (one index per axis, through the view's offset and strides).
     *
     * @throws IllegalArgumentException if {@code idx} has the wrong number of indices
     * @throws IndexOutOfBoundsException if an index is outside its axis
     */
    public float get(int... idx) { return data[layout.index(idx)]; }

    /**
     * Writes {@code value} at {@code idx} in the backing array, so every view sharing the array
     * sees it (a permuted view of this tensor, or the tensor this one is a view of). Same errors as
     * {@link #get}. Per-element access checks every index: for loops over many elements, read
     * {@link #toArray} or {@link #data} with the strides instead.
     */
    public void set(float value, int... idx) { data[layout.index(idx)] = value; }

    /** A view with axes reordered: result dim i is this tensor's dim {@code axes[i]}. */
    public Tensor permute(int... axes) { return new Tensor(data, layout.permute(axes)); }

    /** A view of the same data with a new shape; only for contiguous tensors. */
    public Tensor reshape(int... shape) {
        if (!isContiguous()) throw new IllegalArgumentException("reshape needs a contiguous tensor; call contiguous() first");
        if (Layout.count(shape) != size()) {
            throw new IllegalArgumentException("reshape: " + Arrays.toString(shape) + " has " + Layout.count(shape) + " elements, tensor has " + size());
        }
        return new Tensor(data, new Layout(shape, Layout.contiguousStrides(shape), layout.offset()));
    }

    /** This tensor if it is row-major, else a row-major copy. */
    public Tensor contiguous() {
        return isContiguous() ? this : Tensor.of(toArray(), shape());
    }

    /** A row-major copy of the elements. */
    public float[] toArray() {
        long n = size();
        float[] out = new float[(int) n];
        if (isContiguous()) {
            System.arraycopy(data, layout.offset(), out, 0, (int) n);
            return out;
        }
        int[] shape = layout.shape();
        int[] strides = layout.strides();
        int[] idx = new int[shape.length];
        int base = layout.offset();
        for (int o = 0; o < n; o++) {
            int p = base;
            for (int a = 0; a < idx.length; a++) p += idx[a] * strides[a];
            out[o] = data[p];
            for (int a = idx.length - 1; a >= 0; a--) {
                if (++idx[a] < shape[a]) break;
                idx[a] = 0;
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return "Tensor" + layout;
    }
}
