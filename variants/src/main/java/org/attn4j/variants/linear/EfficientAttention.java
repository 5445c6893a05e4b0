package org.attn4j.variants.linear;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P82 — Efficient Attention: Attention with Linear Complexities (Shen et al.).
 * {@code out = ρ_q(Q) (ρ_k(K)ᵀ V)} where ρ_q is a softmax over each query's D features (rows) and
 * ρ_k a softmax over the Nk positions of each key feature (columns); the D × Dv context
 * {@code ρ_k(K)ᵀ V} ("global context vectors") is formed first, so the cost is O(N·D·Dv).
 * Non-causal, as in the paper (the column softmax over positions needs every key).
 *
 * <p>Shapes: q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] → [B, H, Nq, Dv]. q and k are
 * multiplied by {@code scale} (default 1, the paper has none) before the softmaxes.
 * P96's mechanism of the same name (keys merged into the query projection) is
 * {@link org.attn4j.variants.better.BetterEfficientAttention}.
 */
public final class EfficientAttention implements Variant {
    static final VariantInfo INFO = new VariantInfo("efficient-attention", "P82", "Efficient Attention: Attention with Linear Complexities",
            Family.L, false, "softmax over each query's features times (softmax over positions of K)^T V, O(N)");

    private final EfficientParams params;

    public EfficientAttention(EfficientParams params) {
        this.params = java.util.Objects.requireNonNull(params, "params");
    }

    @Override
    public VariantInfo info() { return INFO; }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v);
        float sc = (float) params.scale();
        int d = s.d();
        return LinearCore.perHead(s, q, k, v, threads, (b, h, qh, kh, vh, out, scratch) -> {
            // ρ_q: softmax over each row
            for (int i = 0; i < s.nq(); i++) {
                int o = i * d;
                float m = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < d; c++) m = Math.max(m, qh[o + c] *= sc);
                VecExp.exp(qh, o, d, m);
                double sum = 0;
                for (int c = 0; c < d; c++) sum += qh[o + c];
                float inv = (float) (1 / sum);
                for (int c = 0; c < d; c++) qh[o + c] *= inv;
            }
            // ρ_k: softmax over positions of each column
            float[] colMax = new float[d];
            double[] colSum = new double[d];
            java.util.Arrays.fill(colMax, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < s.nk(); j++) for (int c = 0; c < d; c++) colMax[c] = Math.max(colMax[c], kh[j * d + c] *= sc);
            for (int j = 0; j < s.nk(); j++) {
                int o = j * d;
                for (int c = 0; c < d; c++) kh[o + c] -= colMax[c];
                VecExp.exp(kh, o, d, 0f);
                for (int c = 0; c < d; c++) colSum[c] += kh[o + c];
            }
            float[] inv = new float[d];
            for (int c = 0; c < d; c++) inv[c] = (float) (1 / colSum[c]);
            for (int j = 0; j < s.nk(); j++) for (int c = 0; c < d; c++) kh[j * d + c] *= inv[c];
            long flops = 5L * (s.nq() + s.nk()) * d;
            return flops + LinearCore.nonCausal(new ArrayFeatures(qh, kh, d), s.nq(), s.nk(), vh, s.dv(), false, out, scratch);
        });
    }
}
