package org.attn4j.variants.conv;

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
 * P57 — Pay Less Attention with Lightweight and Dynamic Convolutions: the dynamic convolution. Like
 * {@link LightweightConv}, but the kernel is predicted at every time step from the current token by
 * a learned linear map {@code W [C, G·k]} (no bias, as in the paper):
 * <pre>  logits_i[g, j] = Σ_c x[i, c]·W[c, g·k + j],
 *   out[i, c] = Σ_{j<k} softmax(logits_i[g(c), :])_j · x[i + j + o, c]</pre>
 * Same mapping as {@link LightweightConv}: features {@code x[i, h·Dv + d] = v[b, h, i, d]}, groups
 * of C/G contiguous channels, q and k not read; output {@code [B, H, N, Dv]}. Cost O(N·C·G·k) for
 * the kernels plus O(N·C·k) for the convolution, linear in N.
 */
public final class DynamicConv implements Variant {
    public static final VariantInfo INFO = new VariantInfo("dynamic-conv", "P57", "Pay Less Attention with Lightweight and Dynamic Convolutions",
            Family.H, false, "attention-free: time convolution whose softmax kernel is predicted per step from the current token (on v)");

    private final ConvParams params;
    private final long seed;
    private final float[] explicit; // [C, G·k] or null
    private final int explicitChannels, explicitGroups;
    private final ShapeCache<float[]> weights = new ShapeCache<>();

    /** The projection [C, G·k] drawn from {@code seed} (Glorot uniform) for each input's channel count. */
    public DynamicConv(ConvParams params, long seed) {
        if (params == null) throw new IllegalArgumentException("params: expected ConvParams, got null");
        this.params = params;
        this.seed = seed;
        this.explicit = null;
        this.explicitChannels = 0;
        this.explicitGroups = 0;
    }

    /** An explicit kernel projection {@code [channels, groups·kernel]} row-major. */
    public DynamicConv(ConvParams params, float[] projection, int channels, int groups) {
        if (params == null) throw new IllegalArgumentException("params: expected ConvParams, got null");
        if (channels < 1 || groups < 1) throw new IllegalArgumentException("channels/groups: expected >= 1, got " + channels + ", " + groups);
        if (params.heads() != 0 && params.heads() != groups) throw new IllegalArgumentException("groups: expected params.heads()=" + params.heads() + ", got " + groups);
        long need = (long) channels * groups * params.kernel();
        if (projection == null || projection.length != need) {
            throw new IllegalArgumentException("projection: expected [" + channels + ", " + groups * params.kernel() + "] = " + need + " values, got "
                    + (projection == null ? "null" : projection.length));
        }
        for (float w : projection) if (!Float.isFinite(w)) throw new IllegalArgumentException("projection: expected finite values, got " + w);
        this.params = params;
        this.seed = 0;
        this.explicit = projection.clone();
        this.explicitChannels = channels;
        this.explicitGroups = groups;
    }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() { return INFO; }

    public ConvParams params() { return params; }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes.self(q, k, v).requireSameHeads(); // the output has v's heads: grouped kv heads would return [B, Hkv, N, Dv]
        int channels = v.dim(1) * v.dim(3), groups = params.groups(v.dim(1), channels), gk = groups * params.kernel();
        if (explicit != null && (channels != explicitChannels || groups != explicitGroups)) {
            throw new IllegalArgumentException("v: the projection is for C=" + explicitChannels + " channels and " + explicitGroups
                    + " groups, this input has C=" + channels + " and " + groups + " groups");
        }
        float[] w = explicit != null ? explicit
                : weights.get(Shape.of(channels, groups), key -> Init.glorot(seed, "dynamic-conv.w", channels, gk));
        MicroKernels mk = MicroKernels.get();
        return TimeConvolution.run(v, params, groups, (x, b, n, c, t0, t1, out) -> {
            mk.gemm(t1 - t0, gk, c, x, (b * n + t0) * c, c, 1, w, 0, gk, out, 0, gk, false);
            return 2L * (t1 - t0) * c * gk;
        }, threads);
    }
}
