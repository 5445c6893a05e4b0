package org.attn4j.variants.latent;

import java.util.Objects;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.simd.MicroKernels;
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
 * P84 — Multi-head Latent Attention (MLA) of DeepSeek-V2, the mechanism whose spectra P84 ("A Random
 * Matrix Theory Perspective on the Learning Dynamics of Multi-head Latent Attention") studies, in its
 * "MLA-Decoupled" form: keys and values are rebuilt from one low-rank latent per token, and a single
 * rotary key part is shared by all heads.
 *
 * <p><b>Input mapping.</b> MLA is a layer on hidden states. The query tokens' hidden state is
 * {@code q} with its heads merged, {@code X_q[t] = concat_h q[b,h,t,:]} (width H·D); the key/value
 * tokens' hidden state is {@code k} merged the same way ({@code X_kv}, width Hkv·D); self-attention
 * is {@code k = q}. {@code v} is validated but not read: MLA derives keys <em>and</em> values from
 * one latent. The layer has n_h = H heads of dimension d_h = D, and its output
 * {@code U = MLA(X) W_O} (width H·D) is returned split back into heads, {@code [B, H, Nq, D]}.
 *
 * <p><b>Formulas</b> (per token; RMSNorm with learned gain after each down-projection):
 * {@code c_Q = norm(X_q W_DQ)}, {@code q^C = c_Q W_UQ}, {@code q^R = RoPE(c_Q W_QR)} (per head);
 * {@code c_KV = norm(X_kv W_DKV)}, {@code k^C = c_KV W_UK}, {@code v^C = c_KV W_UV},
 * {@code k^R = RoPE(X_kv W_KR)} (one, shared by the heads); head h attends with
 * {@code q = [q^C_h; q^R_h]}, {@code k = [k^C_h; k^R]}, scale {@code 1/sqrt(d_h + d_R)};
 * {@code U = concat_h(o_h) W_O}. Query t sits at position {@code t + Nk − Nq}, key j at j.
 *
 * <p><b>Weight absorption</b> ({@code absorb=true}): {@code q^C_h·k^C_{j,h} = (q^C_h W_UK,hᵀ)·c_KV,j},
 * so each head's query is mapped into the latent space and all heads attend over the shared rows
 * {@code [c_KV; k^R]} (multi-query attention with keys of width d_c + d_R and values c_KV); the
 * value up-projection is folded into the output, {@code U = Σ_h o'_h (W_UV,h W_O,h)}. Only c_KV and
 * k^R are cached ({@link Cache}, {@link #append}). Both forms run on the exact engine. The absorbed
 * form is the decoding form (d_c + d_R floats cached per token, shared by all heads); over a full
 * prefill its attention costs {@code 2·H·Nq·Nk·(2·d_c + d_R)} FLOPs against
 * {@code 2·H·Nq·Nk·(2·d_h + d_R)} for the plain form, so the registry defaults to the plain form.
 */
public final class MultiHeadLatentAttention implements Variant {
    static final VariantInfo INFO = new VariantInfo("mla", "P84", "Multi-head Latent Attention (DeepSeek-V2; RMT view)", Family.E, false,
            "keys/values from a rank-d_c latent, decoupled shared RoPE key, weight absorption and latent KV-cache decoding");

    private static final double ROPE_BASE = 10000.0;
    private static final float NORM_EPS = 1e-6f;

    private final MlaParams params;
    private final long seed;
    private final Weights fixed;
    private final ShapeCache<Weights> byShape = new ShapeCache<>();

    /**
     * Learned parameters, row-major {@code in × out}. Heads are contiguous column blocks: head h of
     * {@code wUQ/wUK/wUV} is columns {@code [h·dh, (h+1)·dh)}, of {@code wQR} columns
     * {@code [h·dR, (h+1)·dR)}; {@code wO} is {@code (heads·dh) × dq}.
     */
    public record Weights(int heads, int dh, int dq, int dkv, int dc, int dcq, int dr,
                          float[] wDQ, float[] gQ, float[] wUQ, float[] wQR,
                          float[] wDKV, float[] gKV, float[] wUK, float[] wUV, float[] wKR, float[] wO) {
        public Weights {
            if (dr % 2 != 0) throw new IllegalArgumentException("dr: expected even, got " + dr);
            check("wDQ", wDQ, dq * dcq);
            check("gQ", gQ, dcq);
            check("wUQ", wUQ, dcq * heads * dh);
            check("wQR", wQR, dcq * heads * dr);
            check("wDKV", wDKV, dkv * dc);
            check("gKV", gKV, dc);
            check("wUK", wUK, dc * heads * dh);
            check("wUV", wUV, dc * heads * dh);
            check("wKR", wKR, dkv * dr);
            check("wO", wO, heads * dh * dq);
        }

        private static void check(String name, float[] a, int n) {
            if (a == null || a.length != n) throw new IllegalArgumentException(name + ": expected " + n + " values, got " + (a == null ? "null" : a.length));
        }

        /** Glorot-initialised projections and unit RMSNorm gains from the seed. */
        public static Weights seeded(long seed, int heads, int dh, int dq, int dkv, int dc, int dcq, int dr) {
            float[] ones = new float[dcq], onesKv = new float[dc];
            java.util.Arrays.fill(ones, 1f);
            java.util.Arrays.fill(onesKv, 1f);
            return new Weights(heads, dh, dq, dkv, dc, dcq, dr,
                    Init.glorot(seed, "mla.wDQ", dq, dcq), ones,
                    Init.glorot(seed, "mla.wUQ", dcq, heads * dh), Init.glorot(seed, "mla.wQR", dcq, heads * dr),
                    Init.glorot(seed, "mla.wDKV", dkv, dc), onesKv,
                    Init.glorot(seed, "mla.wUK", dc, heads * dh), Init.glorot(seed, "mla.wUV", dc, heads * dh),
                    Init.glorot(seed, "mla.wKR", dkv, dr), Init.glorot(seed, "mla.wO", heads * dh, dq));
        }
    }

    /** Derived matrices of the absorbed form, computed once per weights. */
    private record Absorbed(float[][] wUKT, float[][] wUVO) {
        static Absorbed of(Weights w) {
            int nh = w.heads(), dh = w.dh(), dc = w.dc(), dq = w.dq(), cols = nh * dh;
            float[][] ukt = new float[nh][dh * dc], uvo = new float[nh][dc * dq];
            for (int h = 0; h < nh; h++) {
                for (int c = 0; c < dc; c++) for (int d = 0; d < dh; d++) ukt[h][d * dc + c] = w.wUK()[c * cols + h * dh + d];
                // W_UV,h (dc × dh) · W_O,h (dh × dq)
                MicroKernels.get().gemm(dc, dq, dh, w.wUV(), h * dh, cols, 1, w.wO(), h * dh * dq, dq, uvo[h], 0, dq, false);
            }
            return new Absorbed(ukt, uvo);
        }
    }

    /** By the weights' (H, Hkv, D): the weights for a shape are the fixed ones or drawn identically each time. */
    private final ShapeCache<Absorbed> absorbed = new ShapeCache<>();

    /**
     * The latent KV cache of one sequence batch: per batch entry and cached token, the row
     * {@code [c_KV (d_c) ; k^R (d_R)]}, RoPE already applied at the token's position.
     */
    public static final class Cache {
        private final int batch, heads, kvHeads, d, capacity, width;
        private final float[] rows;
        private int length;

        private Cache(int batch, int heads, int kvHeads, int d, int capacity, int width) {
            this.batch = batch;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.d = d;
            this.capacity = capacity;
            this.width = width;
            this.rows = new float[Math.multiplyExact(Math.multiplyExact(batch, capacity), width)];
        }

        /** Tokens cached so far. */
        public int length() { return length; }

        public int capacity() { return capacity; }

        /** Floats held per cached token (d_c + d_R), independent of the head count. */
        public int rowWidth() { return width; }
    }

    public MultiHeadLatentAttention(MlaParams params, long seed) {
        this.params = Objects.requireNonNull(params, "params");
        this.seed = seed;
        this.fixed = null;
    }

    /** Explicit weights; the input shapes must match them (H = heads, D = dh, H·D = dq, Hkv·D = dkv). */
    public MultiHeadLatentAttention(MlaParams params, Weights weights) {
        this.params = Objects.requireNonNull(params, "params");
        this.seed = 0;
        this.fixed = Objects.requireNonNull(weights, "weights");
    }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() { return INFO; }

    public MlaParams params() { return params; }

    /** The weights used for inputs with H query heads, Hkv kv heads, head dim D. */
    public Weights weights(int heads, int kvHeads, int d) {
        if (fixed != null) {
            if (fixed.heads() != heads || fixed.dh() != d || fixed.dq() != heads * d || fixed.dkv() != kvHeads * d) {
                throw new IllegalArgumentException("q: weights are for H=" + fixed.heads() + ", D=" + fixed.dh() + ", kv width " + fixed.dkv()
                        + "; got H=" + heads + ", Hkv=" + kvHeads + ", D=" + d);
            }
            return fixed;
        }
        return byShape.get(Shape.of(heads, kvHeads, d), key ->
                Weights.seeded(seed, heads, d, heads * d, kvHeads * d, params.dc(d), params.dcq(d), params.dr(d)));
    }

    /** An empty latent cache for {@code batch} sequences of up to {@code capacity} tokens. */
    public Cache newCache(int batch, int heads, int kvHeads, int d, int capacity) {
        if (batch < 1) throw new IllegalArgumentException("batch: expected >= 1, got " + batch);
        if (capacity < 1) throw new IllegalArgumentException("capacity: expected >= 1, got " + capacity);
        Weights w = weights(heads, kvHeads, d);
        return new Cache(batch, heads, kvHeads, d, capacity, w.dc() + w.dr());
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v);
        Cache cache = newCache(s.batch(), s.heads(), s.kvHeads(), s.d(), Math.max(1, s.nk()));
        long[] flops = {0};
        // The keys' latents first (positions 0..Nk-1), then the queries at positions Nk-Nq.. attend.
        flops[0] += compressKv(cache, k, threads);
        Tensor out = attend(cache, q, cache.length - s.nq(), params.causal(), threads, flops);
        return new VariantResult(out, flops[0]);
    }

    /**
     * Incremental decoding: appends the latents of {@code n} new tokens (hidden states {@code q}
     * {@code [B,H,n,D]} and {@code k} {@code [B,Hkv,n,D]}, the same tokens) to the cache and returns
     * their outputs {@code [B,H,n,D]}, each new token attending causally over everything cached.
     * Run token by token this equals {@link #run} with {@code causal=true} on the whole sequence.
     */
    public VariantResult append(Cache cache, Tensor q, Tensor k, int threads) {
        Shapes s = Shapes.of(q, k, k);
        if (s.batch() != cache.batch || s.heads() != cache.heads || s.kvHeads() != cache.kvHeads || s.d() != cache.d) {
            throw new IllegalArgumentException("q: cache is for B=" + cache.batch + ", H=" + cache.heads + ", Hkv=" + cache.kvHeads + ", D=" + cache.d
                    + "; got " + java.util.Arrays.toString(q.shape()) + " and " + java.util.Arrays.toString(k.shape()));
        }
        if (s.nq() != s.nk()) throw new IllegalArgumentException("k: append needs one kv hidden state per new token, got Nq=" + s.nq() + ", Nk=" + s.nk());
        if (cache.length + s.nk() > cache.capacity) {
            throw new IllegalArgumentException("cache: capacity " + cache.capacity + " exceeded (" + cache.length + " cached + " + s.nk() + " new)");
        }
        long[] flops = {0};
        int start = cache.length;
        flops[0] += compressKv(cache, k, threads);
        Tensor out = attend(cache, q, start, true, threads, flops);
        return new VariantResult(out, flops[0]);
    }

    /** Appends the rows [norm(X W_DKV); RoPE(X W_KR)] of the tokens in {@code k}; returns FLOPs. */
    private long compressKv(Cache cache, Tensor k, int threads) {
        Weights w = weights(cache.heads, cache.kvHeads, cache.d);
        int n = k.dim(2), dkv = w.dkv(), dc = w.dc(), dr = w.dr(), width = cache.width;
        long flops = 0;
        for (int b = 0; b < cache.batch; b++) {
            float[] x = Shapes.mergedHeads(k, b);
            float[] c = new float[n * dc], r = new float[n * dr];
            flops += RowParallelMatmul.matmul(threads, x, n, dkv, w.wDKV(), dc, null, c);
            flops += RowParallelMatmul.matmul(threads, x, n, dkv, w.wKR(), dr, null, r);
            for (int t = 0; t < n; t++) {
                int pos = cache.length + t;
                int row = (b * cache.capacity + pos) * width;
                rmsNorm(c, t * dc, dc, w.gKV());
                System.arraycopy(c, t * dc, cache.rows, row, dc);
                rope(r, t * dr, dr, pos);
                System.arraycopy(r, t * dr, cache.rows, row + dc, dr);
            }
            flops += 4L * n * dc;
        }
        cache.length += n;
        return flops;
    }

    /** Queries of {@code q} at positions {@code start..} attend over all cached rows; output [B,H,n,D]. */
    private Tensor attend(Cache cache, Tensor q, int start, boolean causal, int threads, long[] flops) {
        Weights w = weights(cache.heads, cache.kvHeads, cache.d);
        int n = q.dim(2), nk = cache.length, nh = w.heads(), dh = w.dh(), dq = w.dq(), dc = w.dc(), dcq = w.dcq(), dr = w.dr();
        float[] out = new float[cache.batch * dq * n];
        float scale = (float) (1 / Math.sqrt(dh + dr));
        AttentionSpec.Builder spec = AttentionSpec.builder().scale(scale).threads(threads);
        if (causal) spec.causal(CausalAlignment.BOTTOM_RIGHT);
        AttentionSpec sp = spec.build();
        long pairs = causal ? causalPairs(n, nk) : (long) n * nk;
        MicroKernels mk = MicroKernels.get();
        for (int b = 0; b < cache.batch; b++) {
            float[] x = Shapes.mergedHeads(q, b);
            float[] cq = new float[n * dcq];
            flops[0] += RowParallelMatmul.matmul(threads, x, n, dq, w.wDQ(), dcq, null, cq);
            for (int t = 0; t < n; t++) rmsNorm(cq, t * dcq, dcq, w.gQ());
            float[] qc = new float[n * nh * dh], qr = new float[n * nh * dr];
            flops[0] += RowParallelMatmul.matmul(threads, cq, n, dcq, w.wUQ(), nh * dh, null, qc);
            flops[0] += RowParallelMatmul.matmul(threads, cq, n, dcq, w.wQR(), nh * dr, null, qr);
            for (int t = 0; t < n; t++) for (int h = 0; h < nh; h++) rope(qr, (t * nh + h) * dr, dr, start + t);
            int rowBase = b * cache.capacity * cache.width;
            float[] u = new float[n * dq];
            if (params.absorb()) {
                Absorbed a = absorbed.get(Shape.of(w.heads(), w.dkv() / w.dh(), w.dh()), key -> Absorbed.of(w));
                int wq = dc + dr;
                float[] qa = new float[nh * n * wq];
                for (int h = 0; h < nh; h++) {
                    mk.gemm(n, dc, dh, qc, h * dh, nh * dh, 1, a.wUKT()[h], 0, dc, qa, h * n * wq, wq, false);
                    for (int t = 0; t < n; t++) System.arraycopy(qr, (t * nh + h) * dr, qa, (h * n + t) * wq + dc, dr);
                }
                flops[0] += 2L * nh * n * dh * dc;
                Tensor kt = Tensor.view(cache.rows, rowBase, new int[] {1, 1, nk, wq}, new int[] {nk * wq, nk * wq, wq, 1});
                Tensor vt = Tensor.view(cache.rows, rowBase, new int[] {1, 1, nk, dc}, new int[] {nk * wq, nk * wq, wq, 1});
                float[] o = Attention.sdpa(Tensor.of(qa, 1, nh, n, wq), kt, vt, sp).output().data();
                flops[0] += 2L * nh * pairs * (wq + dc);
                for (int h = 0; h < nh; h++) mk.gemm(n, dq, dc, o, h * n * dc, dc, 1, a.wUVO()[h], 0, dq, u, 0, dq, h > 0);
                flops[0] += 2L * nh * n * dc * dq;
            } else {
                float[] c = new float[nk * dc];
                float[] kr = new float[nk * dr];
                for (int j = 0; j < nk; j++) {
                    System.arraycopy(cache.rows, rowBase + j * cache.width, c, j * dc, dc);
                    System.arraycopy(cache.rows, rowBase + j * cache.width + dc, kr, j * dr, dr);
                }
                float[] kc = new float[nk * nh * dh], vc = new float[nk * nh * dh];
                flops[0] += RowParallelMatmul.matmul(threads, c, nk, dc, w.wUK(), nh * dh, null, kc);
                flops[0] += RowParallelMatmul.matmul(threads, c, nk, dc, w.wUV(), nh * dh, null, vc);
                int wk = dh + dr;
                float[] qf = new float[nh * n * wk], kf = new float[nh * nk * wk];
                for (int h = 0; h < nh; h++) {
                    for (int t = 0; t < n; t++) {
                        System.arraycopy(qc, t * nh * dh + h * dh, qf, (h * n + t) * wk, dh);
                        System.arraycopy(qr, (t * nh + h) * dr, qf, (h * n + t) * wk + dh, dr);
                    }
                    for (int j = 0; j < nk; j++) {
                        System.arraycopy(kc, j * nh * dh + h * dh, kf, (h * nk + j) * wk, dh);
                        System.arraycopy(kr, j * dr, kf, (h * nk + j) * wk + dh, dr);
                    }
                }
                Tensor vt = Tensor.view(vc, 0, new int[] {1, nh, nk, dh}, new int[] {nk * nh * dh, dh, nh * dh, 1});
                float[] o = Attention.sdpa(Tensor.of(qf, 1, nh, n, wk), Tensor.of(kf, 1, nh, nk, wk), vt, sp).output().data();
                flops[0] += 2L * nh * pairs * (wk + dh);
                for (int h = 0; h < nh; h++) mk.gemm(n, dq, dh, o, h * n * dh, dh, 1, w.wO(), h * dh * dq, dq, u, 0, dq, h > 0);
                flops[0] += 2L * n * nh * dh * dq;
            }
            // U row t (width H·D) back into heads: out[b, h, t, :] = U[t, h·D : (h+1)·D].
            int heads = cache.heads, d = cache.d;
            for (int t = 0; t < n; t++) {
                for (int h = 0; h < heads; h++) System.arraycopy(u, t * dq + h * d, out, ((b * heads + h) * n + t) * d, d);
            }
        }
        return Tensor.of(out, cache.batch, cache.heads, n, cache.d);
    }

    private static long causalPairs(int nq, int nk) {
        long p = 0;
        int off = nk - nq;
        for (int i = 0; i < nq; i++) p += Math.max(0, Math.min(nk, i + off + 1));
        return p;
    }

    private static void rmsNorm(float[] x, int off, int n, float[] gain) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) x[off + i] * x[off + i];
        float inv = (float) (1 / Math.sqrt(ss / n + NORM_EPS));
        for (int i = 0; i < n; i++) x[off + i] = x[off + i] * inv * gain[i];
    }

    /** Rotary embedding of pairs (2m, 2m+1) at position {@code pos}, frequency base^(−2m/n). */
    static void rope(float[] x, int off, int n, int pos) {
        for (int m = 0; m < n / 2; m++) {
            double angle = pos * Math.pow(ROPE_BASE, -2.0 * m / n);
            double c = Math.cos(angle), s = Math.sin(angle);
            double a = x[off + 2 * m], bb = x[off + 2 * m + 1];
            x[off + 2 * m] = (float) (a * c - bb * s);
            x[off + 2 * m + 1] = (float) (a * s + bb * c);
        }
    }
}
