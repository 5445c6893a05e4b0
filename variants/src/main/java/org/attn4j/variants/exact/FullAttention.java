package org.attn4j.variants.exact;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * Exact multi-head scaled-dot-product attention (P47, the reference semantics every variant is
 * measured against): {@code softmax(q·kᵀ/√D [+ causal mask])·v} on the engine's dispatcher (flash
 * kernel for anything but tiny problems). Listed in the registry as the baseline row of
 * {@code attn4j bench variants} and as the identity that several variants reduce to.
 */
public final class FullAttention implements Variant {
    public static final VariantInfo INFO = new VariantInfo("full", "P47", "An Attentive Survey of Attention Models (multi-head attention)",
            Family.E, true, "exact softmax attention on the engine (flash kernel): the baseline");

    /** @param causal top-left causal mask (key j visible to query i when j ≤ i) */
    public record Params(boolean causal) {}

    private final Params params;

    public FullAttention(Params params) {
        this.params = params;
    }

    @Override
    public VariantInfo info() { return INFO; }

    @Override
    public boolean causal() { return params.causal(); }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v);
        AttentionSpec.Builder spec = AttentionSpec.builder().threads(threads);
        if (params.causal()) spec.causal(CausalAlignment.TOP_LEFT);
        Tensor out = Attention.sdpa(q, k, v, spec.build()).output();
        long flops = VariantResult.denseFlops(s.batch(), s.heads(), s.nq(), s.nk(), s.d(), s.dv());
        if (params.causal()) {
            // Visible pairs only: the flash kernel skips tiles above the diagonal.
            long pairs = 0;
            for (int i = 0; i < s.nq(); i++) pairs += Math.min(i + 1, s.nk());
            flops = 2L * s.batch() * s.heads() * pairs * (s.d() + s.dv());
        }
        return new VariantResult(out, flops);
    }
}
