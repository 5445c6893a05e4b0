package org.attn4j.variants.linear;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
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
 * P90 — FLARE: Fast Low-rank Attention Routing Engine (Puri et al.). Each head owns M learned
 * latent query tokens L (M × D). Gather: {@code Z = softmax(s·L Kᵀ) V} (M × Dv, the latents pool
 * from all tokens); scatter: {@code out = softmax(s·X Lᵀ) Z} where X = K (the paper: the token keys
 * query the latents) or, with {@code scatter=queries}, X = Q. The implied N × N attention
 * {@code softmax(X Lᵀ) softmax(L Kᵀ)} has rank ≤ M and costs O(N·M·(D + Dv)); both steps run on the
 * engine's exact softmax attention ({@link Attention#sdpa}). Non-causal (the paper's encoder form).
 *
 * <p>Shapes: q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] → [B, H, Nq, Dv]; with the
 * default scatter=keys the output rows are the tokens of k, so Nq = Nk is required and q is not
 * read. Latents are drawn from the seed ({@link Init}, N(0, 1)) per (H, D) or given explicitly. The
 * authors' code uses logit scale 1 with latents initialised N(0, 0.1²); the default here is
 * 1/sqrt(D) with N(0, 1) latents (logits of the same order); {@code scale=1} with explicit latents
 * reproduces the code's computation.
 */
public final class FlareAttention implements Variant {
    static final VariantInfo INFO = new VariantInfo("flare", "P90", "FLARE: Fast Low-rank Attention Routing Engine", Family.L, false,
            "M learned latent queries gather softmax(L K^T) V, tokens read it back through softmax(K L^T), O(N M)");

    private final FlareParams params;
    private final long seed;
    private final float[] fixed;
    private final int fixedHeads, fixedD;
    private final ShapeCache<float[]> bySize = new ShapeCache<>();

    /** Latents drawn from {@code seed} for each (H, D) met. */
    public FlareAttention(FlareParams params, long seed) {
        this.params = java.util.Objects.requireNonNull(params, "params");
        this.seed = seed;
        this.fixed = null;
        this.fixedHeads = this.fixedD = 0;
    }

    /** Explicit latents, [heads][latents][d] row-major. */
    public FlareAttention(FlareParams params, float[] latents, int heads, int d) {
        this.params = java.util.Objects.requireNonNull(params, "params");
        if (heads < 1 || d < 1) throw new IllegalArgumentException("heads, d: expected ≥ 1, got " + heads + ", " + d);
        if (latents == null || latents.length != heads * params.latents() * d) {
            throw new IllegalArgumentException("latents: expected " + heads + "×" + params.latents() + "×" + d + " = " + heads * params.latents() * d
                    + " values, got " + (latents == null ? "null" : latents.length));
        }
        this.seed = 0;
        this.fixed = latents.clone();
        this.fixedHeads = heads;
        this.fixedD = d;
    }

    @Override
    public VariantInfo info() { return INFO; }

    float[] latents(int heads, int d) {
        if (fixed != null) {
            if (fixedHeads != heads || fixedD != d) {
                throw new IllegalArgumentException("q: the given latents are for H=" + fixedHeads + ", D=" + fixedD + ", got H=" + heads + ", D=" + d);
            }
            return fixed;
        }
        return bySize.get(Shape.of(heads, d), key -> Init.normal(seed, "flare.latents", heads * params.latents() * d, 1.0));
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v);
        boolean byKeys = params.scatter().equals("keys");
        if (byKeys && s.nq() != s.nk()) {
            throw new IllegalArgumentException("k: flare with scatter=keys returns one row per key and needs Nk = Nq = " + s.nq() + ", got Nk = " + s.nk());
        }
        int m = params.latents(), d = s.d(), dv = s.dv();
        float scale = (float) (Double.isNaN(params.scale()) ? 1 / Math.sqrt(d) : params.scale());
        float[] lat = latents(s.heads(), d);
        AttentionSpec spec = AttentionSpec.builder().scale(scale).threads(1).build();
        return LinearCore.perHead(s, q, k, v, threads, (b, h, qh, kh, vh, out, scratch) -> {
            Tensor l = Tensor.view(lat, h * m * d, new int[] {1, 1, m, d}, new int[] {m * d, m * d, d, 1});
            Tensor kt = Tensor.of(kh, 1, 1, s.nk(), d), vt = Tensor.of(vh, 1, 1, s.nk(), dv);
            Tensor z = Attention.sdpa(l, kt, vt, spec).output();
            Tensor x = byKeys ? kt : Tensor.of(qh, 1, 1, s.nq(), d);
            float[] y = Attention.sdpa(x, l, z, spec).output().toArray();
            System.arraycopy(y, 0, out, 0, s.nq() * dv);
            return 2L * m * s.nk() * (d + dv) + 2L * s.nq() * m * (d + dv);
        });
    }
}
