package org.attn4j.variants.recurrent;

import java.util.Objects;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.Erf;
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
import org.attn4j.variants.latent.RowParallelMatmul;

/**
 * P106 — "Mega: Moving Average Equipped Gated Attention" (Ma et al.): a multi-dimensional damped EMA
 * over the sequence feeds a single-head gated attention.
 *
 * <p><b>Input mapping.</b> Mega is a layer on a sequence X of width d. Here
 * {@code X[t] = concat_h q[b,h,t,:]} (d = H·D); the layer's output (width d) is returned split back
 * into heads, {@code [B, H, N, D]}. {@code k} and {@code v} are validated (self-attention shapes)
 * but not read: Mega derives its queries, keys and values from X. The layer norm of the Mega block
 * and dropout are left out; everything else follows the paper and its reference code.
 *
 * <p><b>EMA</b> (per channel c, expansion n = 1..h, coefficients α, δ ∈ (0,1), β, η):
 * {@code h_t[n] = α_n β_n x_t + (1 − α_n δ_n) h_{t−1}[n]}, {@code y_t = (1/√h) Σ_n η_n h_t[n]},
 * equivalently the causal convolution with kernel {@code K[l] = (1/√h) Σ_n η_n α_n β_n (1 − α_n δ_n)^l}
 * ({@link #emaKernel}); {@code X' = silu(y + ω ⊙ X)}.
 * <br><b>Gated attention</b>: {@code V = silu(X W_v + b_v)}; {@code [u, z|r, ĥ] = X' W_m + b_m};
 * update gate {@code u = sigmoid(·)}, {@code Z, r = silu(·)} (z and vdim wide), {@code Q = Z ⊙ γ_0 + β_0},
 * {@code K = Z ⊙ γ_1 + β_1}; scores {@code s = Q Kᵀ/√z + b_rel} then softmax, or
 * {@code s = Q Kᵀ/len + b_rel} then laplace / relu² (len = the number of visible keys);
 * {@code b_rel[i, j] = w[j − i + P − 1]} a learned relative-position bias (P = chunk or N);
 * {@code H = silu(ĥ + ((A V) ⊙ r) W_h + b_h)}; output {@code u ⊙ H + (1 − u) ⊙ X}.
 * With {@code chunk > 0} attention runs within chunks (Mega-chunk, linear in N); the EMA always
 * spans the whole sequence. The EMA is causal; {@code causal=true} also masks the attention.
 */
public final class MegaAttention implements Variant {
    static final VariantInfo INFO = new VariantInfo("mega", "P106", "Mega: Moving Average Equipped Gated Attention", Family.L, false,
            "multi-dimensional damped EMA then single-head gated attention (softmax, laplace or relu^2), optional chunks");

    private static final int BLOCK = 32;
    private static final double LAPLACE_MU = Math.sqrt(0.5), LAPLACE_SIGMA = Math.sqrt(1 / (4 * Math.PI));

    private final MegaParams params;
    private final long seed;
    private final Weights fixed;
    private final ShapeCache<Weights> byShape = new ShapeCache<>();

    /**
     * Mega's parameters for width d, z, vdim, EMA dimension h, relative positions P. EMA arrays are
     * {@code [d × h]} row-major with the effective coefficients (α, δ in (0, 1)); matrices are
     * {@code in × out} row-major; {@code wMx} has {@code 2d + z + vdim} columns ordered
     * {@code [u (d) | Z (z) | r (vdim) | ĥ (d)]}; {@code gamma, offset} are {@code [2 × z]} (row 0
     * queries, row 1 keys); {@code relpos} has {@code 2P − 1} entries.
     */
    public record Weights(int d, int z, int vdim, int ndim, int positions,
                          float[] alpha, float[] delta, float[] beta, float[] eta, float[] omega,
                          float[] wV, float[] bV, float[] wMx, float[] bMx, float[] wH, float[] bH,
                          float[] gamma, float[] offset, float[] relpos) {
        public Weights {
            int dn = d * ndim, m = 2 * d + z + vdim;
            check("alpha", alpha, dn);
            check("delta", delta, dn);
            check("beta", beta, dn);
            check("eta", eta, dn);
            check("omega", omega, d);
            check("wV", wV, d * vdim);
            check("bV", bV, vdim);
            check("wMx", wMx, d * m);
            check("bMx", bMx, m);
            check("wH", wH, vdim * d);
            check("bH", bH, d);
            check("gamma", gamma, 2 * z);
            check("offset", offset, 2 * z);
            check("relpos", relpos, 2 * positions - 1);
            for (int i = 0; i < dn; i++) {
                if (!(alpha[i] > 0 && alpha[i] < 1)) throw new IllegalArgumentException("alpha: expected values in (0, 1), got " + alpha[i] + " at " + i);
                if (!(delta[i] > 0 && delta[i] < 1)) throw new IllegalArgumentException("delta: expected values in (0, 1), got " + delta[i] + " at " + i);
            }
        }

        private static void check(String name, float[] x, int n) {
            if (x == null || x.length != n) throw new IllegalArgumentException(name + ": expected " + n + " values, got " + (x == null ? "null" : x.length));
        }

        /**
         * The reference code's initialisation from the seed: α, δ = sigmoid(N(0, 0.2²)),
         * β = ±1 (alternating) + N(0, 0.02²), η, ω ~ N(0, 1), projections and γ ~ N(0, std²),
         * relative bias ~ N(0, 0.02²); biases and offsets ~ N(0, biasStd²) (0 in the reference).
         */
        public static Weights seeded(long seed, int d, int z, int vdim, int ndim, int positions, double std, double biasStd) {
            int dn = d * ndim, m = 2 * d + z + vdim;
            float[] alpha = Init.normal(seed, "mega.alpha", dn, 0.2), delta = Init.normal(seed, "mega.delta", dn, 0.2);
            float[] beta = Init.normal(seed, "mega.beta", dn, 0.02);
            for (int i = 0; i < dn; i++) {
                alpha[i] = (float) (1 / (1 + Math.exp(-alpha[i])));
                delta[i] = (float) (1 / (1 + Math.exp(-delta[i])));
                beta[i] += (i % ndim) % 2 == 0 ? 1f : -1f;
            }
            return new Weights(d, z, vdim, ndim, positions, alpha, delta, beta,
                    Init.normal(seed, "mega.eta", dn, 1), Init.normal(seed, "mega.omega", d, 1),
                    Init.normal(seed, "mega.wV", d * vdim, std), Init.normal(seed, "mega.bV", vdim, biasStd),
                    Init.normal(seed, "mega.wMx", d * m, std), Init.normal(seed, "mega.bMx", m, biasStd),
                    Init.normal(seed, "mega.wH", vdim * d, std), Init.normal(seed, "mega.bH", d, biasStd),
                    Init.normal(seed, "mega.gamma", 2 * z, std), Init.normal(seed, "mega.offset", 2 * z, biasStd),
                    Init.normal(seed, "mega.relpos", 2 * positions - 1, 0.02));
        }
    }

    public MegaAttention(MegaParams params, long seed) {
        this.params = Objects.requireNonNull(params, "params");
        this.seed = seed;
        this.fixed = null;
    }

    /** Explicit parameters (tests); z, vdim and ndim must agree with the params (or the params be 0 = auto). */
    public MegaAttention(MegaParams params, Weights weights) {
        this.params = Objects.requireNonNull(params, "params");
        this.fixed = Objects.requireNonNull(weights, "weights");
        this.seed = 0;
        if (params.ndim() != weights.ndim()) throw new IllegalArgumentException("weights: ndim " + weights.ndim() + " != params.ndim " + params.ndim());
        if (params.zdim() != 0 && params.zdim() != weights.z()) throw new IllegalArgumentException("weights: z " + weights.z() + " != params.zdim " + params.zdim());
        if (params.vdim() != 0 && params.vdim() != weights.vdim()) throw new IllegalArgumentException("weights: vdim " + weights.vdim() + " != params.vdim " + params.vdim());
    }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() { return INFO; }

    public MegaParams params() { return params; }

    /** The parameters used for model width d and sequence length n. */
    public Weights weights(int d, int n) {
        int positions = Math.max(1, params.chunk() > 0 ? params.chunk() : n);
        if (fixed != null) {
            if (fixed.d() != d) throw new IllegalArgumentException("q: weights are for width d=" + fixed.d() + " (H·D), got " + d);
            if (fixed.positions() < Math.min(positions, n)) {
                throw new IllegalArgumentException("q: weights hold relative positions for " + fixed.positions() + " tokens, attention spans " + Math.min(positions, n));
            }
            return fixed;
        }
        return byShape.get(Shape.of(d, positions),
                key -> Weights.seeded(seed, d, params.z(d), params.v(d), params.ndim(), positions, 0.02, 0.0));
    }

    /**
     * The EMA before its activation, {@code y [n × d]} for the sequence {@code x [n × d]}, by the
     * recurrence (channels in parallel).
     */
    public static float[] ema(Weights w, float[] x, int n, int threads) {
        int d = w.d(), h = w.ndim();
        float[] y = new float[n * d];
        float scale = (float) Math.sqrt(1.0 / h);
        Parallel.forEach(Math.max(1, Math.min(Parallel.resolveThreads(threads), d)), d, wk -> new float[3 * h], (c, buf) -> {
            for (int i = 0; i < h; i++) {
                int p = c * h + i;
                buf[i] = w.alpha()[p] * w.beta()[p];
                buf[h + i] = 1 - w.alpha()[p] * w.delta()[p];
                buf[2 * h + i] = 0;
            }
            for (int t = 0; t < n; t++) {
                float xt = x[t * d + c], acc = 0;
                for (int i = 0; i < h; i++) {
                    float s = buf[i] * xt + buf[h + i] * buf[2 * h + i];
                    buf[2 * h + i] = s;
                    acc += w.eta()[c * h + i] * s;
                }
                y[t * d + c] = acc * scale;
            }
        });
        return y;
    }

    /** The EMA as a causal convolution kernel {@code K [d × length]}: {@code y_t = Σ_l K[l]·x_{t−l}}. */
    public static float[] emaKernel(Weights w, int length) {
        int d = w.d(), h = w.ndim();
        float[] k = new float[d * length];
        double scale = Math.sqrt(1.0 / h);
        for (int c = 0; c < d; c++) {
            for (int i = 0; i < h; i++) {
                int p = c * h + i;
                double coef = scale * w.eta()[p] * w.alpha()[p] * w.beta()[p], q = 1 - (double) w.alpha()[p] * w.delta()[p], pow = 1;
                for (int l = 0; l < length; l++) {
                    k[c * length + l] += (float) (coef * pow);
                    pow *= q;
                }
            }
        }
        return k;
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes sh = Shapes.self(q, k, v);
        int batch = sh.batch(), heads = sh.heads(), n = sh.nq(), dh = sh.d(), d = heads * dh;
        Weights w = weights(d, n);
        int z = w.z(), vd = w.vdim(), m = 2 * d + z + vd;
        int nt = Parallel.resolveThreads(threads);
        float[] out = new float[batch * heads * n * dh];
        long flops = 0;
        MicroKernels mk = MicroKernels.get();
        int chunk = params.chunk() > 0 ? params.chunk() : Math.max(1, n);
        for (int b = 0; b < batch; b++) {
            float[] x = Shapes.mergedHeads(q, b);
            float[] y = ema(w, x, n, nt);
            flops += 5L * n * d * w.ndim();
            for (int i = 0; i < n * d; i++) y[i] = silu(y[i] + w.omega()[i % d] * x[i]);
            float[] vv = new float[n * vd], base = new float[n * m];
            flops += RowParallelMatmul.matmul(nt, x, n, d, w.wV(), vd, w.bV(), vv);
            for (int i = 0; i < vv.length; i++) vv[i] = silu(vv[i]);
            flops += RowParallelMatmul.matmul(nt, y, n, d, w.wMx(), m, w.bMx(), base);
            float[] qz = new float[n * z], kzT = new float[z * n], r = new float[n * vd];
            for (int t = 0; t < n; t++) {
                int row = t * m;
                for (int c = 0; c < z; c++) {
                    float zz = silu(base[row + d + c]);
                    qz[t * z + c] = zz * w.gamma()[c] + w.offset()[c];
                    kzT[c * n + t] = zz * w.gamma()[z + c] + w.offset()[z + c];
                }
                for (int c = 0; c < vd; c++) r[t * vd + c] = silu(base[row + d + z + c]);
            }
            float[] att = new float[n * vd];
            long[] pairs = new long[1];
            int chunks = (n + chunk - 1) / chunk, blocksPerChunk = (Math.min(chunk, n) + BLOCK - 1) / BLOCK;
            int items = chunks * blocksPerChunk;
            long[] perItem = new long[items];
            boolean causal = params.causal();
            Parallel.forEach(Math.max(1, Math.min(nt, items)), items, wk -> new float[BLOCK * Math.min(chunk, Math.max(1, n))], (task, sc) -> {
                // Causal blocks late in a chunk see the most keys: hand them out first.
                int item = causal ? items - 1 - task : task;
                int ci = item / blocksPerChunk, c0 = ci * chunk, c1 = Math.min(n, c0 + chunk);
                int i0 = c0 + (item % blocksPerChunk) * BLOCK;
                if (i0 >= c1) return;
                int i1 = Math.min(c1, i0 + BLOCK), rows = i1 - i0;
                int kEnd = causal ? i1 : c1, len = kEnd - c0;
                mk.gemm(rows, len, z, qz, i0 * z, z, 1, kzT, c0, n, sc, 0, len, false);
                scoresToWeights(w, sc, rows, len, i0 - c0, c1 - c0);
                mk.gemm(rows, vd, len, sc, 0, len, 1, vv, c0 * vd, vd, att, i0 * vd, vd, false);
                perItem[item] = (long) rows * len;
            });
            for (long p : perItem) pairs[0] += p;
            flops += 2L * pairs[0] * (z + vd);
            for (int i = 0; i < att.length; i++) att[i] *= r[i];
            float[] hh = new float[n * d];
            flops += RowParallelMatmul.matmul(nt, att, n, vd, w.wH(), d, w.bH(), hh);
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < d; c++) {
                    float u = sigmoid(base[t * m + c]);
                    float hv = silu(hh[t * d + c] + base[t * m + d + z + vd + c]);
                    float xv = x[t * d + c];
                    out[((b * heads + c / dh) * n + t) * dh + c % dh] = xv + u * (hv - xv);
                }
            }
        }
        return new VariantResult(Tensor.of(out, batch, heads, n, dh), flops);
    }

    /**
     * Turns a block of raw scores {@code Q·K} (rows = queries at chunk offsets {@code r0..}, cols =
     * keys at chunk offsets {@code 0..len}) into attention weights in place.
     */
    private void scoresToWeights(Weights w, float[] s, int rows, int len, int r0, int chunkLen) {
        int p = w.positions();
        float[] rel = w.relpos();
        boolean causal = params.causal();
        switch (params.attention()) {
            case SOFTMAX -> {
                float scale = (float) (1 / Math.sqrt(w.z()));
                for (int i = 0; i < rows; i++) {
                    int qi = r0 + i, visible = causal ? qi + 1 : len, off = i * len;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < visible; j++) {
                        float v = s[off + j] * scale + rel[j - qi + p - 1];
                        s[off + j] = v;
                        max = Math.max(max, v);
                    }
                    float sum = 0;
                    for (int j = 0; j < visible; j++) {
                        float e = (float) Math.exp(s[off + j] - max);
                        s[off + j] = e;
                        sum += e;
                    }
                    float inv = 1 / sum;
                    for (int j = 0; j < visible; j++) s[off + j] *= inv;
                    for (int j = visible; j < len; j++) s[off + j] = 0;
                }
            }
            case LAPLACE, RELU2 -> {
                boolean laplace = params.attention() == MegaParams.Activation.LAPLACE;
                for (int i = 0; i < rows; i++) {
                    int qi = r0 + i, visible = causal ? qi + 1 : len, off = i * len;
                    float inv = 1f / (causal ? qi + 1 : chunkLen);
                    for (int j = 0; j < visible; j++) {
                        float v = s[off + j] * inv + rel[j - qi + p - 1];
                        if (laplace) {
                            s[off + j] = (float) (0.5 * (1 + Erf.erf((v - LAPLACE_MU) / (LAPLACE_SIGMA * Math.sqrt(2)))));
                        } else {
                            float rl = Math.max(v, 0);
                            s[off + j] = rl * rl;
                        }
                    }
                    for (int j = visible; j < len; j++) s[off + j] = 0;
                }
            }
        }
    }

    static float silu(float x) { return x / (1 + (float) Math.exp(-x)); }

    static float sigmoid(float x) { return 1 / (1 + (float) Math.exp(-x)); }
}
