package org.attn4j.variants.heads;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P73 — Knocking-Heads Attention (KHA), its linear form.
 *
 * <p>Before the scaled dot-product, each head's projected features are multiplied by a matrix that
 * is <em>shared by all heads</em>: {@code Q̃_h = Q_h T^Q}, {@code K̃_h = K_h T^K},
 * {@code Ṽ_h = V_h T^V} ({@code T^Q, T^K ∈ R^{D×D}}, {@code T^V ∈ R^{Dv×Dv}}), then
 * {@code O_h = softmax(scale·Q̃_h K̃_hᵀ) Ṽ_h}. The paper initialises T diagonally (identity), so
 * training starts from multi-head attention; a shared T couples the heads through training (every
 * head's gradient reaches it) and, once trained, mixes feature directions that each head's own
 * projection spread across heads. T^Q and T^K are optional in the paper (T^V matters most), hence
 * the {@code apply} switch. Seeded T = I + N(0, perturb²/n) (n inputs per output); T = I is exactly MHA. The paper's gated
 * MLP form of the value transform is not implemented.
 *
 * <p>q, k, v are [B, H, N, D] / [B, Hkv, N, D] (GQA accepted; T^K, T^V act on kv heads). The
 * attention itself runs on the engine ({@link Attention#sdpa}), so memory is that of flash
 * attention. FLOPs: 2·N·D² per transformed head (2·N·Dv² for values) plus 2·(D + Dv) per visible
 * (query, key) pair.
 */
public final class KnockingHeadsAttention extends AbstractVariant<KnockingHeadsParams> {
    public static final VariantInfo INFO = new VariantInfo("knocking-heads", "P73", "Knocking-Heads Attention", Family.H, false,
            "one identity-initialised matrix shared by all heads transforms each head's Q/K/V before attention");

    private final long seed;
    private final float[] tq, tk, tv;

    public KnockingHeadsAttention(KnockingHeadsParams params, long seed) {
        super(INFO, params);
        this.seed = seed;
        this.tq = this.tk = this.tv = null;
    }

    /** Explicit shared matrices (row-major D×D, D×D, Dv×Dv); a null one is the identity. */
    public KnockingHeadsAttention(KnockingHeadsParams params, float[] tq, float[] tk, float[] tv) {
        super(INFO, params);
        this.seed = 0;
        this.tq = tq == null ? null : tq.clone();
        this.tk = tk == null ? null : tk.clone();
        this.tv = tv == null ? null : tv.clone();
        if (this.tq != null) Checks.finite("tq", this.tq);
        if (this.tk != null) Checks.finite("tk", this.tk);
        if (this.tv != null) Checks.finite("tv", this.tv);
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        int t = Parallel.resolveThreads(threads);
        boolean explicit = tq != null || tk != null || tv != null;
        float[] mq = explicit ? tq : params.queries() ? HeadBlocks.identityPlus(seed, "knocking-heads.q", s.d(), s.d(), params.perturb()) : null;
        float[] mk = explicit ? tk : params.keys() ? HeadBlocks.identityPlus(seed, "knocking-heads.k", s.d(), s.d(), params.perturb()) : null;
        float[] mv = explicit ? tv : params.values() ? HeadBlocks.identityPlus(seed, "knocking-heads.v", s.dv(), s.dv(), params.perturb()) : null;
        if (mq != null) Checks.square("tq", mq, s.d());
        if (mk != null) Checks.square("tk", mk, s.d());
        if (mv != null) Checks.square("tv", mv, s.dv());
        long[] flops = new long[1];
        Tensor q2 = transform(q, mq, t, flops), k2 = transform(k, mk, t, flops), v2 = transform(v, mv, t, flops);
        AttentionSpec.Builder spec = AttentionSpec.builder().threads(t);
        if (params.scale() != 0) spec.scale((float) params.scale());
        if (params.causal()) spec.causal(CausalAlignment.TOP_LEFT);
        Tensor out = Attention.sdpa(q2, k2, v2, spec.build()).output();
        long pairs = params.causal() ? (long) s.nq() * (s.nq() + 1) / 2 : (long) s.nq() * s.nk();
        flops[0] += 2L * s.batch() * s.heads() * pairs * (s.d() + s.dv());
        return new VariantResult(out, flops[0]);
    }

    /** {@code x_h · m} for every head (a new contiguous tensor), or x itself when m is null. */
    private static Tensor transform(Tensor x, float[] m, int threads, long[] flops) {
        if (m == null) return x;
        int b = x.dim(0), h = x.dim(1), n = x.dim(2), d = x.dim(3);
        float[] out = new float[b * h * n * d];
        Parallel.forEach(threads, b * h, w -> null, (i, st) -> {
            float[] head = Shapes.head(x, i / h, i % h);
            MicroKernels.get().gemm(n, d, d, head, 0, d, 1, m, 0, d, out, i * n * d, d, false);
        });
        flops[0] += 2L * b * h * n * d * d;
        return Tensor.of(out, b, h, n, d);
    }
}
