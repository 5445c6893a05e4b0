package org.attn4j.core.tensor;

import java.util.Arrays;

/**
 * Shape, strides (in elements) and offset of a strided view over a flat array.
 * Immutable. A stride of 0 marks a broadcast dimension.
 */
public final class Layout {
    private final int[] shape;
    private final int[] strides;
    private final int offset;

    public Layout(int[] shape, int[] strides, int offset) {
        if (shape.length != strides.length) {
            throw new IllegalArgumentException("shape has rank " + shape.length + " but strides have rank " + strides.length);
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException("shape: dimension " + i + " must be >= 0, got " + shape[i] + " in " + Arrays.toString(shape));
            }
        }
        if (offset < 0) throw new IllegalArgumentException("offset must be >= 0, got " + offset);
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.offset = offset;
    }

    /** Row-major (C order) layout of the given shape. */
    public static Layout contiguous(int... shape) {
        return new Layout(shape, contiguousStrides(shape), 0);
    }

    public static int[] contiguousStrides(int[] shape) {
        int[] s = new int[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = (int) acc;
            acc *= Math.max(shape[i], 1);
            if (acc > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^31-1 elements");
            }
        }
        return s;
    }

    public static long count(int[] shape) {
        long n = 1;
        for (int d : shape) n *= d;
        return n;
    }

    public int rank() { return shape.length; }
    public int dim(int axis) { return shape[axis]; }
    public int stride(int axis) { return strides[axis]; }
    public int[] shape() { return shape.clone(); }
    public int[] strides() { return strides.clone(); }
    public int offset() { return offset; }
    public long size() { return count(shape); }

    /** Flat index of an element. */
    public int index(int... idx) {
        if (idx.length != shape.length) {
            throw new IllegalArgumentException("index has rank " + idx.length + ", tensor has rank " + shape.length);
        }
        int p = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " outside shape " + Arrays.toString(shape));
            }
            p += idx[i] * strides[i];
        }
        return p;
    }

    /** Largest flat index this view can touch plus one (0 for an empty view). */
    public long extent() {
        long hi = offset;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 0) return 0;
            hi += (long) (shape[i] - 1) * strides[i];
        }
        return hi + 1;
    }

    public boolean isContiguous() {
        return Arrays.equals(strides, contiguousStrides(shape));
    }

    public Layout permute(int... axes) {
        if (axes.length != shape.length) {
            throw new IllegalArgumentException("permute: expected " + shape.length + " axes, got " + axes.length);
        }
        boolean[] seen = new boolean[axes.length];
        int[] s = new int[axes.length];
        int[] st = new int[axes.length];
        for (int i = 0; i < axes.length; i++) {
            int a = axes[i];
            if (a < 0 || a >= axes.length || seen[a]) {
                throw new IllegalArgumentException("permute: axes " + Arrays.toString(axes) + " are not a permutation of 0.." + (axes.length - 1));
            }
            seen[a] = true;
            s[i] = shape[a];
            st[i] = strides[a];
        }
        return new Layout(s, st, offset);
    }

    /**
     * This layout broadcast (numpy rules: align on the right, size-1 or missing dims stretch) to
     * {@code target}. Returns null when the shapes are not broadcast-compatible.
     */
    public Layout broadcastTo(int[] target) {
        if (shape.length > target.length) return null;
        int[] st = new int[target.length];
        int lead = target.length - shape.length;
        for (int i = 0; i < target.length; i++) {
            if (i < lead) { st[i] = 0; continue; }
            int d = shape[i - lead];
            if (d == target[i]) st[i] = strides[i - lead];
            else if (d == 1) st[i] = 0;
            else return null;
        }
        return new Layout(target, st, offset);
    }

    @Override
    public String toString() {
        return Arrays.toString(shape);
    }
}
