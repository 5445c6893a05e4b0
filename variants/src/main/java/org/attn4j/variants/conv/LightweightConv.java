package org.attn4j.variants.conv;

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
 * P57 — Pay Less Attention with Lightweight and Dynamic Convolutions: the lightweight convolution,
 * an attention-free token mixer. A depthwise convolution over time whose kernel is softmax-normalised
 * over its width and shared by the channels of each of G groups:
 * <pre>  out[i, c] = Σ_{j<k} softmax(W[g(c), :])_j · x[i + j + o, c],   o = −(k−1) (causal) or −⌊k/2⌋</pre>
 * with zero padding outside [0, N). Mapping onto the variant contract: the sequence features are the
 * values, {@code x[i, c] = v[b, h, i, d]} with channel {@code c = h·Dv + d} (C = H·Dv), and group
 * {@code g(c) = ⌊c / (C/G)⌋} (G = {@code heads}, default H, so each attention head's channels share
 * one kernel); q and k are not read. Output {@code [B, H, N, Dv]}, the same channel mapping. The
 * paper's module also wraps the convolution in input (GLU) and output projections; those are the
 * surrounding block, not the operator, and are not included. Cost O(N·C·k), linear in N.
 */
public final class LightweightConv implements Variant {
    public static final VariantInfo INFO = new VariantInfo("lightweight-conv", "P57", "Pay Less Attention with Lightweight and Dynamic Convolutions",
            Family.H, false, "attention-free: depthwise time convolution, softmax-normalised kernel shared per channel group (on v)");

    private final ConvParams params;
    private final long seed;
    private final float[] explicit; // [G, k] raw weights, or null
    private final int explicitGroups;
    private final ShapeCache<float[]> weights = new ShapeCache<>();

    /** Weights [G, k] drawn from {@code seed} (Glorot uniform) for each input's group count. */
    public LightweightConv(ConvParams params, long seed) {
        if (params == null) throw new IllegalArgumentException("params: expected ConvParams, got null");
        this.params = params;
        this.seed = seed;
        this.explicit = null;
        this.explicitGroups = 0;
    }

    /** Explicit raw kernel weights {@code [groups, kernel]} row-major (softmax is applied at run time). */
    public LightweightConv(ConvParams params, float[] weights, int groups) {
        if (params == null) throw new IllegalArgumentException("params: expected ConvParams, got null");
        if (groups < 1) throw new IllegalArgumentException("groups: expected >= 1, got " + groups);
        if (params.heads() != 0 && params.heads() != groups) throw new IllegalArgumentException("groups: expected params.heads()=" + params.heads() + ", got " + groups);
        if (weights == null || weights.length != groups * params.kernel()) {
            throw new IllegalArgumentException("weights: expected [" + groups + ", " + params.kernel() + "] = " + groups * params.kernel()
                    + " values, got " + (weights == null ? "null" : weights.length));
        }
        for (float w : weights) if (!Float.isFinite(w)) throw new IllegalArgumentException("weights: expected finite values, got " + w);
        this.params = params;
        this.seed = 0;
        this.explicit = weights.clone();
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
        int groups = params.groups(v.dim(1), v.dim(1) * v.dim(3));
        if (explicit != null && groups != explicitGroups) {
            throw new IllegalArgumentException("v: the weights are for " + explicitGroups + " groups, this input needs " + groups + " (heads=0 follows H)");
        }
        float[] w = explicit != null ? explicit
                : weights.get(Shape.of(groups), key -> Init.glorot(seed, "lightweight-conv.w", groups, params.kernel()));
        int gk = groups * params.kernel();
        return TimeConvolution.run(v, params, groups, (x, b, n, c, t0, t1, out) -> {
            for (int t = t0; t < t1; t++) System.arraycopy(w, 0, out, (t - t0) * gk, gk);
            return 0L;
        }, threads);
    }
}
