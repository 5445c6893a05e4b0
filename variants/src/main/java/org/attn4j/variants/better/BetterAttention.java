package org.attn4j.variants.better;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Init;
import org.attn4j.variants.ShapeCache;
import org.attn4j.variants.ShapeCache.Shape;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantResult;

/**
 * The shared machinery of the three P96 mechanisms ("You Need to Pay Better Attention", Hosseini &amp;
 * Hosseini, arXiv 2403.01643). Mapping onto the variant contract: the layer inputs are the
 * head-concatenated tensors {@code X_Q[n] = concat_h q[b, h, n, :]} ({@code d_m = H·D}),
 * {@code X_K} from k and {@code X_V} from v ({@code H·Dv}); head h's slices of them are
 * {@code q[b, h], k[b, h], v[b, h]}. Per head
 * <pre>  standard : softmax((X_Q·W^Q_h)(X_K·W^K_h)ᵀ/√D)·(X_V·W^V_h)
 *   optimised: softmax((X_Q·W^Q_h)(X_K·W^K_h)ᵀ/√D)·v_h            (W^V merged into W^O)
 *   efficient: softmax((X_Q·W^Q_h)·k_hᵀ/√D)·v_h                   (W^K merged into W^Q as well)
 *   super    : softmax((X_Q·W^Q_h)·k_hᵀ/√D)·(W^A·v_h)             (+ alignment kernel W^A, N×N)</pre>
 * and the output is {@code concat_h(head_h)·W^O} ({@code W^O [H·Dv, H·Dv]}), returned split back
 * into heads {@code [B, H, N, Dv]}. {@code W^Q_h, W^K_h} are {@code [d_m, D]}; W^A is shared by the
 * heads. This follows the public reference implementation of the paper (the only one found); the
 * softmax attention itself runs on the engine ({@code Attention.sdpa}).
 */
abstract sealed class BetterAttention implements Variant permits OptimisedAttention, BetterEfficientAttention, SuperAttention {
    enum Kind { OPTIMISED, EFFICIENT, SUPER }

    /**
     * Learned parameters for one input shape; {@code wq[h]}, {@code wk[h]} are {@code [H·D, D]},
     * {@code wa} is {@code [N, N]}, {@code wo} is {@code [H·Dv, H·Dv]}, all row-major; unused ones null.
     */
    record Weights(int heads, int d, int dv, int n, float[][] wq, float[][] wk, float[] wa, float[] wo) {}

    private final Kind kind;
    final BetterAttentionParams params;
    private final long seed;
    private final Weights explicit;
    private final ShapeCache<Weights> cache = new ShapeCache<>();

    @Override
    public boolean causal() {
        return params.causal();
    }

    BetterAttention(Kind kind, BetterAttentionParams params, long seed, Weights explicit) {
        if (params == null) throw new IllegalArgumentException("params: expected BetterAttentionParams, got null");
        this.kind = kind;
        this.params = params;
        this.seed = seed;
        this.explicit = explicit == null ? null : validate(kind, explicit);
    }

    static Weights validate(Kind kind, Weights w) {
        int h = w.heads(), d = w.d(), dv = w.dv(), n = w.n();
        if (h < 1 || d < 1 || dv < 1) throw new IllegalArgumentException("weights: expected heads, d, dv >= 1, got " + h + ", " + d + ", " + dv);
        checkHeads("wq", w.wq(), h, h * d * d);
        if (kind == Kind.OPTIMISED) checkHeads("wk", w.wk(), h, h * d * d);
        if (kind == Kind.SUPER) {
            if (n < 1) throw new IllegalArgumentException("n: expected >= 1 for the alignment kernel W^A, got " + n);
            check("wa", w.wa(), n * n);
        }
        check("wo", w.wo(), h * dv * h * dv);
        return w;
    }

    private static void checkHeads(String name, float[][] a, int heads, int each) {
        if (a == null || a.length != heads) throw new IllegalArgumentException(name + ": expected " + heads + " matrices (one per head), got " + (a == null ? "null" : a.length));
        for (int h = 0; h < heads; h++) check(name + "[" + h + "]", a[h], each);
    }

    private static void check(String name, float[] a, int len) {
        if (a == null || a.length != len) throw new IllegalArgumentException(name + ": expected " + len + " values, got " + (a == null ? "null" : a.length));
        for (float x : a) if (!Float.isFinite(x)) throw new IllegalArgumentException(name + ": expected finite values, got " + x);
    }

    public BetterAttentionParams params() { return params; }

    private Weights weights(int heads, int d, int dv, int n) {
        if (explicit != null) {
            if (explicit.heads() != heads || explicit.d() != d || explicit.dv() != dv || (kind == Kind.SUPER && explicit.n() != n)) {
                throw new IllegalArgumentException("q: the weights are for H=" + explicit.heads() + ", D=" + explicit.d() + ", Dv=" + explicit.dv()
                        + (kind == Kind.SUPER ? ", N=" + explicit.n() : "") + "; got H=" + heads + ", D=" + d + ", Dv=" + dv + (kind == Kind.SUPER ? ", N=" + n : ""));
            }
            return explicit;
        }
        String name = kind.name().toLowerCase();
        return cache.get(Shape.of(heads, d, dv, kind == Kind.SUPER ? n : 0), key -> {
            int dm = heads * d, dmv = heads * dv;
            float[][] wq = new float[heads][], wk = kind == Kind.OPTIMISED ? new float[heads][] : null;
            for (int h = 0; h < heads; h++) {
                wq[h] = Init.glorot(seed, name + ".wq." + h, dm, d);
                if (wk != null) wk[h] = Init.glorot(seed, name + ".wk." + h, dm, d);
            }
            float[] wa = kind == Kind.SUPER ? Init.glorot(seed, name + ".wa", n, n) : null;
            return new Weights(heads, d, dv, n, wq, wk, wa, Init.glorot(seed, name + ".wo", dmv, dmv));
        });
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v).requireSameHeads();
        int bsz = s.batch(), heads = s.heads(), n = s.nq(), d = s.d(), dv = s.dv(), dm = heads * d, dmv = heads * dv;
        if (kind == Kind.SUPER && (long) n * n > SuperAttention.MAX_KERNEL) {
            throw new IllegalArgumentException("q: super-attention's alignment kernel W^A is N×N; N=" + n + " exceeds the limit N <= "
                    + (int) Math.sqrt(SuperAttention.MAX_KERNEL));
        }
        Weights w = weights(heads, d, dv, n);
        int workers = Parallel.resolveThreads(threads);
        MicroKernels mk = MicroKernels.get();
        float[] xq = concat(q, bsz, heads, n, d), xk = kind == Kind.OPTIMISED ? concat(k, bsz, heads, n, d) : null;
        float[] qp = new float[bsz * heads * n * d];
        float[] kp = kind == Kind.OPTIMISED ? new float[bsz * heads * n * d] : null;
        float[] vp = kind == Kind.SUPER ? new float[bsz * heads * n * dv] : null;
        float[] wa = w.wa();
        if (wa != null && params.causal()) {
            wa = wa.clone();
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) wa[i * n + j] = 0f;
        }
        float[] waUsed = wa;
        Parallel.forEach(workers, bsz * heads, x -> null, (bh, st) -> {
            int b = bh / heads, h = bh % heads;
            mk.gemm(n, d, dm, xq, b * n * dm, dm, 1, w.wq()[h], 0, d, qp, bh * n * d, d, false);
            if (kp != null) mk.gemm(n, d, dm, xk, b * n * dm, dm, 1, w.wk()[h], 0, d, kp, bh * n * d, d, false);
            if (vp != null) {
                float[] vh = Shapes.head(v, b, h);
                mk.gemm(n, dv, n, waUsed, 0, n, 1, vh, 0, dv, vp, bh * n * dv, dv, false);
            }
        });
        AttentionSpec spec = AttentionSpec.builder().causal(params.causal() ? CausalAlignment.TOP_LEFT : null).threads(workers).build();
        Tensor attn = Attention.sdpa(Tensor.of(qp, bsz, heads, n, d), kp == null ? k : Tensor.of(kp, bsz, heads, n, d),
                vp == null ? v : Tensor.of(vp, bsz, heads, n, dv), spec).output();
        float[] o = concat(attn, bsz, heads, n, dv);
        float[] y = new float[bsz * n * dmv];
        int chunk = 64, chunks = (n + chunk - 1) / chunk;
        Parallel.forEach(workers, bsz * chunks, x -> null, (item, st) -> {
            int b = item / chunks, r0 = (item % chunks) * chunk, rows = Math.min(n, r0 + chunk) - r0;
            mk.gemm(rows, dmv, dmv, o, (b * n + r0) * dmv, dmv, 1, w.wo(), 0, dmv, y, (b * n + r0) * dmv, dmv, false);
        });
        float[] out = new float[bsz * heads * n * dv];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) System.arraycopy(y, (b * n + i) * dmv + h * dv, out, ((b * heads + h) * n + i) * dv, dv);
            }
        }
        long pairs = params.causal() ? (long) n * (n + 1) / 2 : (long) n * n;
        long perHead = 2L * n * dm * d * (kind == Kind.OPTIMISED ? 2 : 1) + 2L * pairs * (d + dv) + (kind == Kind.SUPER ? 2L * n * n * dv : 0);
        long flops = (long) bsz * (heads * perHead + 2L * n * dmv * dmv);
        return new VariantResult(Tensor.of(out, bsz, heads, n, dv), flops);
    }

    /** {@code [B, N, H·X]}: token n of batch b holds the heads of t side by side. */
    private static float[] concat(Tensor t, int bsz, int heads, int n, int x) {
        float[] out = new float[bsz * n * heads * x];
        for (int b = 0; b < bsz; b++) System.arraycopy(Shapes.mergedHeads(t, b), 0, out, b * n * heads * x, n * heads * x);
        return out;
    }
}
