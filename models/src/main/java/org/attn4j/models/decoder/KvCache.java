package org.attn4j.models.decoder;

import org.attn4j.core.tensor.Tensor;

/**
 * The keys and values of one sequence. Contiguous: per layer {@code [kvHeads, capacity, headDim]}
 * (one run of positions per head, so the first {@code n} positions of a head are one strided view
 * for the attention kernels). Paged ({@link #KvCache(DecoderConfig, int, KvPolicy, KvBlockPool)}):
 * positions live in blocks of a shared {@link KvBlockPool} found through this cache's block table;
 * blocks are taken as the cache grows and given back when it shrinks or is {@link #release released}.
 * Latent ({@link DecoderConfig#mla()} set, contiguous only): per layer one row {@code [k^R, c_KV]} of
 * {@code qkRopeDim + kvLoraRank} floats per position and no value arrays.
 */
public final class KvCache {
    private final int kvHeads, headDim, capacity;
    /** Whether rows are latent attention's {@code [k^R, c_KV]} (no separate values). */
    private final boolean latent;
    private final float[][] k, v;
    /** The pool of a paged cache, else null. */
    private final KvBlockPool pool;
    /** Block table of a paged cache: slot s is in block table[s / blockSize]. */
    private int[] table = new int[0];
    private int blocksHeld;
    private final KvPolicy policy;
    /** Accumulated attention per layer, key/value head and slot (H2O), or null. */
    private final float[][] scores;
    private int length;
    /** Shared attention: the probabilities {@code [heads, t, n]} of the current group's first layer for the rows being run. */
    float[] sharedProbs;
    /** Tokens seen (the next token's position in the text). */
    private int seen;

    /** A cache for {@code capacity} positions of a model with {@code c}'s shape that keeps everything. */
    public KvCache(DecoderConfig c, int capacity) {
        this(c, capacity, new KvPolicy.Full());
    }

    /** A contiguous cache under {@code policy} (see {@link #KvCache(DecoderConfig, int, KvPolicy, KvBlockPool)}). */
    public KvCache(DecoderConfig c, int capacity, KvPolicy policy) {
        this(c, capacity, policy, null);
    }

    /**
     * A cache under {@code policy}: it holds at most {@code min(capacity, policy.budget())} keys per
     * layer; {@code capacity} bounds the tokens of one {@link DecoderModel#forward} call while the
     * budget is not reached. With a {@code pool} (null for a contiguous cache) the keys and values live
     * in the pool's blocks, taken as positions are added.
     */
    public KvCache(DecoderConfig c, int capacity, KvPolicy policy, KvBlockPool pool) {
        if (policy == null) throw new IllegalArgumentException("policy: expected a KvPolicy, got null");
        boolean latent = c.mla() != null;
        if (policy instanceof KvPolicy.Latent && !latent) {
            throw new IllegalArgumentException("kv-policy mla: the model has no latent attention layers (architecture " + c.arch().name().toLowerCase(java.util.Locale.ROOT) + ")");
        }
        if (latent && policy instanceof KvPolicy.SharedAttention) {
            throw new IllegalArgumentException("kv-policy shared-attention: not available for a model with latent attention (architecture deepseek2); use mla, full, window, sinks or h2o");
        }
        if (latent && pool != null) throw new IllegalArgumentException("pool: a paged cache is not available for latent attention (architecture deepseek2)");
        this.policy = policy;
        this.latent = latent;
        capacity = Math.min(capacity, policy.budget());
        if (capacity <= 0) throw new IllegalArgumentException("capacity: expected > 0 positions, got " + capacity);
        // Latent attention: one row [k^R (qkRopeDim), c_KV (kvLoraRank)] per position and no values
        // (attention reads c_KV as its values); k^R first because re-rotation (sinks) turns a row's leading ropeDim values.
        int width = latent ? c.mla().latentWidth() : c.headDim();
        long perLayer = (long) c.kvHeads() * capacity * width;
        if (perLayer > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("capacity: " + capacity + " positions need " + perLayer + " floats per layer, more than one array holds");
        this.kvHeads = c.kvHeads();
        this.headDim = width;
        this.capacity = capacity;
        this.scores = policy.perHeadScores() ? new float[c.layers()][c.kvHeads() * capacity] : null;
        this.pool = pool;
        if (pool != null) {
            if (pool.layers() != c.layers() || pool.kvHeads() != c.kvHeads() || pool.headDim() != c.headDim()) {
                throw new IllegalArgumentException("pool: expected blocks for " + c.layers() + " layers, " + c.kvHeads() + " kv heads of width " + c.headDim()
                        + ", got " + pool.layers() + ", " + pool.kvHeads() + ", " + pool.headDim());
            }
            this.k = pool.k;
            this.v = pool.v;
        } else {
            this.k = new float[c.layers()][(int) perLayer];
            this.v = new float[c.layers()][latent ? 0 : (int) perLayer];
        }
    }

    /** The pool of a paged cache, or null. */
    public KvBlockPool pool() { return pool; }

    /** Whether this cache holds latent attention rows {@code [k^R, c_KV]} instead of keys and values. */
    public boolean latent() { return latent; }

    /**
     * Floats stored per position and layer: {@code kvLoraRank + qkRopeDim} for a latent cache,
     * {@code 2·kvHeads·headDim} (keys and values) otherwise.
     */
    public int floatsPerPosition() { return latent ? headDim : 2 * kvHeads * headDim; }

    /** Pool blocks this cache holds (0 for a contiguous cache). */
    public int blocksHeld() { return blocksHeld; }

    /** Gives every block back to the pool and forgets every position (a sequence leaving); the cache can be reused. */
    public void release() { clear(); }

    /** Offset in a layer array of slot {@code slot} of key/value head {@code h}. */
    int offset(int h, int slot) {
        if (pool == null) return (h * capacity + slot) * headDim;
        int bs = pool.blockSize();
        return pool.offset(h, table[slot / bs], slot % bs);
    }

    /** Makes room for {@code t} more slots: takes pool blocks as needed (paged), checks the capacity. */
    void reserve(int t) {
        if (length + t > capacity) throw new IllegalStateException("KV cache full: " + length + " + " + t + " positions > capacity " + capacity);
        if (pool == null) return;
        int need = (length + t + pool.blockSize() - 1) / pool.blockSize();
        if (need > table.length) table = java.util.Arrays.copyOf(table, Math.max(need, 2 * table.length));
        while (blocksHeld < need) {
            int b = pool.take(); // before counting it: a failed take must not leave a phantom entry in the table
            table[blocksHeld++] = b;
        }
    }

    /** Gives back blocks beyond those the current length needs. */
    void trim() {
        if (pool == null) return;
        int need = (length + pool.blockSize() - 1) / pool.blockSize();
        while (blocksHeld > need) pool.give(table[--blocksHeld]);
    }

    /**
     * Runs of slots {@code [0, n)} that are contiguous per head: {@code {firstSlot, slots, offset}}
     * triples, offset that of head 0 (head h adds {@link #headStride}). One run for a contiguous cache.
     */
    int[] runs(int n) {
        if (pool == null) return new int[] {0, n, 0};
        int bs = pool.blockSize();
        int[] out = new int[3 * ((n + bs - 1) / bs)];
        int r = 0;
        for (int s = 0; s < n; ) {
            int b = table[s / bs], len = Math.min(bs, n - s);
            if (r > 0 && table[(s - 1) / bs] + 1 == b) {
                out[3 * (r - 1) + 1] += len; // block follows the previous one in the pool: same run
            } else {
                out[3 * r] = s;
                out[3 * r + 1] = len;
                out[3 * r + 2] = pool.offset(0, b, 0);
                r++;
            }
            s += len;
        }
        return java.util.Arrays.copyOf(out, 3 * r);
    }

    /** Distance between heads in a layer array. */
    int headStride() { return pool == null ? capacity * headDim : pool.blocks() * pool.blockSize() * headDim; }

    /** The layer arrays (keys). */
    float[] keyArray(int layer) { return k[layer]; }

    /** The layer arrays (values). */
    float[] valueArray(int layer) { return v[layer]; }

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
    public void clear() {
        length = 0;
        seen = 0;
        if (scores != null) for (float[] a : scores) java.util.Arrays.fill(a, 0f);
        trim();
    }

    /** Drops positions {@code >= n} (e.g. to re-run a shorter prompt). */
    public void truncate(int n) {
        if (n < 0 || n > length) throw new IllegalArgumentException("n: expected 0.." + length + ", got " + n);
        if (length != seen) throw new IllegalStateException("truncate: positions were evicted; only a cache that kept every token can be truncated");
        length = n;
        seen = n;
        trim();
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
                int tail = length - best - 1;
                for (int s = best; s < best + tail; s++) {
                    int dst = offset(h, s), src = offset(h, s + 1);
                    System.arraycopy(k[l], src, k[l], dst, headDim);
                    if (!latent) System.arraycopy(v[l], src, v[l], dst, headDim);
                }
                System.arraycopy(scores[l], sBase + best + 1, scores[l], sBase + best, tail);
                scores[l][sBase + length - 1] = 0f;
            }
        }
        length--;
        trim();
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
                for (int s = from; s < from + tail; s++) {
                    int dst = offset(h, s), src = offset(h, s + n);
                    System.arraycopy(k[l], src, k[l], dst, headDim);
                    if (!latent) System.arraycopy(v[l], src, v[l], dst, headDim);
                    if (rotate != null) rotate.accept(k[l], dst);
                }
            }
        }
        length -= n;
        trim();
    }

    /**
     * Stores rows {@code [row0, row0 + t)} of keys and values for {@code layer} at slots
     * {@code length..length+t-1}; {@code kRows, vRows} are {@code [rows, kvHeads·headDim]}
     * (a latent cache: {@code kRows} are {@code [rows, kvLoraRank + qkRopeDim]} and {@code vRows} is unused).
     */
    void put(int layer, float[] kRows, float[] vRows, int row0, int t) {
        put(layer, kRows, vRows, row0, t, true);
    }

    /** As {@link #put(int, float[], float[], int, int)}; without {@code keys} only the values are stored. */
    void put(int layer, float[] kRows, float[] vRows, int row0, int t, boolean keys) {
        reserve(t);
        int w = kvHeads * headDim;
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < kvHeads; h++) {
                int dst = offset(h, length + i);
                if (keys) System.arraycopy(kRows, (row0 + i) * w + h * headDim, k[layer], dst, headDim);
                if (!latent) System.arraycopy(vRows, (row0 + i) * w + h * headDim, v[layer], dst, headDim);
            }
        }
    }

    /** Keys of {@code layer}, positions {@code [0, n)}, as {@code [1, kvHeads, n, headDim]} (a view). */
    Tensor keys(int layer, int n) { return view(k[layer], n); }

    /** Values of {@code layer}, positions {@code [0, n)}, as {@code [1, kvHeads, n, headDim]} (a view). */
    Tensor values(int layer, int n) { return view(v[layer], n); }

    private Tensor view(float[] a, int n) {
        if (pool != null) {
            // A paged cache gathers its blocks into one contiguous copy (H2O's reference-kernel path).
            float[] g = new float[kvHeads * n * headDim];
            for (int h = 0; h < kvHeads; h++) for (int s = 0; s < n; s++) System.arraycopy(a, offset(h, s), g, (h * n + s) * headDim, headDim);
            return Tensor.view(g, 0, new int[] {1, kvHeads, n, headDim}, new int[] {kvHeads * n * headDim, n * headDim, headDim, 1});
        }
        return Tensor.view(a, 0, new int[] {1, kvHeads, n, headDim}, new int[] {kvHeads * capacity * headDim, capacity * headDim, headDim, 1});
    }
}
