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
    private final KvPolicy policy;
    /** Accumulated attention per layer, key/value head and slot (H2O), or null. */
    private final float[][] scores;
    private int length;
    /** Tokens seen (the next token's position in the text). */
    private int seen;

    /** A cache for {@code capacity} positions of a model with {@code c}'s shape that keeps everything. */
    public KvCache(DecoderConfig c, int capacity) {
        this(c, capacity, new KvPolicy.Full());
    }

    /**
     * A cache under {@code policy}: it holds at most {@code min(capacity, policy.budget())} keys per
     * layer; {@code capacity} bounds the tokens of one {@link DecoderModel#forward} call while the
     * budget is not reached.
     */
    public KvCache(DecoderConfig c, int capacity, KvPolicy policy) {
        if (policy == null) throw new IllegalArgumentException("policy: expected a KvPolicy, got null");
        this.policy = policy;
        capacity = Math.min(capacity, policy.budget());
        if (capacity <= 0) throw new IllegalArgumentException("capacity: expected > 0 positions, got " + capacity);
        long perLayer = (long) c.kvHeads() * capacity * c.headDim();
        if (perLayer > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("capacity: " + capacity + " positions need " + perLayer + " floats per layer, more than one array holds");
        this.kvHeads = c.kvHeads();
        this.headDim = c.headDim();
        this.capacity = capacity;
        this.scores = policy.perHeadScores() ? new float[c.layers()][c.kvHeads() * capacity] : null;
        this.k = new float[c.layers()][(int) perLayer];
        this.v = new float[c.layers()][(int) perLayer];
    }

    /** Positions held. */
    public int length() { return length; }

    /** Tokens seen so far (evicted ones included). */
    public int seen() { return seen; }

    public KvPolicy policy() { return policy; }

    /** The position the next token takes: its slot under a cache-position policy, else its place in the text. */
    int nextPosition() { return policy.cachePositions() ? length : seen; }

    /** Positions it can hold. */
    public int capacity() { return capacity; }

    /** Forgets every position (the arrays are reused). */
    public void clear() { length = 0; seen = 0; }

    /** Drops positions {@code >= n} (e.g. to re-run a shorter prompt). */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("n: expected 0.." + length + ", got " + n);
        if (length != seen) throw new IllegalStateException("truncate: positions were evicted; only a cache that kept every token can be truncated");
        length = n;
        seen = n;
    }

    /** Adds {@code p} to the score of {@code slot} of key/value head {@code h} in {@code layer}. */
    void addScore(int layer, int h, int slot, float p) { scores[layer][h * capacity + slot] += p; }

    /**
     * H2O's eviction of one slot per layer and key/value head: the lowest accumulated score among
     * slots {@code [0, length − recent)}, the earliest on ties; later slots (keys, values, scores) move down.
     */
    void evictLowestScore(int recent) {
        int candidates = length - recent;
        for (int l = 0; l < k.length; l++) {
            for (int h = 0; h < kvHeads; h++) {
                int sBase = h * capacity, best = 0;
                for (int s = 1; s < candidates; s++) if (scores[l][sBase + s] < scores[l][sBase + best]) best = s;
                int tail = length - best - 1, base = h * capacity * headDim;
                System.arraycopy(k[l], base + (best + 1) * headDim, k[l], base + best * headDim, tail * headDim);
                System.arraycopy(v[l], base + (best + 1) * headDim, v[l], base + best * headDim, tail * headDim);
                System.arraycopy(scores[l], sBase + best + 1, scores[l], sBase + best, tail);
                scores[l][sBase + length - 1] = 0f;
            }
        }
        length--;
    }

    void advance(int n) { length += n; seen += n; }

    /**
     * Drops slots {@code [from, from + n)} of every layer, moving the later ones down; with
     * {@code rotate}, each moved key is passed to it (layer array, offset of its head-dim run).
     */
    void evict(int from, int n, java.util.function.ObjIntConsumer<float[]> rotate) {
        int tail = length - from - n;
        for (int l = 0; l < k.length; l++) {
            for (int h = 0; h < kvHeads; h++) {
                int base = h * capacity * headDim;
                System.arraycopy(k[l], base + (from + n) * headDim, k[l], base + from * headDim, tail * headDim);
                System.arraycopy(v[l], base + (from + n) * headDim, v[l], base + from * headDim, tail * headDim);
                if (rotate != null) for (int s = from; s < from + tail; s++) rotate.accept(k[l], base + s * headDim);
            }
        }
        length -= n;
    }

    /**
     * Stores rows {@code [row0, row0 + t)} of keys and values for {@code layer} at slots
     * {@code length..length+t-1}; {@code kRows, vRows} are {@code [rows, kvHeads·headDim]}.
     */
    void put(int layer, float[] kRows, float[] vRows, int row0, int t) {
        if (length + t > capacity) throw new IllegalStateException("KV cache full: " + length + " + " + t + " positions > capacity " + capacity);
        int w = kvHeads * headDim;
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < kvHeads; h++) {
                int dst = (h * capacity + length + i) * headDim;
                System.arraycopy(kRows, (row0 + i) * w + h * headDim, k[layer], dst, headDim);
                System.arraycopy(vRows, (row0 + i) * w + h * headDim, v[layer], dst, headDim);
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
