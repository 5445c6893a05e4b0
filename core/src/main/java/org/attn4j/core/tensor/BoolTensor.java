package org.attn4j.core.tensor;

import java.util.Arrays;

/** A boolean tensor (masks: {@code true} = attend), a strided view over a {@code boolean[]}. */
public final class BoolTensor {
    private final boolean[] data;
    private final Layout layout;

    private BoolTensor(boolean[] data, Layout layout) {
        if (layout.extent() > data.length) {
            throw new IllegalArgumentException("view " + layout + " reaches element " + (layout.extent() - 1) + " but the array has " + data.length);
        }
        this.data = data;
        this.layout = layout;
    }

    public static BoolTensor of(boolean[] data, int... shape) {
        long n = Layout.count(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("data has " + data.length + " elements but shape " + Arrays.toString(shape) + " needs " + n);
        }
        return new BoolTensor(data, Layout.contiguous(shape));
    }

    public static BoolTensor view(boolean[] data, Layout layout) {
        return new BoolTensor(data, layout);
    }

    public boolean[] data() { return data; }
    public Layout layout() { return layout; }
    public int rank() { return layout.rank(); }
    public int dim(int axis) { return layout.dim(axis); }
    public int[] shape() { return layout.shape(); }
    public long size() { return layout.size(); }
    public boolean get(int... idx) { return data[layout.index(idx)]; }
    public void set(boolean value, int... idx) { data[layout.index(idx)] = value; }
    public BoolTensor permute(int... axes) { return new BoolTensor(data, layout.permute(axes)); }

    @Override
    public String toString() {
        return "BoolTensor" + layout;
    }
}
