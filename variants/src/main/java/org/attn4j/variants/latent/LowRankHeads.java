package org.attn4j.variants.latent;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
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
 * P50 — "On the Benefits of Rank in Attention Layers" (Amsel, Yehudai, Bruna): multi-head attention
 * whose heads have a score matrix of controlled rank r. The paper's object of study is the rank of
 * each head's bilinear form {@code W_Q^h W_K^hᵀ}: standard transformers tie it to d/H, and the paper
 * shows a target that one full-rank head represents but low-rank heads need exponentially many
 * heads for. Here the rank is a free parameter, decoupled from the head dimension.
 *
 * <p>Contract: {@code q [B,H,Nq,D]}, {@code k [B,H,Nk,D]}, {@code v [B,H,Nk,Dv]} (no kv-head
 * sharing); per head h learned factors {@code W_Q^h, W_K^h ∈ R^{D×r}}:
 * {@code out_h = softmax(scale · (q_h W_Q^h)(k_h W_K^h)ᵀ) v_h}, scale default 1/sqrt(D), values
 * untouched. Each head's logit matrix has rank ≤ min(r, D); with r ≥ D and
 * {@code W_Q^h = W_K^h = [I_D 0]} it is standard multi-head attention. The projected queries and
 * keys ({@code [B,H,N,r]}) go through the exact engine ({@link Attention#sdpa}).
 * {@link #logitRanks} reports each head's numerical rank (float64 one-sided Jacobi SVD).
 */
public final class LowRankHeads implements Variant {
    static final VariantInfo INFO = new VariantInfo("low-rank-heads", "P50", "On the Benefits of Rank in Attention Layers", Family.L, false,
            "per-head score form W_Q W_K^T of rank r decoupled from the head dim; reports each head's logit rank");

    private final LowRankParams params;
    private final long seed;
    private final Weights fixed;
    private final ShapeCache<Weights> bySize = new ShapeCache<>();

    /** Per-head factors, {@code wq[h]} and {@code wk[h]} row-major {@code D × r}. */
    public record Weights(int heads, int d, int rank, float[][] wq, float[][] wk) {
        public Weights {
            if (wq.length != heads || wk.length != heads) throw new IllegalArgumentException("wq/wk: expected " + heads + " heads, got " + wq.length + " and " + wk.length);
            for (int h = 0; h < heads; h++) {
                if (wq[h].length != d * rank) throw new IllegalArgumentException("wq[" + h + "]: expected D·r = " + d * rank + " values, got " + wq[h].length);
                if (wk[h].length != d * rank) throw new IllegalArgumentException("wk[" + h + "]: expected D·r = " + d * rank + " values, got " + wk[h].length);
            }
        }

        /** Glorot-initialised factors from the seed. */
        public static Weights seeded(long seed, int heads, int d, int rank) {
            float[][] wq = new float[heads][], wk = new float[heads][];
            for (int h = 0; h < heads; h++) {
                wq[h] = Init.glorot(seed, "low-rank-heads.wq." + h, d, rank);
                wk[h] = Init.glorot(seed, "low-rank-heads.wk." + h, d, rank);
            }
            return new Weights(heads, d, rank, wq, wk);
        }
    }

    /** Weights drawn from {@code seed} for each input shape on first use. */
    public LowRankHeads(LowRankParams params, long seed) {
        this.params = java.util.Objects.requireNonNull(params, "params");
        this.seed = seed;
        this.fixed = null;
    }

    /** Explicit weights (tests, loaded models); their rank must equal {@code params.rank()}. */
    public LowRankHeads(LowRankParams params, Weights weights) {
        this.params = java.util.Objects.requireNonNull(params, "params");
        if (weights.rank() != params.rank()) throw new IllegalArgumentException("weights: rank " + weights.rank() + " != params.rank " + params.rank());
        this.seed = 0;
        this.fixed = weights;
    }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() { return INFO; }

    public LowRankParams params() { return params; }

    /** The factors used for inputs with {@code heads} heads of dimension {@code d}. */
    public Weights weights(int heads, int d) {
        if (fixed != null) {
            if (fixed.heads() != heads || fixed.d() != d) {
                throw new IllegalArgumentException("q: weights are for H=" + fixed.heads() + ", D=" + fixed.d() + ", got H=" + heads + ", D=" + d);
            }
            return fixed;
        }
        return bySize.get(Shape.of(heads, d), key -> Weights.seeded(seed, heads, d, params.rank()));
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v).requireSameHeads();
        Weights w = weights(s.heads(), s.d());
        int r = params.rank();
        float[] qp = project(q, w.wq(), s.batch(), s.heads(), s.nq(), s.d(), r, threads);
        float[] kp = project(k, w.wk(), s.batch(), s.heads(), s.nk(), s.d(), r, threads);
        AttentionSpec.Builder spec = AttentionSpec.builder()
                .scale(params.scale() != null ? params.scale() : (float) (1 / Math.sqrt(s.d())))
                .threads(threads);
        if (params.causal()) spec.causal(CausalAlignment.BOTTOM_RIGHT);
        Tensor out = Attention.sdpa(Tensor.of(qp, s.batch(), s.heads(), s.nq(), r), Tensor.of(kp, s.batch(), s.heads(), s.nk(), r), v, spec.build()).output();
        long heads = (long) s.batch() * s.heads();
        long flops = heads * 2L * (s.nq() + s.nk()) * s.d() * r;
        long pairs = (long) s.nq() * s.nk();
        if (params.causal()) {
            int off = s.nk() - s.nq();
            pairs = 0;
            for (int i = 0; i < s.nq(); i++) pairs += Math.max(0, Math.min(s.nk(), i + off + 1));
        }
        flops += heads * 2L * pairs * (r + s.dv());
        return new VariantResult(out, flops);
    }

    /** {@code x_h W^h} for every (b, h): [B, H, N, r] row-major. */
    private static float[] project(Tensor x, float[][] w, int batch, int heads, int n, int d, int r, int threads) {
        float[] out = new float[batch * heads * n * r];
        MicroKernels mk = MicroKernels.get();
        Parallel.forEach(Parallel.resolveThreads(threads), batch * heads, wk -> null, (bh, st) -> {
            int b = bh / heads, h = bh % heads;
            float[] xh = Shapes.head(x, b, h);
            mk.gemm(n, r, d, xh, 0, d, 1, w[h], 0, r, out, bh * n * r, r, false);
        });
        return out;
    }

    /**
     * The unscaled logit matrix {@code (q_h W_Q^h)(k_h W_K^h)ᵀ} of head (b, h) in float64
     * (row-major {@code Nq × Nk}), from the float32 inputs and weights.
     */
    public double[] logits(Tensor q, Tensor k, int b, int h) {
        Shapes s = Shapes.of(q, k, k).requireSameHeads();
        if (b < 0 || b >= s.batch()) throw new IllegalArgumentException("b: expected 0 <= b < B = " + s.batch() + ", got " + b);
        if (h < 0 || h >= s.heads()) throw new IllegalArgumentException("h: expected 0 <= h < H = " + s.heads() + ", got " + h);
        if ((long) s.nq() * s.nk() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("q: the logit matrix Nq × Nk = " + s.nq() + " × " + s.nk() + " exceeds one array");
        }
        Weights w = weights(s.heads(), s.d());
        int r = params.rank(), d = s.d();
        double[] qp = projectDouble(Shapes.head(q, b, h), s.nq(), d, w.wq()[h], r);
        double[] kp = projectDouble(Shapes.head(k, b, h), s.nk(), d, w.wk()[h], r);
        double[] out = new double[s.nq() * s.nk()];
        for (int i = 0; i < s.nq(); i++) {
            for (int j = 0; j < s.nk(); j++) {
                double acc = 0;
                for (int c = 0; c < r; c++) acc += qp[i * r + c] * kp[j * r + c];
                out[i * s.nk() + j] = acc;
            }
        }
        return out;
    }

    private static double[] projectDouble(float[] x, int n, int d, float[] w, int r) {
        double[] out = new double[n * r];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < r; c++) {
                double acc = 0;
                for (int p = 0; p < d; p++) acc += (double) x[i * d + p] * w[p * r + c];
                out[i * r + c] = acc;
            }
        }
        return out;
    }

    /**
     * Numerical rank of every head's logit matrix: {@code ranks[b][h]} = number of singular values
     * of {@link #logits} above {@code tol·σ_max}. Always ≤ min(r, D, Nq, Nk).
     */
    public int[][] logitRanks(Tensor q, Tensor k, double tol) {
        Shapes s = Shapes.of(q, k, k).requireSameHeads();
        int[][] ranks = new int[s.batch()][s.heads()];
        for (int b = 0; b < s.batch(); b++) {
            for (int h = 0; h < s.heads(); h++) ranks[b][h] = NumericalRank.rank(logits(q, k, b, h), s.nq(), s.nk(), tol);
        }
        return ranks;
    }
}
