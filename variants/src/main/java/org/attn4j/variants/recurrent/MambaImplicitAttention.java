package org.attn4j.variants.recurrent;

import java.util.Objects;
import org.attn4j.core.parallel.Parallel;
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
 * P105 — "The Hidden Attention of Mamba Models" (Ali, Zimerman, Wolf): a selective state-space (S6)
 * layer, computed by its recurrence, together with the data-dependent attention matrix it
 * implicitly applies.
 *
 * <p><b>Input mapping.</b> The sequence is {@code x = v[b, h]} ({@code N × C}, C = Dv channels),
 * per (batch, head), with one set of S6 parameters shared by all heads. {@code q} and {@code k} are
 * validated (self-attention shapes) but not read: in Mamba, C_t and B_t — the analogues of queries
 * and keys — are themselves projections of x. Output {@code [B, H, N, Dv]}.
 *
 * <p><b>S6</b> (per channel c, state size S): {@code Δ_t = softplus(x_t W_Δ + b_Δ)} (C values),
 * {@code B_t = x_t W_B}, {@code C_t = x_t W_C} (S values, shared by the channels),
 * {@code Ā_t[c] = exp(Δ_t[c]·A[c])} with A diagonal and negative, {@code B̄_t[c] = Δ_t[c]·B_t};
 * {@code h_t[c] = Ā_t[c] ⊙ h_{t−1}[c] + B̄_t[c]·x_t[c]}, {@code y_t[c] = C_t · h_t[c]} (no D skip term).
 * Unrolled: {@code y_t[c] = Σ_{j≤t} α_c[t, j]·x_j[c]} with the hidden attention
 * {@code α_c[t, j] = C_t · (Π_{k=j+1..t} Ā_k[c]) ⊙ B̄_j[c]}, lower-triangular
 * ({@link #implicitAttention}).
 */
public final class MambaImplicitAttention implements Variant {
    static final VariantInfo INFO = new VariantInfo("mamba-implicit", "P105", "The Hidden Attention of Mamba Models", Family.L, false,
            "selective S6 recurrence over the value channels; exposes its implicit causal attention matrix per channel");

    private final SelectiveSsmParams params;
    private final long seed;
    private final Weights fixed;
    private final ShapeCache<Weights> byChannels = new ShapeCache<>();

    /**
     * S6 parameters for C channels and state size S, row-major: {@code wDelta [C×C]},
     * {@code bDelta [C]}, {@code a [C×S]} (all negative), {@code wB, wC [C×S]}.
     */
    public record Weights(int channels, int state, float[] wDelta, float[] bDelta, float[] a, float[] wB, float[] wC) {
        public Weights {
            check("wDelta", wDelta, channels * channels);
            check("bDelta", bDelta, channels);
            check("a", a, channels * state);
            check("wB", wB, channels * state);
            check("wC", wC, channels * state);
            for (int i = 0; i < a.length; i++) {
                if (!(a[i] < 0)) throw new IllegalArgumentException("a: expected negative entries (a stable diagonal A), got " + a[i] + " at " + i);
            }
        }

        private static void check(String name, float[] x, int n) {
            if (x == null || x.length != n) throw new IllegalArgumentException(name + ": expected " + n + " values, got " + (x == null ? "null" : x.length));
        }

        /**
         * Mamba's initialisation from the seed: {@code A[c,s] = −(s+1)·u} with u uniform in
         * [0.8, 1.2] (S4D-real, jittered), Δ bias the inverse softplus of a step log-uniform in
         * [0.001, 0.1], small {@code W_Δ}, Glorot {@code W_B, W_C}.
         */
        public static Weights seeded(long seed, int channels, int state) {
            float[] a = Init.uniform(seed, "mamba.a", channels * state, 0.8, 1.2);
            for (int c = 0; c < channels; c++) for (int s = 0; s < state; s++) a[c * state + s] *= -(s + 1);
            float[] u = Init.uniform(seed, "mamba.dt", channels, Math.log(1e-3), Math.log(1e-1));
            float[] b = new float[channels];
            for (int c = 0; c < channels; c++) {
                double dt = Math.exp(u[c]);
                b[c] = (float) (dt + Math.log(-Math.expm1(-dt)));
            }
            return new Weights(channels, state, Init.normal(seed, "mamba.wDelta", channels * channels, 0.1 / Math.sqrt(channels)), b, a,
                    Init.glorot(seed, "mamba.wB", channels, state), Init.glorot(seed, "mamba.wC", channels, state));
        }
    }

    public MambaImplicitAttention(SelectiveSsmParams params, long seed) {
        this.params = Objects.requireNonNull(params, "params");
        this.seed = seed;
        this.fixed = null;
    }

    /** Explicit parameters (tests); their state size must equal {@code params.state()}. */
    public MambaImplicitAttention(SelectiveSsmParams params, Weights weights) {
        this.params = Objects.requireNonNull(params, "params");
        if (weights.state() != params.state()) throw new IllegalArgumentException("weights: state " + weights.state() + " != params.state " + params.state());
        this.seed = 0;
        this.fixed = weights;
    }

    @Override
    public boolean causal() {
        return true;
    }

    @Override
    public VariantInfo info() { return INFO; }

    /** The parameters used for C-channel inputs. */
    public Weights weights(int channels) {
        if (fixed != null) {
            if (fixed.channels() != channels) throw new IllegalArgumentException("v: weights are for Dv=" + fixed.channels() + " channels, got " + channels);
            return fixed;
        }
        return byChannels.get(Shape.of(channels), key -> Weights.seeded(seed, channels, params.state()));
    }

    /** Per-token selective quantities of one sequence: Δ [N×C], B [N×S], C [N×S]. */
    private record Selective(float[] delta, float[] b, float[] c) {}

    private static Selective selective(Weights w, float[] x, int n) {
        int ch = w.channels(), s = w.state();
        MicroKernels mk = MicroKernels.get();
        float[] delta = new float[n * ch], bm = new float[n * s], cm = new float[n * s];
        if (n > 0) {
            mk.gemm(n, ch, ch, x, 0, ch, 1, w.wDelta(), 0, ch, delta, 0, ch, false);
            mk.gemm(n, s, ch, x, 0, ch, 1, w.wB(), 0, s, bm, 0, s, false);
            mk.gemm(n, s, ch, x, 0, ch, 1, w.wC(), 0, s, cm, 0, s, false);
        }
        for (int t = 0; t < n; t++) for (int c = 0; c < ch; c++) delta[t * ch + c] = softplus(delta[t * ch + c] + w.bDelta()[c]);
        return new Selective(delta, bm, cm);
    }

    static float softplus(float z) {
        return z > 20 ? z : (float) Math.log1p(Math.exp(z));
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes sh = Shapes.self(q, k, v).requireSameHeads();
        int batch = sh.batch(), heads = sh.heads(), n = sh.nk(), ch = sh.dv(), st = params.state();
        Weights w = weights(ch);
        float[] out = new float[batch * heads * n * ch];
        Parallel.forEach(Parallel.resolveThreads(threads), batch * heads, wk -> new float[ch * st], (bh, h) -> {
            float[] x = Shapes.head(v, bh / heads, bh % heads);
            Selective sel = selective(w, x, n);
            java.util.Arrays.fill(h, 0f);
            int base = bh * n * ch;
            float[] a = w.a();
            for (int t = 0; t < n; t++) {
                for (int c = 0; c < ch; c++) {
                    float dt = sel.delta()[t * ch + c], dx = dt * x[t * ch + c];
                    float acc = 0;
                    for (int s = 0; s < st; s++) {
                        int i = c * st + s;
                        float hs = (float) Math.exp(dt * a[i]) * h[i] + dx * sel.b()[t * st + s];
                        h[i] = hs;
                        acc += sel.c()[t * st + s] * hs;
                    }
                    out[base + t * ch + c] = acc;
                }
            }
        });
        long flops = (long) batch * heads * ((long) n * 2 * ch * (ch + 2L * st) + (long) n * ch * (1 + 6L * st));
        return new VariantResult(Tensor.of(out, batch, heads, n, ch), flops);
    }

    /**
     * The hidden attention of head (b, h) of {@code v}: {@code [C, N, N]} with
     * {@code α_c[t, j] = Σ_s C_t[s]·exp(A[c,s]·Σ_{k=j+1..t} Δ_k[c])·Δ_j[c]·B_j[s]} for j ≤ t and 0
     * above the diagonal, evaluated in float64 by carrying the product {@code Π Ā_k ⊙ B̄_j} forward
     * from each j. {@code y = α·x} per channel reproduces {@link #run}. O(C·N²·S).
     */
    public Tensor implicitAttention(Tensor v, int b, int h) {
        if (v.rank() != 4) throw new IllegalArgumentException("v: expected rank 4 [B, H, N, Dv], got " + java.util.Arrays.toString(v.shape()));
        int n = v.dim(2), ch = v.dim(3), st = params.state();
        if (b < 0 || b >= v.dim(0)) throw new IllegalArgumentException("b: expected 0 <= b < B = " + v.dim(0) + ", got " + b);
        if (h < 0 || h >= v.dim(1)) throw new IllegalArgumentException("h: expected 0 <= h < H = " + v.dim(1) + ", got " + h);
        if ((long) ch * n * n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("v: the implicit attention [C, N, N] = [" + ch + ", " + n + ", " + n + "] exceeds one array's "
                    + (Integer.MAX_VALUE - 8) + " floats");
        }
        Weights w = weights(ch);
        float[] x = Shapes.head(v, b, h);
        Selective sel = selective(w, x, n);
        float[] alpha = new float[ch * n * n];
        double[] carry = new double[st];
        for (int c = 0; c < ch; c++) {
            for (int j = 0; j < n; j++) {
                double dj = sel.delta()[j * ch + c];
                for (int s = 0; s < st; s++) carry[s] = dj * sel.b()[j * st + s];
                for (int t = j; t < n; t++) {
                    if (t > j) {
                        double dt = sel.delta()[t * ch + c];
                        for (int s = 0; s < st; s++) carry[s] *= Math.exp(dt * w.a()[c * st + s]);
                    }
                    double acc = 0;
                    for (int s = 0; s < st; s++) acc += sel.c()[t * st + s] * carry[s];
                    alpha[(c * n + t) * n + j] = (float) acc;
                }
            }
        }
        return Tensor.of(alpha, ch, n, n);
    }
}
