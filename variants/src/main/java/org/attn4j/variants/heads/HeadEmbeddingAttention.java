package org.attn4j.variants.heads;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.Init;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P59 — Pit One Against Many: attention-head embeddings (MHE) for parameter-efficient multi-head
 * attention.
 *
 * <p>One projection per role is shared by all heads, and each head differs only by a learned
 * head embedding: {@code Q_h = X_Q W_Q ⊕ e^Q_h}, {@code K_h = X_K W_K ⊕ e^K_h},
 * {@code V_h = X_V W_V ⊕ e^V_h}, with ⊕ = + (MHE-ADD) or ⊙ (MHE-MUL), then
 * {@code O_h = softmax(scale·Q_h K_hᵀ) V_h}. The variant receives per-head tensors rather than the
 * layer input, so it defines the un-projected input of each role from them as the concatenation
 * of the heads: {@code X_Q[t] = [q_1[t], …, q_H[t]] ∈ R^{H·D}} (likewise X_K from k, X_V from v),
 * and {@code W_Q, W_K ∈ R^{H·D × D}}, {@code W_V ∈ R^{H·Dv × Dv}}. The shared projection runs once
 * per token (not once per head), which is the mechanism's saving.
 *
 * <p>Seeded parameters: W Glorot-uniform; additive embeddings N(0, 0.5²); multiplicative
 * 1 + N(0, 0.5²). Hand case: W_Q selecting head 0's block (and e = 0, or e = 1 for MUL) makes
 * every head compute head 0's standard attention — MHE has no exact reduction to MHA, since all
 * heads share one projection. Output {@code [B, H, N, Dv]}; needs as many kv heads as query heads.
 * The attention runs on the engine ({@link Attention#sdpa}). FLOPs: 2·N·(H·D)·D per batch for each
 * of Q and K and 2·N·(H·Dv)·Dv for V, N·D per head and role for the embeddings, plus 2·(D + Dv)
 * per visible (query, key) pair.
 */
public final class HeadEmbeddingAttention extends AbstractVariant<HeadEmbeddingParams> {
    public static final VariantInfo INFO = new VariantInfo("mhe", "P59", "Pit One Against Many: attention-head embeddings", Family.H, false,
            "one projection shared by all heads; heads differ by added or multiplied head embeddings");

    private final long seed;
    /** Explicit parameters: [wq, wk, wv, eq, ek, ev], or null for seeded ones. */
    private final float[][] explicit;

    public HeadEmbeddingAttention(HeadEmbeddingParams params, long seed) {
        super(INFO, params);
        this.seed = seed;
        this.explicit = null;
    }

    /**
     * Explicit parameters: {@code wq, wk} row-major {@code (H·D) × D}, {@code wv} {@code (H·Dv) × Dv},
     * embeddings {@code eq, ek} {@code H × D}, {@code ev} {@code H × Dv}.
     */
    public HeadEmbeddingAttention(HeadEmbeddingParams params, float[] wq, float[] wk, float[] wv, float[] eq, float[] ek, float[] ev) {
        super(INFO, params);
        this.seed = 0;
        String[] names = {"wq", "wk", "wv", "eq", "ek", "ev"};
        float[][] all = {wq, wk, wv, eq, ek, ev};
        this.explicit = new float[6][];
        for (int i = 0; i < 6; i++) {
            if (all[i] == null) throw new IllegalArgumentException(names[i] + ": missing");
            explicit[i] = all[i].clone();
            Checks.finite(names[i], explicit[i]);
        }
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v).requireSameHeads();
        int t = Parallel.resolveThreads(threads), h = s.heads(), d = s.d(), dv = s.dv();
        float[][] p = explicit != null ? explicit : seeded(h, d, dv);
        Checks.length("wq", p[0], h * d * d, "(H·D)×D");
        Checks.length("wk", p[1], h * d * d, "(H·D)×D");
        Checks.length("wv", p[2], h * dv * dv, "(H·Dv)×Dv");
        Checks.length("eq", p[3], h * d, "H×D");
        Checks.length("ek", p[4], h * d, "H×D");
        Checks.length("ev", p[5], h * dv, "H×Dv");
        long[] flops = new long[1];
        Tensor q2 = project(q, p[0], p[3], t, flops), k2 = project(k, p[1], p[4], t, flops), v2 = project(v, p[2], p[5], t, flops);
        AttentionSpec.Builder spec = AttentionSpec.builder().threads(t);
        if (params.scale() != 0) spec.scale((float) params.scale());
        if (params.causal()) spec.causal(CausalAlignment.TOP_LEFT);
        Tensor out = Attention.sdpa(q2, k2, v2, spec.build()).output();
        long pairs = params.causal() ? (long) s.nq() * (s.nq() + 1) / 2 : (long) s.nq() * s.nk();
        flops[0] += 2L * s.batch() * h * pairs * (d + dv);
        return new VariantResult(out, flops[0]);
    }

    private float[][] seeded(int h, int d, int dv) {
        float[] eq = Init.normal(seed, "mhe.eq", h * d, 0.5), ek = Init.normal(seed, "mhe.ek", h * d, 0.5), ev = Init.normal(seed, "mhe.ev", h * dv, 0.5);
        if (params.multiply()) {
            for (float[] e : new float[][] {eq, ek, ev}) for (int i = 0; i < e.length; i++) e[i] += 1f;
        }
        return new float[][] {Init.glorot(seed, "mhe.wq", h * d, d), Init.glorot(seed, "mhe.wk", h * d, d), Init.glorot(seed, "mhe.wv", h * dv, dv), eq, ek, ev};
    }

    /** Shared projection of the concatenated heads, then each head's embedding; a new [B, H, N, X]. */
    private Tensor project(Tensor x, float[] w, float[] e, int threads, long[] flops) {
        int b = x.dim(0), h = x.dim(1), n = x.dim(2), d = x.dim(3), hd = h * d;
        boolean mul = params.multiply();
        float[] out = new float[b * h * n * d];
        Parallel.forEach(threads, b, wk -> new float[n * hd], (bi, cat) -> {
            for (int hh = 0; hh < h; hh++) {
                float[] head = Shapes.head(x, bi, hh);
                for (int r = 0; r < n; r++) System.arraycopy(head, r * d, cat, r * hd + hh * d, d);
            }
            float[] shared = new float[n * d];
            MicroKernels.get().gemm(n, d, hd, cat, 0, hd, 1, w, 0, d, shared, 0, d, false);
            for (int hh = 0; hh < h; hh++) {
                int base = (bi * h + hh) * n * d;
                for (int r = 0; r < n; r++) {
                    for (int c = 0; c < d; c++) {
                        float y = shared[r * d + c], ec = e[hh * d + c];
                        out[base + r * d + c] = mul ? y * ec : y + ec;
                    }
                }
            }
        });
        flops[0] += 2L * b * n * hd * d + (long) b * h * n * d;
        return Tensor.of(out, b, h, n, d);
    }
}
