package org.attn4j.variants.heads;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P10 — EIT: Enhanced Interactive Transformer, its enhanced multi-head attention (EMHA).
 *
 * <p>Many-to-many mapping (M2M): every query subspace i is scored against every key subspace j,
 * {@code S_ij = scale·Q_i K_jᵀ} (H² maps instead of H). Inner-subspace interaction (ISI) fuses
 * the H maps that share query subspace i, {@code Z_i = Σ_j U[i][j]·S_ij}, then
 * {@code A_i = softmax(mask(Z_i))}. Cross-subspace interaction (CSI) fuses the H resulting
 * distributions across subspaces, {@code W_i = Σ_l C[i][l]·A_l}, and {@code O_i = W_i V_i}. Output
 * {@code [B, H, N, Dv]}; {@code U = C = I} gives standard multi-head attention.
 *
 * <p>Reading of the paper: ISI and CSI are implemented as the paper's 1×1 (channel-mixing)
 * convolutions over the map axis with learned H×H weights; we had no reference code, so any
 * spatial kernel or nonlinearity inside the interaction modules is not reproduced. Because ISI is
 * linear before the softmax, {@code Σ_j U[i][j]·Q_i K_jᵀ = Q_i (Σ_j U[i][j]·K_j)ᵀ}: the H² maps
 * are never materialised, the fused keys are formed once (2·H²·N·D FLOPs per batch) and each
 * subspace scores one map. The test checks this against the direct H²-map formula.
 *
 * <p>Memory {@code O(blockRows·N·H)} (query rows in blocks, see {@link HeadBlocks}).
 */
public final class EnhancedInteractiveAttention extends AbstractVariant<EitParams> {
    public static final VariantInfo INFO = new VariantInfo("eit", "P10", "EIT: Enhanced Interactive Transformer", Family.H, false,
            "every query subspace scores every key subspace; inner-subspace (pre-softmax) and cross-subspace (post-softmax) map fusion");

    private final long seed;
    private final float[] inner, cross;

    public EnhancedInteractiveAttention(EitParams params, long seed) {
        super(INFO, params);
        this.seed = seed;
        this.inner = null;
        this.cross = null;
    }

    /** Explicit H×H interaction weights, row-major {@code U[i][j]} and {@code C[i][l]}. */
    public EnhancedInteractiveAttention(EitParams params, float[] inner, float[] cross) {
        super(INFO, params);
        this.seed = 0;
        if (inner == null) throw new IllegalArgumentException("inner: missing");
        if (cross == null) throw new IllegalArgumentException("cross: missing");
        this.inner = inner.clone();
        this.cross = cross.clone();
        Checks.finite("inner", this.inner);
        Checks.finite("cross", this.cross);
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        int t = Parallel.resolveThreads(threads);
        HeadBlocks hb = HeadBlocks.of(q, k, v, HeadBlocks.scaleOr(params.scale(), q.dim(3)), t);
        int h = hb.heads, n = hb.n, d = hb.d;
        float[] u = inner != null ? inner : HeadBlocks.identityPlus(seed, "eit.inner", h, h, params.perturb());
        float[] c = cross != null ? cross : HeadBlocks.identityPlus(seed, "eit.cross", h, h, params.perturb());
        Checks.square("inner", u, h);
        Checks.square("cross", c, h);
        HeadBlocks.Flops flops = new HeadBlocks.Flops();
        // ISI folded into the keys: K~_i = Σ_j U[i][j] K_j (on the transposed D×N copies).
        float[][] fused = new float[hb.batch * h][];
        Parallel.forEach(t, hb.batch * h, w -> null, (item, st) -> {
            int b = item / h, i = item % h;
            float[] kt = new float[d * n];
            long f = 0;
            for (int j = 0; j < h; j++) {
                float w = u[i * h + j];
                if (w == 0f) continue;
                MicroKernels.get().axpy(w, hb.kt[b * h + j], 0, kt, 0, d * n);
                f += 2L * d * n;
            }
            fused[item] = kt;
            flops.add(f);
        });
        System.arraycopy(fused, 0, hb.kt, 0, fused.length);
        float[] out = MixedHeads.run(hb, null, c, params.causal(), t, flops);
        return new VariantResult(Tensor.of(out, hb.batch, h, n, hb.dv), flops.get());
    }
}
