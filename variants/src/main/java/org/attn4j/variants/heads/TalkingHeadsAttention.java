package org.attn4j.variants.heads;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * Talking-heads attention (Shazeer, Lan, Cheng, Ding, Hou 2020, "Talking-Heads Attention"; the
 * head-mixing baseline the knocking-heads paper P73 compares against).
 *
 * <p>On {@code q, k, v [B, H, N, D]} (as many kv heads as query heads; self-attention),
 * {@code S_h = scale·Q_h K_hᵀ}, {@code L_h = Σ_g P_l[h][g]·S_g}, {@code A_h = softmax(mask(L_h))},
 * {@code W_h = Σ_g P_w[h][g]·A_g}, {@code O_h = W_h V_h}; output {@code [B, H, N, Dv]}. The causal
 * mask (keys j ≤ i) is applied to the mixed logits, and the mixed weights keep zeros on masked keys.
 * With {@code P_l = P_w = I} this is standard multi-head attention (each head's output before the
 * output projection). {@code P_l, P_w} are learned H×H matrices; the seeded ones are
 * {@code I + N(0, perturb²/n) (n inputs per output)} (an "after some training" state; perturb = 0 is the identity).
 *
 * <p>Query rows are processed in blocks (see {@link HeadBlocks}): memory {@code O(blockRows·N·H)}.
 * FLOPs counted: scores 2·rows·Nk·D per head, each mixing 2·rows·Nk per non-zero coefficient, P·V
 * 2·rows·Nk·Dv per head, with Nk = N, or the block's last row + 1 under causal masking.
 */
public final class TalkingHeadsAttention extends AbstractVariant<TalkingHeadsParams> {
    public static final VariantInfo INFO = new VariantInfo("talking-heads", "-", "Talking-Heads Attention (Shazeer et al. 2020)", Family.H, false,
            "logits mixed across heads by P_l before the softmax, weights mixed by P_w after it");

    private final long seed;
    private final float[] logitMix, weightMix;

    /** Seeded mixing matrices, created for each input's H. */
    public TalkingHeadsAttention(TalkingHeadsParams params, long seed) {
        super(INFO, params);
        this.seed = seed;
        this.logitMix = null;
        this.weightMix = null;
    }

    /** Explicit H×H mixing matrices (row-major, {@code [to][from]}); null skips that mixing. */
    public TalkingHeadsAttention(TalkingHeadsParams params, float[] logitMix, float[] weightMix) {
        super(INFO, params);
        this.seed = 0;
        if (logitMix == null && weightMix == null) throw new IllegalArgumentException("logitMix: at least one of logitMix and weightMix must be given");
        this.logitMix = logitMix == null ? null : logitMix.clone();
        this.weightMix = weightMix == null ? null : weightMix.clone();
        int h = (int) Math.round(Math.sqrt((logitMix != null ? logitMix : weightMix).length));
        if (logitMix != null) Checks.square("logitMix", this.logitMix, h);
        if (weightMix != null) Checks.square("weightMix", this.weightMix, h);
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        int t = Parallel.resolveThreads(threads);
        HeadBlocks hb = HeadBlocks.of(q, k, v, HeadBlocks.scaleOr(params.scale(), q.dim(3)), t);
        int h = hb.heads;
        float[] pre, post;
        if (logitMix != null || weightMix != null) {
            if (logitMix != null) Checks.square("logitMix", logitMix, h);
            if (weightMix != null) Checks.square("weightMix", weightMix, h);
            pre = logitMix;
            post = weightMix;
        } else {
            pre = params.pre() ? HeadBlocks.identityPlus(seed, "talking-heads.logits", h, h, params.perturb()) : null;
            post = params.post() ? HeadBlocks.identityPlus(seed, "talking-heads.weights", h, h, params.perturb()) : null;
        }
        HeadBlocks.Flops flops = new HeadBlocks.Flops();
        float[] out = MixedHeads.run(hb, pre, post, params.causal(), t, flops);
        return new VariantResult(Tensor.of(out, hb.batch, h, hb.n, hb.dv), flops.get());
    }
}
