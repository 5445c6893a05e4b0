package org.attn4j.variants.heads;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;
import org.attn4j.variants.heads.MultiTokenParams.Where;

/**
 * P68 — Multi-Token Attention (MTA): convolutions over the query, key and head axes of the
 * attention scores, so one weight can depend on several query and key vectors.
 *
 * <p>Key-query convolution, per head h with a learned {@code c_q × c_k} kernel θ_h:
 * <pre>
 *   pre:  a_ij = softmax_j( Mask_−∞( Σ_{i'=0}^{c_q−1} Σ_{j'=−⌊c_k/2⌋}^{⌈c_k/2⌉−1} 1[j−j' ≤ i]·θ[i'][j']·s_{i−i', j−j'} ) )
 *   post: a_ij = Mask_0( Σ θ[i'][j']·1[j−j' ≤ i]·softmax(Mask_−∞(s))_{i−i', j−j'} )
 * </pre>
 * with {@code s = scale·QKᵀ}, zero padding outside the sequence, and (causal) the indicator that
 * keeps every key after query i out of row i; without the causal option the indicator and the
 * masks are dropped. Query offsets only look back (i' ≥ 0), as in the paper. Head convolution:
 * heads in groups of {@code c_h} are mixed by a learned {@code c_h × c_h} matrix, on the logits
 * (pre) or on the weights (post). Optional GroupNorm of each head's output row (H groups, unit
 * gain, zero bias, eps 1e-5); off by default because its learned gain/bias and the paper's
 * depth-dependent scaling belong to the surrounding block. Output {@code [B, H, N, Dv]}.
 *
 * <p>Identity kernels (θ = δ at (0, 0), head matrices = I) give standard multi-head attention.
 * Seeded parameters are identity + N(0, perturb²/fan-in) (fan-in c_q·c_k for a kernel, c_h for a
 * head row), so perturb is the relative size of the deviation from MHA.
 *
 * <p>Memory: query rows are processed in blocks; a block needs the {@code c_q − 1} rows above it
 * (halo), so each worker holds two buffers of {@code H·(blockRows + c_q − 1)·N} floats —
 * {@code O(blockRows·N·H)}, never the whole {@code N × N × H} map. Halo rows' scores are
 * recomputed by the next block (counted in FLOPs). FLOPs: scores 2·rows·Nk·D, convolution 2 per
 * tap and score for non-zero taps, head mixing 2 per coefficient and score, P·V 2·rows·Nk·Dv.
 */
public final class MultiTokenAttention extends AbstractVariant<MultiTokenParams> {
    public static final VariantInfo INFO = new VariantInfo("multi-token", "P68", "Multi-Token Attention", Family.H, false,
            "2-D convolution over each head's (query, key) score map and convolution over groups of heads");

    private final long seed;
    private final float[] kernels, headWeights;

    public MultiTokenAttention(MultiTokenParams params, long seed) {
        super(INFO, params);
        this.seed = seed;
        this.kernels = null;
        this.headWeights = null;
    }

    /**
     * Explicit parameters: {@code kernels[h·c_q·c_k + i'·c_k + (j' + ⌊c_k/2⌋)]} and
     * {@code headWeights[h·c_h + m]}, the weight of the m-th head of h's group in head h.
     */
    public MultiTokenAttention(MultiTokenParams params, float[] kernels, float[] headWeights) {
        super(INFO, params);
        this.seed = 0;
        if (kernels == null) throw new IllegalArgumentException("kernels: missing");
        if (headWeights == null) throw new IllegalArgumentException("headWeights: missing");
        this.kernels = kernels.clone();
        this.headWeights = headWeights.clone();
        Checks.finite("kernels", this.kernels);
        Checks.finite("headWeights", this.headWeights);
    }

    /** Seeded kernels for H heads (identity + noise). */
    static float[] seededKernels(long seed, MultiTokenParams p, int heads) {
        int taps = p.queryKernel() * p.keyKernel();
        float[] k = p.perturb() > 0 ? org.attn4j.variants.Init.normal(seed, "multi-token.kernel", heads * taps, p.perturb() / Math.sqrt(taps)) : new float[heads * taps];
        for (int h = 0; h < heads; h++) k[h * taps + p.keyKernel() / 2] += 1f;
        return k;
    }

    static float[] seededHeadWeights(long seed, MultiTokenParams p, int heads) {
        int c = p.headGroup();
        float[] w = p.perturb() > 0 ? org.attn4j.variants.Init.normal(seed, "multi-token.heads", heads * c, p.perturb() / Math.sqrt(c)) : new float[heads * c];
        for (int h = 0; h < heads; h++) w[h * c + h % c] += 1f;
        return w;
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        int t = Parallel.resolveThreads(threads);
        HeadBlocks hb = HeadBlocks.of(q, k, v, HeadBlocks.scaleOr(params.scale(), q.dim(3)), t);
        MultiTokenParams p = params;
        int heads = hb.heads, n = hb.n, dv = hb.dv, cq = p.queryKernel(), ck = p.keyKernel(), ch = p.headGroup();
        boolean causal = p.causal(), mixHeads = p.headMix() != Where.NONE;
        if (mixHeads && heads % ch != 0) {
            throw new IllegalArgumentException("head-group: H = " + heads + " is not a multiple of head-group " + ch + " (use head-mix=none or a divisor of H)");
        }
        int taps = cq * ck;
        float[] theta = kernels != null ? kernels : seededKernels(seed, p, heads);
        float[] hw = headWeights != null ? headWeights : seededHeadWeights(seed, p, heads);
        Checks.length("kernels", theta, heads * taps, "H·c_q·c_k for H = " + heads);
        Checks.length("headWeights", hw, heads * ch, "H·c_h for H = " + heads);
        // H×H block-diagonal head mixing matrix.
        float[] mix = new float[heads * heads];
        for (int h = 0; mixHeads && h < heads; h++) { // only built when used: H need not be a multiple of c_h otherwise
            int g0 = h / ch * ch;
            for (int m = 0; m < ch; m++) mix[h * heads + g0 + m] = hw[h * ch + m];
        }
        int halo = p.keyQuery() != Where.NONE ? cq - 1 : 0;
        int rowsPer = HeadBlocks.blockRows(n, heads), nb = HeadBlocks.blocks(n, rowsPer);
        int bufLen = heads * (rowsPer + halo) * n;
        float[] out = new float[hb.batch * heads * n * dv];
        HeadBlocks.Flops flops = new HeadBlocks.Flops();
        Parallel.forEach(t, hb.batch * nb, w -> new float[][] {new float[bufLen], new float[bufLen]}, (item, buf) -> {
            int b = item / nb, blk = nb - 1 - item % nb;
            int r0 = blk * rowsPer, rows = Math.min(rowsPer, n - r0), nk = causal ? r0 + rows : n;
            int first = r0 - Math.min(halo, r0), present = r0 + rows - first;
            float[] a = buf[0], c = buf[1];
            long f = 0;
            for (int h = 0; h < heads; h++) f += hb.scores(b * heads + h, b * heads + h, first, present, nk, a, h * present * nk, nk);
            if (p.keyQuery() == Where.PRE) {
                f += convolve(a, first, present, c, r0, rows, nk, theta, heads, cq, ck, causal, false);
                float[] x = a; a = c; c = x;
                first = r0;
                present = rows;
            }
            if (p.headMix() == Where.PRE) {
                f += MixedHeads.mix(mix, heads, a, c, present * nk);
                float[] x = a; a = c; c = x;
            }
            for (int h = 0; h < heads; h++) {
                for (int r = 0; r < present; r++) {
                    HeadBlocks.softmaxRow(a, (h * present + r) * nk, causal ? first + r + 1 : nk, nk);
                }
            }
            if (p.keyQuery() == Where.POST) {
                f += convolve(a, first, present, c, r0, rows, nk, theta, heads, cq, ck, causal, true);
                float[] x = a; a = c; c = x;
                first = r0;
                present = rows;
            }
            if (p.headMix() == Where.POST) {
                f += MixedHeads.mix(mix, heads, a, c, present * nk);
                float[] x = a; a = c; c = x;
            }
            for (int h = 0; h < heads; h++) {
                int bh = b * heads + h, o = (bh * n + r0) * dv;
                f += hb.weightedValues(bh, rows, nk, a, h * rows * nk, nk, out, o);
                if (p.groupNorm()) {
                    for (int r = 0; r < rows; r++) normalise(out, o + r * dv, dv);
                    f += 5L * rows * dv;
                }
            }
            flops.add(f);
        });
        return new VariantResult(Tensor.of(out, hb.batch, heads, n, dv), flops.get());
    }

    /**
     * Key-query convolution of every head: source rows {@code [first, first + present)} of width nk
     * (head h at {@code h·present·nk}) into output rows {@code [r0, r0 + rows)} (head h at
     * {@code h·rows·nk}). Causal: only source keys ≤ i enter output row i; with {@code zeroAfter}
     * the output keys after i are zeroed (Mask_0 of the post-softmax form).
     */
    static long convolve(float[] src, int first, int present, float[] dst, int r0, int rows, int nk, float[] theta,
                         int heads, int cq, int ck, boolean causal, boolean zeroAfter) {
        MicroKernels mk = MicroKernels.get();
        int taps = cq * ck, half = ck / 2;
        long f = 0;
        for (int h = 0; h < heads; h++) {
            int srcBase = h * present * nk, dstBase = h * rows * nk;
            for (int r = 0; r < rows; r++) {
                int i = r0 + r, o = dstBase + r * nk;
                java.util.Arrays.fill(dst, o, o + nk, 0f);
                int limit = causal ? Math.min(nk, i + 1) : nk; // source keys allowed for row i
                for (int a = 0; a < cq; a++) {
                    int si = i - a;
                    if (si < 0) break;
                    if (si < first) throw new IllegalStateException("halo too small");
                    int srcRow = srcBase + (si - first) * nk;
                    for (int jj = 0; jj < ck; jj++) {
                        float w = theta[h * taps + a * ck + jj];
                        if (w == 0f) continue;
                        int jp = jj - half; // out[j] += w · src[j − jp]
                        int lo = Math.max(0, jp), hi = Math.min(nk, limit + jp);
                        if (hi <= lo) continue;
                        mk.axpy(w, src, srcRow + lo - jp, dst, o + lo, hi - lo);
                        f += 2L * (hi - lo);
                    }
                }
                if (zeroAfter && causal && i + 1 < nk) java.util.Arrays.fill(dst, o + i + 1, o + nk, 0f);
            }
        }
        return f;
    }

    private static void normalise(float[] x, int off, int n) {
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++) mean += x[off + i];
        mean /= n;
        for (int i = 0; i < n; i++) {
            double d = x[off + i] - mean;
            var += d * d;
        }
        var /= n;
        float inv = (float) (1.0 / Math.sqrt(var + 1e-5));
        for (int i = 0; i < n; i++) x[off + i] = (float) ((x[off + i] - mean) * inv);
    }
}
