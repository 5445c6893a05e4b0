package org.attn4j.variants.contentsparse;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.Init;
import org.attn4j.variants.ShapeCache;
import org.attn4j.variants.ShapeCache.Shape;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P119 — Trainable Dynamic Mask Sparse Attention (DMA; Shi et al., 2025): a content-aware key
 * mask computed from the values, plus skipping of everything the mask removes.
 *
 * <p>Input {@code q [B, H, N, D]}, {@code k [B, Hkv, N, D]}, {@code v [B, Hkv, N, Dv]}; output
 * {@code [B, H, N, Dv]}; scale {@code 1/sqrt(D)}. Per batch entry, key j and query head h:
 * <pre>
 *   z[h, j] = W[h] · concat_kv-heads(v_j) + c[h]          (W: H × Hkv·Dv, the learned dt projection)
 *   δ[h, j] = exp(A[h] · softplus(z[h, j]))               (A: per-head learned)
 *   S(h, i) = the topk keys with the largest δ among keys j ≤ i (all j when not causal) with δ ≥ threshold
 *   out[h, i] = Σ_{j ∈ S} softmax_j(scale·q_i·k_j + δ[h, j]) · v_j
 * </pre>
 * as in the reference implementation (δ is added to the logits of the kept keys, the others are
 * masked; ties go to the earlier key). W, c and A are learned: created from the seed for the input's
 * dims, or given explicitly.
 *
 * <p>Computation: δ first (N × Hkv·Dv per head), then the kept keys. Not causal, every query keeps the
 * same set: one gather. Causal, the kept set of the prefix changes only when a new key beats the
 * weakest kept one, and an evicted key never returns, so each key is kept during one interval of query
 * positions; per chunk of queries the keys kept throughout run unmasked and only those entering or
 * leaving inside the chunk need a (chunk × those keys) mask. No score is computed for a dropped key.
 * The per-key bias of the unmasked keys is folded into one extra head dimension. FLOPs counted: the
 * projection (2·Hkv·Dv per key and head) and 2·(D + Dv) per kept (query, key) pair.
 */
public final class DynamicMaskAttention implements Variant {
    /** Queries per engine call: two of the flash kernel's 96-row query blocks. */
    static final int CHUNK = 192;

    private final DynamicMaskParams params;
    private final long seed;
    private final Weights fixed;
    private final ShapeCache<Weights> lazy = new ShapeCache<>();

    /** The learned dt projection {@code w [heads × in]} (row-major), its bias {@code c [heads]} and {@code a [heads]}. */
    public record Weights(int heads, int in, float[] w, float[] c, float[] a) {
        public Weights {
            if (heads < 1 || in < 1) throw new IllegalArgumentException("weights: expected heads >= 1 and in >= 1, got " + heads + ", " + in);
            if (w == null || w.length != heads * in) throw new IllegalArgumentException("w: expected " + heads * in + " values (heads x Hkv·Dv), got " + (w == null ? "null" : w.length));
            if (c == null || c.length != heads) throw new IllegalArgumentException("c: expected " + heads + " values, got " + (c == null ? "null" : c.length));
            if (a == null || a.length != heads) throw new IllegalArgumentException("a: expected " + heads + " values, got " + (a == null ? "null" : a.length));
            w = w.clone();
            c = c.clone();
            a = a.clone();
        }
    }

    /** Weights created from {@code seed} for each input shape. */
    public DynamicMaskAttention(DynamicMaskParams params, long seed) {
        if (params == null) throw new IllegalArgumentException("params: expected DynamicMaskParams, got null");
        this.params = params;
        this.seed = seed;
        this.fixed = null;
    }

    /** Explicit weights (inputs must then have H = weights.heads and Hkv·Dv = weights.in). */
    public DynamicMaskAttention(DynamicMaskParams params, Weights weights) {
        if (params == null) throw new IllegalArgumentException("params: expected DynamicMaskParams, got null");
        if (weights == null) throw new IllegalArgumentException("weights: expected Weights, got null");
        this.params = params;
        this.seed = 0;
        this.fixed = weights;
    }

    /** The seeded initialisation: W Glorot-uniform, c = 0, A ~ N(0, 1). */
    public static Weights init(long seed, int heads, int in) {
        return new Weights(heads, in, Init.glorot(seed, "dma.dt_proj", heads, in), new float[heads], Init.normal(seed, "dma.A", heads, 1.0));
    }

    public DynamicMaskParams params() { return params; }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() {
        return new VariantInfo("dynamic-mask", "P119", "Trainable Dynamic Mask Sparse Attention", Family.S, true,
                "per-head key weights exp(A·softplus(W·v)) from the values; top-k keys kept and biased by them; dropped keys skipped");
    }

    Weights weights(Shapes s) {
        int in = s.kvHeads() * s.dv();
        if (fixed != null) {
            if (fixed.heads() != s.heads() || fixed.in() != in) {
                throw new IllegalArgumentException("q/v: the given weights are for H=" + fixed.heads() + " and Hkv·Dv=" + fixed.in()
                        + ", got H=" + s.heads() + " and Hkv·Dv=" + in);
            }
            return fixed;
        }
        return lazy.get(Shape.of(s.heads(), in), key -> init(seed, s.heads(), in));
    }

    /** The dynamic weights δ [B, H, N] (float32, as the forward uses them). */
    public float[] delta(Tensor q, Tensor k, Tensor v) {
        Shapes s = Shapes.self(q, k, v);
        Weights w = weights(s);
        float[] out = new float[s.batch() * s.heads() * s.nk()];
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.heads(); h++) System.arraycopy(delta(s, w, v, b, h), 0, out, (b * s.heads() + h) * s.nk(), s.nk());
        }
        return out;
    }

    private static float[] delta(Shapes s, Weights w, Tensor v, int b, int h) {
        int n = s.nk(), dv = s.dv(), in = w.in();
        float[] vd = v.data();
        float[] out = new float[n];
        for (int j = 0; j < n; j++) {
            double z = w.c()[h];
            for (int g = 0; g < s.kvHeads(); g++) {
                int p = v.offset() + b * v.stride(0) + g * v.stride(1) + j * v.stride(2);
                for (int x = 0; x < dv; x++) z += (double) w.w()[h * in + g * dv + x] * vd[p + x * v.stride(3)];
            }
            double softplus = z > 20 ? z : Math.log1p(Math.exp(z));
            out[j] = (float) Math.exp(w.a()[h] * softplus);
        }
        return out;
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        Weights w = weights(s);
        int th = Parallel.resolveThreads(threads);
        int n = s.nq(), d = s.d(), dv = s.dv(), heads = s.batch() * s.heads();
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] out = new float[Math.multiplyExact(heads * n, dv)];
        if (n == 0 || heads == 0) return new VariantResult(Tensor.of(out, s.batch(), s.heads(), n, dv), 0);
        int chunks = (n + CHUNK - 1) / CHUNK;
        Head[] hs = new Head[heads];
        AtomicLong pairs = new AtomicLong();
        Parallel.forEach(th, heads, x -> null, (bh, u) -> hs[bh] = new Head(s, w, q, k, v, bh / s.heads(), bh % s.heads(), params));
        Parallel.forEach(th, heads * chunks, x -> new long[1], (item, acc) -> {
            Head hd = hs[item / chunks];
            int r0 = (item % chunks) * CHUNK, r1 = Math.min(n, r0 + CHUNK);
            int[] qpos = new int[r1 - r0];
            for (int r = 0; r < qpos.length; r++) qpos[r] = r0 + r;
            int[] keys = hd.keys;
            int count = hd.keyCount;
            if (params.causal()) {
                // Kept keys of the chunk: entered before its end and not evicted before its start.
                keys = new int[hd.keyCount];
                count = 0;
                for (int t = 0; t < hd.keyCount; t++) {
                    int j = hd.keys[t];
                    if (j >= r1) break;
                    if (hd.exit[j] > r0) keys[count++] = j;
                }
            }
            long before = acc[0];
            float[] o = SubsetAttention.attend(SubsetAttention.view(q, hd.b, hd.h, r0, r1 - r0), qpos, hd.kh, hd.vh, d, dv, keys, count,
                    params.causal() ? hd.enter : null, hd.exit, hd.delta, scale, acc);
            pairs.addAndGet(acc[0] - before);
            System.arraycopy(o, 0, out, ((hd.b * s.heads() + hd.h) * n + r0) * dv, o.length);
        });
        long flops = 2L * (d + dv) * pairs.get() + 2L * heads * n * (long) w.in();
        return new VariantResult(Tensor.of(out, s.batch(), s.heads(), n, dv), flops);
    }

    /**
     * The kept keys of one (batch, head) under the causal prefix rule: key j is kept for query
     * positions {@code enter[j] ≤ i < exit[j]} (enter = MAX_VALUE when never kept).
     */
    static int[][] intervals(float[] delta, int topk, double threshold) {
        int n = delta.length;
        int[] enter = new int[n], exit = new int[n];
        Arrays.fill(enter, Integer.MAX_VALUE);
        Arrays.fill(exit, Integer.MAX_VALUE);
        int[] heap = new int[Math.min(topk, n) + 1];
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (delta[i] < threshold) continue;
            if (size < topk) {
                enter[i] = i;
                heap[size] = i;
                siftUp(heap, size++, delta);
            } else if (worse(heap[0], i, delta)) {
                exit[heap[0]] = i;
                enter[i] = i;
                heap[0] = i;
                siftDown(heap, size, delta);
            }
        }
        return new int[][] {enter, exit};
    }

    /** Whether key a ranks below key b: smaller δ, or equal δ and later position. */
    private static boolean worse(int a, int b, float[] delta) {
        return delta[a] < delta[b] || (delta[a] == delta[b] && a > b);
    }

    private static void siftUp(int[] heap, int at, float[] delta) {
        while (at > 0) {
            int parent = (at - 1) / 2;
            if (!worse(heap[at], heap[parent], delta)) return;
            int t = heap[at];
            heap[at] = heap[parent];
            heap[parent] = t;
            at = parent;
        }
    }

    private static void siftDown(int[] heap, int size, float[] delta) {
        int at = 0;
        while (true) {
            int l = 2 * at + 1, r = l + 1, worst = at;
            if (l < size && worse(heap[l], heap[worst], delta)) worst = l;
            if (r < size && worse(heap[r], heap[worst], delta)) worst = r;
            if (worst == at) return;
            int t = heap[at];
            heap[at] = heap[worst];
            heap[worst] = t;
            at = worst;
        }
    }

    /** One (batch, head): δ, the kept keys and head copies of its K and V. */
    private static final class Head {
        final int b, h;
        final float[] delta, kh, vh;
        final int[] keys, enter, exit;
        final int keyCount;

        Head(Shapes s, Weights w, Tensor q, Tensor k, Tensor v, int b, int h, DynamicMaskParams p) {
            this.b = b;
            this.h = h;
            int n = s.nk();
            delta = delta(s, w, v, b, h);
            kh = Shapes.head(k, b, s.kvHead(h));
            vh = Shapes.head(v, b, s.kvHead(h));
            if (p.causal()) {
                int[][] iv = intervals(delta, p.topk(), p.threshold());
                enter = iv[0];
                exit = iv[1];
                int[] ks = new int[n];
                int c = 0;
                for (int j = 0; j < n; j++) if (enter[j] != Integer.MAX_VALUE) ks[c++] = j;
                keys = ks;
                keyCount = c;
            } else {
                enter = null;
                exit = null;
                Integer[] idx = new Integer[n];
                int c = 0;
                for (int j = 0; j < n; j++) if (delta[j] >= p.threshold()) idx[c++] = j;
                Integer[] cand = Arrays.copyOf(idx, c);
                Arrays.sort(cand, (x, y) -> worse(x, y, delta) ? 1 : worse(y, x, delta) ? -1 : 0);
                int kept = Math.min(p.topk(), c);
                keys = new int[kept];
                for (int t = 0; t < kept; t++) keys[t] = cand[t];
                Arrays.sort(keys);
                keyCount = kept;
            }
        }
    }
}
