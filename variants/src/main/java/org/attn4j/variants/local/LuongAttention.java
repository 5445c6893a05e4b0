package org.attn4j.variants.local;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.ShapeCache;
import org.attn4j.variants.ShapeCache.Shape;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P100 — "Effective Approaches to Attention-based Neural Machine Translation" (Luong, Pham,
 * Manning): global and local attention with the dot, general and concat scores.
 *
 * <p>The paper's attention is single-head (target state h_t over source states h̄_s); here it runs
 * independently on every head of {@code q [B, H, Nq, D]} (h_t = q_t) over {@code k [B, Hkv, Nk, D]}
 * (h̄_s = k_s) with values {@code v [B, Hkv, Nk, Dv]}; output {@code [B, H, Nq, Dv]}, the context
 * vectors c_t. Positions are 0-based. Per head:
 * <ul>
 *   <li>score: dot {@code scale·q_t·k_s}; general {@code scale·q_tᵀ W k_s}; concat
 *       {@code vₐ·tanh(Wₐ [q_t; k_s])} (unscaled). {@code scale} defaults to 1/sqrt(D); set 1 for the paper.</li>
 *   <li>global: {@code a_t = softmax_s(score)} over all Nk source positions, {@code c_t = Σ a_t(s) v_s}.</li>
 *   <li>local-m: monotonic {@code p_t = t} (self-attention, Nq = Nk); for Nq ≠ Nk the aligned position
 *       is scaled, {@code p_t = ⌊t·Nk/Nq⌋}. The softmax runs over the window
 *       {@code s ∈ [p_t − D, p_t + D] ∩ [0, Nk)}.</li>
 *   <li>local-p: predictive {@code p_t = Nk·sigmoid(v_pᵀ tanh(W_p q_t))} (real-valued); window
 *       {@code s ∈ [p_t − D, p_t + D] ∩ [0, Nk)}, {@code a_t(s) = softmax_window(score)(s)·exp(−(s − p_t)²/(2σ²))},
 *       {@code σ = D/2}, exactly as the paper (the Gaussian-weighted a_t no longer sums to 1).
 *       A row whose window is empty gives 0.</li>
 * </ul>
 * Learned W, Wₐ, vₐ, W_p, v_p are per head, drawn from the seed for the input's (H, D) on first use,
 * or given ({@link LuongWeights}). Global dot/general and local-m dot/general with Nq = Nk run on the
 * flash engine (general as q' = Wᵀq, local-m as the engine's ±D window); the others run a direct
 * per-row loop over the window with the SIMD micro-kernels.
 */
public final class LuongAttention implements Variant {
    public static final VariantInfo GLOBAL = new VariantInfo("luong-global", "P100", "Effective Approaches to Attention-based NMT (Luong)",
            Family.E, true, "global attention with dot, general (q W k) or concat (v tanh(W[q;k])) scores");
    public static final VariantInfo LOCAL_M = new VariantInfo("luong-local-m", "P100", "Effective Approaches to Attention-based NMT (Luong)",
            Family.E, true, "local-m attention: softmax over the window [t-D, t+D] (monotonic alignment)");
    public static final VariantInfo LOCAL_P = new VariantInfo("luong-local-p", "P100", "Effective Approaches to Attention-based NMT (Luong)",
            Family.E, true, "local-p attention: predicted position p_t, windowed softmax times a Gaussian exp(-(s-p_t)^2/(2 sigma^2))");

    private final LuongParams params;
    private final long seed;
    private final LuongWeights fixed;
    private final ShapeCache<LuongWeights> drawn = new ShapeCache<>();

    /** Weights drawn from {@code seed} for the input's (H, D). */
    public LuongAttention(LuongParams params, long seed) {
        this(params, seed, null);
    }

    /** Explicit weights; the input must have their (H, D). */
    public LuongAttention(LuongParams params, LuongWeights weights) {
        this(params, 0, weights);
        if (weights == null) throw new IllegalArgumentException("weights: expected LuongWeights, got null");
    }

    private LuongAttention(LuongParams params, long seed, LuongWeights weights) {
        if (params == null) throw new IllegalArgumentException("params: expected LuongParams, got null");
        this.params = params;
        this.seed = seed;
        this.fixed = weights;
    }

    public LuongParams params() { return params; }

    /** The weights used for inputs with {@code heads} query heads of width {@code d}. */
    public LuongWeights weights(int heads, int d) {
        if (fixed != null) {
            if (fixed.heads() != heads || fixed.d() != d) {
                throw new IllegalArgumentException("weights: given for H=" + fixed.heads() + ", D=" + fixed.d() + " but the input has H=" + heads + ", D=" + d);
            }
            return fixed;
        }
        return drawn.get(Shape.of(heads, d), key -> LuongWeights.init(seed, heads, d));
    }

    @Override
    public VariantInfo info() {
        return switch (params.mode()) {
            case GLOBAL -> GLOBAL;
            case LOCAL_M -> LOCAL_M;
            case LOCAL_P -> LOCAL_P;
        };
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v);
        int heads = s.heads(), nq = s.nq(), nk = s.nk(), d = s.d(), dv = s.dv(), batch = s.batch();
        LuongWeights w = weights(heads, d);
        int workers = Parallel.resolveThreads(threads);
        LuongParams.Score score = params.score();
        boolean engine = score != LuongParams.Score.CONCAT
                && (params.mode() == LuongParams.Mode.GLOBAL || (params.mode() == LuongParams.Mode.LOCAL_M && nq == nk));
        long flops = 0;
        Tensor qs = q;
        if (score == LuongParams.Score.GENERAL) {
            qs = transformQueries(q, s, w.general(), workers);
            flops += 2L * batch * heads * nq * d * d;
        }
        if (engine) {
            AttentionSpec.Builder spec = AttentionSpec.builder().kernel(KernelChoice.FLASH).threads(workers).validate(false).scale(params.scale());
            long pairs;
            if (params.mode() == LuongParams.Mode.LOCAL_M) {
                spec.window(params.window(), params.window());
                pairs = 0;
                for (int t = 0; t < nq; t++) pairs += Math.min(nk - 1, (long) t + params.window()) - Math.max(0, t - params.window()) + 1;
            } else {
                pairs = (long) nq * nk;
            }
            Tensor out = Attention.sdpa(qs, k, v, spec.build()).output();
            return new VariantResult(out, flops + LocalSupport.pairFlops(pairs * batch * heads, d, dv));
        }
        return direct(q, qs, k, v, s, w, workers, flops);
    }

    /** q' = Wᵀq per head ([B, H, Nq, D] contiguous), so that q'·k = qᵀ W k. */
    private static Tensor transformQueries(Tensor q, Shapes s, float[] general, int workers) {
        int heads = s.heads(), nq = s.nq(), d = s.d();
        float[] out = new float[s.batch() * heads * nq * d];
        MicroKernels mk = MicroKernels.get();
        Parallel.forEach(workers, s.batch() * heads, x -> null, (item, st) -> {
            int b = item / heads, h = item % heads;
            float[] qh = Shapes.head(q, b, h);
            // out[t][j] = Σ_i q[t][i] W[i][j]
            mk.gemm(nq, d, d, qh, 0, d, 1, general, h * d * d, d, out, item * nq * d, d, false);
        });
        return Tensor.of(out, s.batch(), heads, nq, d);
    }

    private VariantResult direct(Tensor q, Tensor qs, Tensor k, Tensor v, Shapes s, LuongWeights w, int workers, long baseFlops) {
        int heads = s.heads(), nq = s.nq(), nk = s.nk(), d = s.d(), dv = s.dv();
        LuongParams.Mode mode = params.mode();
        boolean concat = params.score() == LuongParams.Score.CONCAT;
        float scale = params.scale() != null ? params.scale() : (float) (1.0 / Math.sqrt(d));
        int dw = params.window();
        double sigma = dw / 2.0;
        float[] cw = concat ? w.concatW() : null, cv = concat ? w.concatV() : null;
        float[] pw = mode == LuongParams.Mode.LOCAL_P ? w.predictW() : null, pv = mode == LuongParams.Mode.LOCAL_P ? w.predictV() : null;
        float[] out = new float[s.batch() * heads * nq * dv];
        long[] flops = new long[s.batch() * heads];
        MicroKernels mk = MicroKernels.get();
        int span = mode == LuongParams.Mode.GLOBAL ? nk : (int) Math.min(nk, 2L * dw + 2);
        Parallel.forEach(workers, flops.length, x -> new float[][] {new float[span], new float[d]}, (item, buf) -> {
            int b = item / heads, h = item % heads, kh = s.kvHead(h);
            // qh scores (W^T q for general); qo = the original query, which local-p's predictor reads.
            float[] qh = Shapes.head(qs, b, h), kk = Shapes.head(k, b, kh), vv = Shapes.head(v, b, kh);
            float[] qo = qs == q ? qh : Shapes.head(q, b, h);
            float[] uq = null, uk = null;
            long f = 0;
            if (concat) {
                // uq[t][r] = Σ_i Wa[r][i] q[t][i];  uk[s][r] = Σ_i Wa[r][d + i] k[s][i]
                uq = new float[nq * d];
                uk = new float[nk * d];
                mk.gemmTransB(nq, d, d, qh, 0, d, cw, h * d * 2 * d, 2 * d, uq, 0, d);
                mk.gemmTransB(nk, d, d, kk, 0, d, cw, h * d * 2 * d + d, 2 * d, uk, 0, d);
                f += 2L * (nq + nk) * d * d;
            }
            float[] sc = buf[0], hid = buf[1];
            int oBase = item * nq * dv;
            for (int t = 0; t < nq; t++) {
                int lo, hi;
                double p = 0;
                if (mode == LuongParams.Mode.GLOBAL) {
                    lo = 0;
                    hi = nk - 1;
                } else if (mode == LuongParams.Mode.LOCAL_M) {
                    int pt = nq == nk ? t : (int) ((long) t * nk / nq);
                    lo = Math.max(0, pt - dw);
                    hi = (int) Math.min(nk - 1, (long) pt + dw);
                } else {
                    // p_t = Nk · sigmoid(v_p · tanh(W_p q_t))
                    mk.gemmTransB(1, d, d, qo, t * d, d, pw, h * d * d, d, hid, 0, d);
                    double z = 0;
                    for (int r = 0; r < d; r++) z += pv[h * d + r] * Math.tanh(hid[r]);
                    p = nk / (1.0 + Math.exp(-z));
                    f += 2L * d * d + 2L * d;
                    lo = Math.max(0, (int) Math.ceil(p - dw));
                    hi = Math.min(nk - 1, (int) Math.floor(p + dw));
                }
                if (hi < lo) continue; // empty window: c_t = 0
                int cnt = hi - lo + 1;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < cnt; j++) {
                    float x;
                    if (concat) {
                        float acc = 0;
                        int qr = t * d, ko = (lo + j) * d;
                        for (int r = 0; r < d; r++) acc += cv[h * d + r] * (float) Math.tanh(uq[qr + r] + uk[ko + r]);
                        x = acc;
                    } else {
                        x = scale * mk.dot(qh, t * d, kk, (lo + j) * d, d);
                    }
                    sc[j] = x;
                    if (x > max) max = x;
                }
                double sum = 0;
                for (int j = 0; j < cnt; j++) {
                    float e = (float) Math.exp(sc[j] - max);
                    sc[j] = e;
                    sum += e;
                }
                float inv = (float) (1.0 / sum);
                for (int j = 0; j < cnt; j++) {
                    float a = sc[j] * inv;
                    if (mode == LuongParams.Mode.LOCAL_P) {
                        double dist = lo + j - p;
                        a *= (float) Math.exp(-dist * dist / (2 * sigma * sigma));
                    }
                    mk.axpy(a, vv, (lo + j) * dv, out, oBase + t * dv, dv);
                }
                f += (long) cnt * ((concat ? 3L : 2L) * d + 2L * dv);
            }
            flops[item] = f;
        });
        long total = baseFlops;
        for (long x : flops) total += x;
        return new VariantResult(Tensor.of(out, s.batch(), heads, nq, dv), total);
    }
}
