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
 * P28 — Efficient Content-Based Sparse Attention with Routing Transformers (Roy et al., 2021):
 * queries and keys are routed to clusters by online k-means with centroids shared by both, and
 * attention runs inside each cluster only.
 *
 * <p>Input {@code q [B, H, N, D]}, {@code k [B, Hkv, N, D]}, {@code v [B, Hkv, N, Dv]}; output
 * {@code [B, H, N, Dv]}; scale {@code 1/sqrt(D)}. Each query head h has C unit centroids μ (C × D);
 * a token x (a query or a key) scores {@code x̂ · μ_c} with {@code x̂ = x / |x|}.
 * <pre>
 *   default:  cluster(x) = argmax_c x̂·μ_c (ties: lowest c); query i attends the keys j with
 *             cluster(k_j) = cluster(q_i) (and j ≤ i when causal): exact softmax over that set.
 *   balanced: centroid c takes the {@code window} queries and the {@code window} keys with the largest
 *             scores (ties: earlier token); its queries attend its keys (causally when causal); a query's
 *             output is the mean of its outputs over the clusters that took it, 0 when none did.
 * </pre>
 * A query with no visible key outputs 0. The centroids are learned: created from the seed (per
 * (H, C, D)) or given; {@link #updatedCentroids} is the explicit k-means step (the forward never
 * changes them): each centroid moves to {@code normalize(decay·μ + (1 − decay)·m)} with m the unit mean
 * of the normalised queries and keys assigned to it (unchanged when nothing is).
 *
 * <p>Computation: per (head, cluster) the member queries and keys are gathered and attended with the
 * flash kernel, in query chunks; causally, keys before a chunk run unmasked and only those inside it
 * need a small mask. No N × N mask or score matrix exists. FLOPs counted: normalisation and the
 * centroid scores of queries and keys (2·C·D per token each) and 2·(D + Dv) per attended pair.
 */
public final class RoutingAttention implements Variant {
    static final int CHUNK = 192;

    private final RoutingParams params;
    private final long seed;
    private final float[] fixed;
    private final int fixedHeads, fixedClusters, fixedDim;
    private final ShapeCache<float[]> lazy = new ShapeCache<>();

    /** Centroids created from {@code seed} for each (H, C, D). */
    public RoutingAttention(RoutingParams params, long seed) {
        if (params == null) throw new IllegalArgumentException("params: expected RoutingParams, got null");
        this.params = params;
        this.seed = seed;
        this.fixed = null;
        this.fixedHeads = this.fixedClusters = this.fixedDim = 0;
    }

    /** Explicit centroids {@code [heads × clusters × dim]}, row-major; each row is normalised here. */
    public RoutingAttention(RoutingParams params, float[] centroids, int heads, int clusters, int dim) {
        if (params == null) throw new IllegalArgumentException("params: expected RoutingParams, got null");
        if (heads < 1 || clusters < 1 || dim < 1) {
            throw new IllegalArgumentException("centroids: expected heads, clusters, dim >= 1, got " + heads + ", " + clusters + ", " + dim);
        }
        if (centroids == null || centroids.length != (long) heads * clusters * dim) {
            throw new IllegalArgumentException("centroids: expected " + (long) heads * clusters * dim + " values (heads x clusters x dim), got "
                    + (centroids == null ? "null" : centroids.length));
        }
        if (params.clusters() != 0 && params.clusters() != clusters) {
            throw new IllegalArgumentException("clusters: params say " + params.clusters() + ", the centroids have " + clusters);
        }
        this.params = params;
        this.seed = 0;
        this.fixed = normalizeRows(centroids.clone(), dim);
        this.fixedHeads = heads;
        this.fixedClusters = clusters;
        this.fixedDim = dim;
    }

    public RoutingParams params() { return params; }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() {
        return new VariantInfo("routing", "P28", "Efficient Content-Based Sparse Attention with Routing Transformers", Family.S, true,
                "online k-means with centroids shared by queries and keys; attention within each cluster (optionally balanced top-w clusters)");
    }

    /** The centroids used for inputs of these dims, [H × C × D] (a copy). */
    public float[] centroids(int heads, int n, int d) {
        return centroidsFor(heads, n, d).clone();
    }

    private float[] centroidsFor(int heads, int n, int d) {
        if (fixed != null) {
            if (fixedHeads != heads || fixedDim != d) {
                throw new IllegalArgumentException("q: the given centroids are for H=" + fixedHeads + ", D=" + fixedDim + ", got H=" + heads + ", D=" + d);
            }
            return fixed;
        }
        int c = params.clustersFor(n);
        if ((long) heads * c * d > Integer.MAX_VALUE - 8 || (long) n * c > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("clusters: " + c + " centroids per head need H·C·D = " + (long) heads * c * d + " and N·C = " + (long) n * c
                    + " scores, more than one array holds");
        }
        return lazy.get(Shape.of(heads, c, d), key -> normalizeRows(Init.normal(seed, "routing.centroids", heads * c * d, 1.0), d));
    }

    private int clusters(int n) { return fixed != null ? fixedClusters : params.clustersFor(n); }

    /**
     * One k-means step on these inputs: the centroids after the moving-average update (see the class
     * comment), [H × C × D]. Pure: this instance keeps its centroids; build a new one with them.
     */
    public float[] updatedCentroids(Tensor q, Tensor k, Tensor v) {
        Shapes s = Shapes.self(q, k, v);
        int n = s.nq(), d = s.d(), c = clusters(n);
        float[] mu = centroidsFor(s.heads(), n, d);
        float[] out = mu.clone();
        double decay = params.decay();
        for (int h = 0; h < s.heads(); h++) {
            double[] sum = new double[c * d];
            int[] members = new int[c];
            for (int b = 0; b < s.batch(); b++) {
                for (float[] x : new float[][] {unit(Shapes.head(q, b, h), d), unit(Shapes.head(k, b, s.kvHead(h)), d)}) {
                    int[] a = assign(x, n, d, mu, h * c * d, c, null);
                    for (int i = 0; i < n; i++) {
                        members[a[i]]++;
                        for (int t = 0; t < d; t++) sum[a[i] * d + t] += x[i * d + t];
                    }
                }
            }
            for (int cl = 0; cl < c; cl++) {
                if (members[cl] == 0) continue;
                double norm = 0;
                for (int t = 0; t < d; t++) norm += sum[cl * d + t] * sum[cl * d + t];
                norm = Math.sqrt(norm);
                int o = (h * c + cl) * d;
                for (int t = 0; t < d; t++) {
                    double m = norm > 0 ? sum[cl * d + t] / norm : 0;
                    out[o + t] = (float) (decay * mu[o + t] + (1 - decay) * m);
                }
            }
        }
        return normalizeRows(out, d);
    }

    /** A routing attention like this one with the centroids after {@link #updatedCentroids} on these inputs. */
    public RoutingAttention updated(Tensor q, Tensor k, Tensor v) {
        Shapes s = Shapes.self(q, k, v);
        return new RoutingAttention(params, updatedCentroids(q, k, v), s.heads(), clusters(s.nq()), s.d());
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        int th = Parallel.resolveThreads(threads);
        int n = s.nq(), d = s.d(), dv = s.dv(), heads = s.batch() * s.heads();
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] out = new float[Math.multiplyExact(heads * n, dv)];
        if (n == 0 || heads == 0) return new VariantResult(Tensor.of(out, s.batch(), s.heads(), n, dv), 0);
        int c = clusters(n);
        float[] mu = centroidsFor(s.heads(), n, d);
        int window = params.balanced() ? (params.window() > 0 ? Math.min(params.window(), n) : Math.min(n, (n + c - 1) / c)) : 0;
        Head[] hs = new Head[heads];
        Parallel.forEach(th, heads, x -> null, (bh, u) -> hs[bh] = new Head(s, q, k, v, bh / s.heads(), bh % s.heads(), mu, c, window));
        int[] identity = new int[n], never = new int[n];
        for (int j = 0; j < n; j++) identity[j] = j;
        Arrays.fill(never, Integer.MAX_VALUE);
        float[][] results = new float[heads * c][];
        AtomicLong pairs = new AtomicLong();
        Parallel.forEach(th, heads * c, x -> null, (item, u) -> {
            Head hd = hs[item / c];
            int cl = item % c;
            int[] qs = hd.queries[cl], ks = hd.keys[cl];
            if (qs.length == 0) return;
            float[] res = new float[qs.length * dv];
            long[] p = {0};
            if (ks.length > 0) {
                for (int r0 = 0; r0 < qs.length; r0 += CHUNK) {
                    int rows = Math.min(CHUNK, qs.length - r0);
                    int[] qpos = Arrays.copyOfRange(qs, r0, r0 + rows);
                    int kc = ks.length;
                    if (params.causal()) {
                        // Keys after the chunk's last query are invisible to all of it.
                        int last = qpos[rows - 1];
                        kc = 0;
                        while (kc < ks.length && ks[kc] <= last) kc++;
                    }
                    if (kc == 0) continue;
                    float[] o = SubsetAttention.attend(SubsetAttention.gather(hd.q, d, qs, r0, rows), qpos, hd.k, hd.v, d, dv, ks, kc,
                            params.causal() ? identity : null, never, null, scale, p);
                    System.arraycopy(o, 0, res, r0 * dv, o.length);
                }
            }
            results[item] = res;
            pairs.addAndGet(p[0]);
        });
        // Each query's output: its cluster's (default) or the mean over the clusters that took it (balanced).
        Parallel.forEach(th, heads, x -> null, (bh, u) -> {
            Head hd = hs[bh];
            int[] times = new int[n];
            int base = bh * n * dv;
            for (int cl = 0; cl < c; cl++) {
                float[] res = results[bh * c + cl];
                if (res == null) continue;
                int[] qs = hd.queries[cl];
                for (int r = 0; r < qs.length; r++) {
                    times[qs[r]]++;
                    for (int x = 0; x < dv; x++) out[base + qs[r] * dv + x] += res[r * dv + x];
                }
            }
            for (int i = 0; i < n; i++) {
                if (times[i] > 1) for (int x = 0; x < dv; x++) out[base + i * dv + x] /= times[i];
            }
        });
        long assignFlops = 2L * heads * 2 * n * (long) c * d + 6L * heads * n * d;
        return new VariantResult(Tensor.of(out, s.batch(), s.heads(), n, dv), assignFlops + 2L * (d + dv) * pairs.get());
    }

    /** Cluster of each row of {@code x} (N × d, normalised): argmax over centroids, ties to the lowest; scores kept when asked. */
    static int[] assign(float[] x, int n, int d, float[] mu, int muOff, int c, float[] scores) {
        int[] a = new int[n];
        float[] sc = scores != null ? scores : new float[n * c];
        org.attn4j.core.simd.MicroKernels.get().gemmTransB(n, c, d, x, 0, d, mu, muOff, d, sc, 0, c);
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int cl = 1; cl < c; cl++) if (sc[i * c + cl] > sc[i * c + best]) best = cl;
            a[i] = best;
        }
        return a;
    }

    private static float[] unit(float[] x, int d) {
        return normalizeRows(x.clone(), d);
    }

    private static float[] normalizeRows(float[] x, int d) {
        for (int r = 0; r < x.length / d; r++) {
            double norm = 0;
            for (int t = 0; t < d; t++) norm += (double) x[r * d + t] * x[r * d + t];
            if (norm == 0) continue;
            float inv = (float) (1 / Math.sqrt(norm));
            for (int t = 0; t < d; t++) x[r * d + t] *= inv;
        }
        return x;
    }

    /** One (batch, head): head copies and the cluster members (positions ascending). */
    private static final class Head {
        final float[] q, k, v;
        final int[][] queries, keys;

        Head(Shapes s, Tensor qt, Tensor kt, Tensor vt, int b, int h, float[] mu, int c, int window) {
            int n = s.nq(), d = s.d();
            q = Shapes.head(qt, b, h);
            k = Shapes.head(kt, b, s.kvHead(h));
            v = Shapes.head(vt, b, s.kvHead(h));
            float[] qs = new float[n * c], ks = new float[n * c];
            int[] qa = assign(unit(q, d), n, d, mu, h * c * d, c, qs);
            int[] ka = assign(unit(k, d), n, d, mu, h * c * d, c, ks);
            queries = window > 0 ? topPerCluster(qs, n, c, window) : members(qa, n, c);
            keys = window > 0 ? topPerCluster(ks, n, c, window) : members(ka, n, c);
        }

        private static int[][] members(int[] a, int n, int c) {
            int[] count = new int[c];
            for (int i = 0; i < n; i++) count[a[i]]++;
            int[][] out = new int[c][];
            for (int cl = 0; cl < c; cl++) out[cl] = new int[count[cl]];
            Arrays.fill(count, 0);
            for (int i = 0; i < n; i++) out[a[i]][count[a[i]]++] = i;
            return out;
        }

        /** The {@code w} tokens with the largest score for each centroid (ties: earlier token), ascending. */
        private static int[][] topPerCluster(float[] scores, int n, int c, int w) {
            int[][] out = new int[c][];
            long[] order = new long[n];
            for (int cl = 0; cl < c; cl++) {
                for (int i = 0; i < n; i++) order[i] = SubsetAttention.key(scores[i * c + cl], i);
                if (w < n) SubsetAttention.smallest(order, n, w);
                int[] top = new int[w];
                for (int t = 0; t < w; t++) top[t] = SubsetAttention.index(order[t]);
                Arrays.sort(top);
                out[cl] = top;
            }
            return out;
        }
    }
}
