package org.attn4j.variants.heads;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P35 — More Expressive Attention with Negative Weights (Cog attention).
 *
 * <p>Signed weights: with {@code s_ij = scale·q_i·k_j},
 * {@code a_ij = sign(s_ij)·exp(|s_ij|) / Σ_{j'} exp(|s_ij'|)} over the visible keys, and
 * {@code o_i = Σ_j a_ij v_j}. The magnitudes form a softmax of |s| (they sum to 1), the sign of
 * the logit is put back, so a head can subtract (delete) a token as well as copy it; sign(0) = 0.
 * Causal option: query i sees keys j ≤ i. Output {@code [B, H, N, Dv]}; as many kv heads as query heads.
 *
 * <p>Reductions: when every visible logit is positive this is exactly softmax attention; when
 * every one is negative it is minus softmax attention of −s. (The paper keeps softmax in some
 * layers of its models; that is a model choice, not part of this operator.)
 *
 * <p>Per (batch, head, block of query rows): scores with GEMM, row-wise signed softmax, P·V with
 * GEMM; memory {@code O(blockRows·N)} per worker. FLOPs: 2·rows·Nk·(D + Dv).
 */
public final class CogAttention extends AbstractVariant<CogParams> {
    public static final VariantInfo INFO = new VariantInfo("cog", "P35", "More Expressive Attention with Negative Weights", Family.H, false,
            "signed weights sign(s)·softmax(|s|): tokens can be copied or deleted by one head");

    public CogAttention(CogParams params) {
        super(INFO, params);
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        int t = Parallel.resolveThreads(threads);
        HeadBlocks hb = HeadBlocks.of(q, k, v, HeadBlocks.scaleOr(params.scale(), q.dim(3)), t);
        int h = hb.heads, n = hb.n, dv = hb.dv;
        boolean causal = params.causal();
        int rowsPer = HeadBlocks.blockRows(n, 1), nb = HeadBlocks.blocks(n, rowsPer);
        float[] out = new float[hb.batch * h * n * dv];
        HeadBlocks.Flops flops = new HeadBlocks.Flops();
        Parallel.forEach(t, hb.batch * h * nb, w -> new float[][] {new float[rowsPer * n], new float[n]}, (item, buf) -> {
            float[] s = buf[0];
            int bh = item / nb, blk = nb - 1 - item % nb;
            int r0 = blk * rowsPer, rows = Math.min(rowsPer, n - r0), nk = causal ? r0 + rows : n;
            long f = hb.scores(bh, bh, r0, rows, nk, s, 0, nk);
            for (int r = 0; r < rows; r++) signedSoftmax(s, r * nk, causal ? r0 + r + 1 : nk, nk, buf[1]);
            f += hb.weightedValues(bh, rows, nk, s, 0, nk, out, (bh * n + r0) * dv);
            flops.add(f);
        });
        return new VariantResult(Tensor.of(out, hb.batch, h, n, dv), flops.get());
    }

    /** In place: {@code s_j ← sign(s_j)·exp(|s_j| − m)/Σ exp(|s_j'| − m)} for j &lt; valid, 0 after; {@code abs} is scratch of at least {@code valid} floats. */
    static void signedSoftmax(float[] s, int off, int valid, int width, float[] abs) {
        if (valid <= 0) {
            java.util.Arrays.fill(s, off, off + width, 0f);
            return;
        }
        MicroKernels mk = MicroKernels.get();
        for (int j = 0; j < valid; j++) abs[j] = Math.abs(s[off + j]);
        float[] m = new float[1], sum = new float[1];
        mk.columnMax(abs, 0, valid, 1, 1, m);
        mk.expColumns(abs, 0, valid, 1, 1, m, sum);
        float inv = 1f / sum[0];
        for (int j = 0; j < valid; j++) s[off + j] = Math.signum(s[off + j]) * abs[j] * inv;
        if (width > valid) java.util.Arrays.fill(s, off + valid, off + width, 0f);
    }
}
