package org.attn4j.variants.linear;

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
 * P87 — CHELA: Short-Long Convolutions Help Hardware-Efficient Linear Attention to Focus on Long
 * Sequences (Liu et al.). CHELA replaces the state-space layer of a Mega-style block by a short
 * convolution followed by a long convolution, and feeds the result, as the shared representation
 * from which queries and keys are read, to a tiled ("divide and conquer") linear attention. Here,
 * per head and channel c, applied to q and to k with the same learned kernels:
 * <pre>
 *   u_t = SiLU(Σ_{s&lt;short} w_{c,s} x_{t−s})                 (short depthwise causal convolution, SiLU)
 *   y_t = Σ_{s≤t} h_c(s) u_{t−s},  h_c(s) = δ(s) + Σ_r γ_{c,r} ρ_{c,r}^s   (long causal convolution with a skip)
 *   out_i = φ(ỹq_i)ᵀ Σ_j φ(ỹk_j) v_jᵀ / φ(ỹq_i)·Σ_j φ(ỹk_j),  φ = elu + 1   (j ≤ i when causal)
 * </pre>
 * Simplification (documented): the paper learns the long kernel explicitly over the whole length
 * (regularised towards smooth decay) and applies it by FFT; here the learned kernel is a sum of
 * {@code rank} decaying exponentials per channel, which is a long, data-independent, decaying
 * filter that runs as an O(N) recurrence. The causal linear attention is the chunked form of
 * {@link LinearCore} (the paper's tiling). Learned kernels come from the seed ({@link Init}) for each
 * (H, D) met, or are given explicitly ({@link Weights}).
 *
 * <p>Shapes: q [B, H, N, D], k [B, Hkv, N, D], v [B, Hkv, N, Dv] → [B, H, N, Dv]; Nq = Nk (the
 * convolutions run over one token sequence); kv heads use the kernels of their first query head.
 */
public final class ChelaAttention implements Variant {
    static final VariantInfo INFO = new VariantInfo("chela", "P87", "CHELA: short-long convolutions with hardware-efficient linear attention",
            Family.L, false, "short depthwise conv + long decaying conv on q and k, then chunked (tiled) linear attention, O(N)");

    /**
     * Learned kernels for {@code heads} heads of dimension {@code d}: short taps
     * [heads][d][shortLen], long gains γ and decays ρ ∈ (0, 1) [heads][d][rank], row-major.
     */
    public record Weights(int heads, int d, int shortLen, int rank, float[] shortTaps, float[] gains, float[] decays) {
        public Weights {
            if (heads < 1 || d < 1) throw new IllegalArgumentException("heads, d: expected ≥ 1, got " + heads + ", " + d);
            check("shortTaps", shortTaps, heads * d * shortLen);
            check("gains", gains, heads * d * rank);
            check("decays", decays, heads * d * rank);
            for (float r : decays) if (!(r > 0f && r < 1f)) throw new IllegalArgumentException("decays: expected values in (0, 1), got " + r);
        }

        private static void check(String name, float[] a, int n) {
            if (a == null || a.length != n) throw new IllegalArgumentException(name + ": expected " + n + " values, got " + (a == null ? "null" : a.length));
        }

        /** Seeded initialisation: taps near the identity, small gains, decays in [0.5, 0.99). */
        public static Weights init(long seed, int heads, int d, int shortLen, int rank) {
            float[] taps = Init.normal(seed, "chela.short", heads * d * shortLen, 0.3);
            for (int i = 0; i < heads * d; i++) taps[i * shortLen] += 1f;
            return new Weights(heads, d, shortLen, rank, taps, Init.normal(seed, "chela.gain", heads * d * rank, 0.1),
                    Init.uniform(seed, "chela.decay", heads * d * rank, 0.5, 0.99));
        }
    }

    private final ChelaParams params;
    private final long seed;
    private final Weights fixed;
    private final ShapeCache<Weights> bySize = new ShapeCache<>();

    /** Kernels drawn from {@code seed} for each (H, D) met. */
    public ChelaAttention(ChelaParams params, long seed) {
        this.params = java.util.Objects.requireNonNull(params, "params");
        this.seed = seed;
        this.fixed = null;
    }

    /** Explicit kernels (their shortLen and rank must match params). */
    public ChelaAttention(ChelaParams params, Weights weights) {
        this.params = java.util.Objects.requireNonNull(params, "params");
        this.seed = 0;
        this.fixed = java.util.Objects.requireNonNull(weights, "weights");
        if (weights.shortLen() != params.shortLen() || weights.rank() != params.rank()) {
            throw new IllegalArgumentException("weights: expected short=" + params.shortLen() + ", rank=" + params.rank()
                    + ", got short=" + weights.shortLen() + ", rank=" + weights.rank());
        }
    }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() { return INFO; }

    Weights weights(int heads, int d) {
        if (fixed != null) {
            if (fixed.heads() != heads || fixed.d() != d) {
                throw new IllegalArgumentException("q: the given weights are for H=" + fixed.heads() + ", D=" + fixed.d() + ", got H=" + heads + ", D=" + d);
            }
            return fixed;
        }
        return bySize.get(Shape.of(heads, d), key -> Weights.init(seed, heads, d, params.shortLen(), params.rank()));
    }

    /** Short convolution, SiLU, then long causal convolution of x (n × d) with head h's kernels, in place. */
    static void convolve(float[] x, int n, int d, Weights w, int h) {
        int sl = w.shortLen(), rk = w.rank();
        // kernels of head h transposed to [tap][channel] and [r][channel]: the channel loops run contiguous
        float[] taps = new float[sl * d], gain = new float[rk * d], decay = new float[rk * d];
        for (int c = 0; c < d; c++) {
            for (int s = 0; s < sl; s++) taps[s * d + c] = w.shortTaps()[(h * d + c) * sl + s];
            for (int r = 0; r < rk; r++) {
                gain[r * d + c] = w.gains()[(h * d + c) * rk + r];
                decay[r * d + c] = w.decays()[(h * d + c) * rk + r];
            }
        }
        float[] u = new float[n * d];
        for (int t = 0; t < n; t++) {
            int o = t * d;
            for (int s = 0; s < sl && s <= t; s++) {
                int xo = (t - s) * d, to = s * d;
                for (int c = 0; c < d; c++) u[o + c] += taps[to + c] * x[xo + c];
            }
        }
        float[] gate = u.clone();
        FlowAttention.sigmoidInPlace(gate);
        for (int i = 0; i < u.length; i++) u[i] *= gate[i]; // SiLU(u) = u·σ(u)
        // long convolution h(s) = δ(s) + Σ_r γ_r ρ_r^s as the recurrence g_r(t) = ρ_r g_r(t−1) + u_t
        float[] g = new float[rk * d];
        for (int t = 0; t < n; t++) {
            int o = t * d;
            System.arraycopy(u, o, x, o, d);
            for (int r = 0; r < rk; r++) {
                int ro = r * d;
                for (int c = 0; c < d; c++) {
                    float gr = g[ro + c] = decay[ro + c] * g[ro + c] + u[o + c];
                    x[o + c] += gain[ro + c] * gr;
                }
            }
        }
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        Weights w = weights(s.heads(), s.d());
        int d = s.d(), n = s.nq();
        int group = s.heads() / s.kvHeads();
        return LinearCore.perHead(s, q, k, v, threads, (b, h, qh, kh, vh, out, scratch) -> {
            convolve(qh, n, d, w, h);
            convolve(kh, n, d, w, (h / group) * group);
            long flops = 2L * ((long) n * d * (2L * params.shortLen() + 4 + 4L * params.rank()));
            LinearAttention.ElementwiseFeatures f = new LinearAttention.ElementwiseFeatures(qh, kh, d, false);
            return flops + (params.causal()
                    ? LinearCore.causal(f, n, vh, s.dv(), params.chunk(), true, out, scratch)
                    : LinearCore.nonCausal(f, n, n, vh, s.dv(), true, out, scratch));
        });
    }
}
