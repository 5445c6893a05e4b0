package org.attn4j.models.decoder;

import org.attn4j.core.tensor.Tensor;

/**
 * The keys and values of one sequence, per layer {@code [kvHeads, capacity, headDim]} (one
 * contiguous run of positions per head, so the first {@code n} positions of a head are one strided
 * view for the attention kernels). Holds every position (the "full" policy).
 */
public final class KvCache {
    private final int kvHeads, headDim, capacity;
    private final float[][] k, v;
    private int length;

    /** A cache for {@code capacity} positions of a model with {@code c}'s shape. */
    public KvCache(DecoderConfig c, int capacity) {
        if (capacity <= 0) throw new IllegalArgumentException("capacity: expected > 0 positions, got " + capacity);
        long perLayer = (long) c.kvHeads() * capacity * c.headDim();
        if (perLayer > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("capacity: " + capacity + " positions need " + perLayer + " floats per layer, more than one array holds");
        this.kvHeads = c.kvHeads();
        this.headDim = c.headDim();
        this.capacity = capacity;
        this.k = new float[c.layers()][(int) perLayer];
        this.v = new float[c.layers()][(int) perLayer];
    }

    /** Positions held. */
    public int length() { return length; }

    /** Positions it can hold. */
    public int capacity() { return capacity; }

    /** Forgets every position (the arrays are reused). */
    public void clear() { length = 0; }

    /** Drops positions {@code >= n} (e.g. to re-run a shorter prompt). */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("n: expected 0.." + length + ", got " + n);
        length = n;
    }

    void advance(int n) { length += n; }

    /**
     * Stores {@code t} rows of keys and values for {@code layer} at positions {@code length..length+t-1};
     * {@code kRows, vRows} are {@code [t, kvHeads·headDim]}.
     */
    void put(int layer, float[] kRows, float[] vRows, int t) {
        if (length + t > capacity) throw new IllegalStateException("KV cache full: " + length + " + " + t + " positions > capacity " + capacity);
        int w = kvHeads * headDim;
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < kvHeads; h++) {
                int dst = (h * capacity + length + i) * headDim;
                System.arraycopy(kRows, i * w + h * headDim, k[layer], dst, headDim);
                System.arraycopy(vRows, i * w + h * headDim, v[layer], dst, headDim);
            }
        }
    }

    /** Keys of {@code layer}, positions {@code [0, n)}, as {@code [1, kvHeads, n, headDim]} (a view). */
    Tensor keys(int layer, int n) { return view(k[layer], n); }

    /** Values of {@code layer}, positions {@code [0, n)}, as {@code [1, kvHeads, n, headDim]} (a view). */
    Tensor values(int layer, int n) { return view(v[layer], n); }

    private Tensor view(float[] a, int n) {
        return Tensor.view(a, 0, new int[] {1, kvHeads, n, headDim}, new int[] {kvHeads * capacity * headDim, capacity * headDim, headDim, 1});
    }
}
