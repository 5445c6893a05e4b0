package org.attn4j.variants.heads;

import java.util.ArrayList;
import java.util.List;
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
 * P39 — MoH: Multi-Head Attention as Mixture-of-Head Attention.
 *
 * <p>Heads are experts. The first S heads are shared (always on); each token t routes itself to
 * the top-k of the other R = H − S heads. Per token, with router input {@code x_t}:
 * <pre>
 *   routed:  p = softmax(W_r x_t) over the R routed heads; g_i = k·p_i / Σ_{top-k} p for the top-k, else 0
 *   shared:  g_i = S·softmax(W_s x_t)_i   (g_i = 1 when S = 1)
 *   two-stage: (α_1, α_2) = 2·softmax(W_h x_t); shared gates ×α_1, routed gates ×α_2 (when S, k > 0)
 *   O_h[t] = g_h(t) · softmax(scale·q_h[t] K_hᵀ) V_h
 * </pre>
 * (the normalisation follows the authors' released code: renormalised top-k times k, softmax times
 * S, 2·softmax for the two stages, so all gates are 1 on average). The paper's output is
 * {@code Σ_h g_h H_h W_O^h = concat_h(g_h H_h) W_O}; the output projection is outside the attention
 * operator, so this returns the gated head outputs {@code [B, H, N, Dv]}. "Standard MHA" here is
 * that concat form: every head's own softmax-attention output, ungated. The router needs the
 * token's layer input, which the variant does not receive; it uses the concatenation of the
 * token's query heads {@code x_t = [q_1[t], …, q_H[t]] ∈ R^{H·D}} (unscaled). Seeded router weights
 * are uniform ±1/sqrt(H·D) (PyTorch's Linear default). Top-k ties go to the lower head index.
 *
 * <p>Reduction: S = H (no routed heads) with W_s = 0 gives every gate 1, i.e. standard MHA. Only
 * the (token, head) pairs with a non-zero gate are computed: each head gathers the query rows
 * that selected it and runs blocked GEMM attention on them, so FLOPs fall with k. Counted:
 * router 2·H·D per logit per token; 2·(D + Dv) per computed (query, visible key) pair; Dv per
 * gated output row.
 */
public final class MixtureOfHeadsAttention extends AbstractVariant<MixtureOfHeadsParams> {
    public static final VariantInfo INFO = new VariantInfo("moh", "P39", "MoH: Multi-Head Attention as Mixture-of-Head Attention", Family.H, false,
            "shared heads plus per-token top-k routed heads, outputs weighted by two-stage router gates");

    private final long seed;
    private final float[] wRouted, wShared, wStage;
    private final boolean explicit;

    public MixtureOfHeadsAttention(MixtureOfHeadsParams params, long seed) {
        super(INFO, params);
        this.seed = seed;
        this.wRouted = this.wShared = this.wStage = null;
        this.explicit = false;
    }

    /**
     * Explicit router weights, row-major with H·D columns: {@code wRouted} (H − S) rows (null when
     * S = H), {@code wShared} S rows (null when S ≤ 1), {@code wStage} 2 rows (null unless S &gt; 0
     * and there are routed heads).
     */
    public MixtureOfHeadsAttention(MixtureOfHeadsParams params, float[] wRouted, float[] wShared, float[] wStage) {
        super(INFO, params);
        if (params.shared() < 0 || params.topK() < 0) throw new IllegalArgumentException("shared: explicit router weights need explicit shared and top-k counts");
        this.seed = 0;
        this.wRouted = wRouted == null ? null : wRouted.clone();
        this.wShared = wShared == null ? null : wShared.clone();
        this.wStage = wStage == null ? null : wStage.clone();
        this.explicit = true;
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        int t = Parallel.resolveThreads(threads);
        Shapes shp = Shapes.self(q, k, v).requireSameHeads();
        int heads = shp.heads(), n = shp.nq(), d = shp.d(), dv = shp.dv(), batch = shp.batch(), hd = heads * d;
        int s = params.sharedFor(heads), topK = params.topKFor(heads), r = heads - s;
        float[] wr = null, ws = null, w0 = null;
        if (explicit) {
            if (r > 0) Checks.length("wRouted", wr = wRouted, r * hd, "(H - shared)·H·D");
            if (s > 1) Checks.length("wShared", ws = wShared, s * hd, "shared·H·D");
            if (s > 0 && r > 0) Checks.length("wStage", w0 = wStage, 2 * hd, "2·H·D");
        } else {
            double a = 1.0 / Math.sqrt(hd);
            if (r > 0) wr = Init.uniform(seed, "moh.routed", r * hd, -a, a);
            if (s > 1) ws = Init.uniform(seed, "moh.shared", s * hd, -a, a);
            if (s > 0 && r > 0) w0 = Init.uniform(seed, "moh.stage", 2 * hd, -a, a);
        }
        HeadBlocks hb = HeadBlocks.of(q, k, v, HeadBlocks.scaleOr(params.scale(), d), t);
        HeadBlocks.Flops flops = new HeadBlocks.Flops();
        float[] gates = route(q, batch, heads, n, d, s, topK, wr, ws, w0, t, flops);

        // Active (token, head) lists and work items of up to `rowsPer` gathered rows.
        int rowsPer = HeadBlocks.blockRows(n, 1);
        int[][] active = new int[batch * heads][];
        List<int[]> items = new ArrayList<>();
        for (int bh = 0; bh < batch * heads; bh++) {
            int b = bh / heads, h = bh % heads, cnt = 0;
            int[] list = new int[n];
            for (int i = 0; i < n; i++) if (gates[(b * n + i) * heads + h] != 0f) list[cnt++] = i;
            active[bh] = java.util.Arrays.copyOf(list, cnt);
            for (int st = 0; st < cnt; st += rowsPer) items.add(new int[] {bh, st, Math.min(rowsPer, cnt - st)});
        }
        float[] out = new float[batch * heads * n * dv];
        Parallel.forEach(t, items.size(), w -> new float[][] {new float[rowsPer * d], new float[rowsPer * n], new float[rowsPer * dv]}, (it, buf) -> {
            int[] item = items.get(it);
            int bh = item[0], st = item[1], rows = item[2], b = bh / heads, h = bh % heads;
            int[] tok = active[bh];
            float[] qa = buf[0], sc = buf[1], tmp = buf[2];
            for (int x = 0; x < rows; x++) System.arraycopy(hb.q[bh], tok[st + x] * d, qa, x * d, d);
            int nk = params.causal() ? tok[st + rows - 1] + 1 : n;
            MicroKernels.get().gemm(rows, nk, d, qa, 0, d, 1, hb.kt[bh], 0, n, sc, 0, nk, false);
            long f = 2L * rows * nk * d;
            for (int x = 0; x < rows; x++) HeadBlocks.softmaxRow(sc, x * nk, params.causal() ? tok[st + x] + 1 : nk, nk);
            MicroKernels.get().gemm(rows, dv, nk, sc, 0, nk, 1, hb.v[bh], 0, dv, tmp, 0, dv, false);
            f += 2L * rows * nk * dv;
            for (int x = 0; x < rows; x++) {
                int i = tok[st + x];
                float g = gates[(b * n + i) * heads + h];
                int o = (bh * n + i) * dv;
                for (int c = 0; c < dv; c++) out[o + c] = g * tmp[x * dv + c];
            }
            f += (long) rows * dv;
            flops.add(f);
        });
        return new VariantResult(Tensor.of(out, batch, heads, n, dv), flops.get());
    }

    /** Gates [B, N, H] (shared heads first, then routed), one token per work item. */
    private static float[] route(Tensor q, int batch, int heads, int n, int d, int s, int topK,
                                 float[] wr, float[] ws, float[] w0, int threads, HeadBlocks.Flops flops) {
        int hd = heads * d, r = heads - s;
        float[][] qh = new float[batch * heads][];
        for (int i = 0; i < qh.length; i++) qh[i] = Shapes.head(q, i / heads, i % heads);
        float[] gates = new float[batch * n * heads];
        MicroKernels mk = MicroKernels.get();
        Parallel.forEach(threads, batch * n, w -> new float[hd + 2 * heads + 2], (tokIdx, buf) -> {
            int b = tokIdx / n, i = tokIdx % n, g = tokIdx * heads;
            for (int h = 0; h < heads; h++) System.arraycopy(qh[b * heads + h], i * d, buf, h * d, d);
            long f = 0;
            double a1 = 1, a2 = 1;
            if (w0 != null) {
                float l0 = mk.dot(w0, 0, buf, 0, hd), l1 = mk.dot(w0, hd, buf, 0, hd);
                double m = Math.max(l0, l1), e0 = Math.exp(l0 - m), e1 = Math.exp(l1 - m);
                a1 = 2 * e0 / (e0 + e1);
                a2 = 2 * e1 / (e0 + e1);
                f += 4L * hd;
            }
            if (s == 1) gates[g] = (float) a1;
            else if (s > 1) {
                double[] p = softmax(ws, s, buf, hd, mk);
                for (int h = 0; h < s; h++) gates[g + h] = (float) (a1 * s * p[h]);
                f += 2L * s * hd;
            }
            if (r > 0) {
                double[] p = softmax(wr, r, buf, hd, mk);
                f += 2L * r * hd;
                boolean[] chosen = new boolean[r];
                double sum = 0;
                for (int c = 0; c < topK; c++) {
                    int best = -1;
                    for (int j = 0; j < r; j++) if (!chosen[j] && (best < 0 || p[j] > p[best])) best = j;
                    chosen[best] = true;
                    sum += p[best];
                }
                sum = Math.max(sum, 1e-30);
                for (int j = 0; j < r; j++) if (chosen[j]) gates[g + s + j] = (float) (a2 * topK * p[j] / sum);
            }
            flops.add(f);
        });
        return gates;
    }

    private static double[] softmax(float[] w, int rows, float[] x, int len, MicroKernels mk) {
        double[] p = new double[rows];
        double m = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = 0; j < rows; j++) m = Math.max(m, p[j] = mk.dot(w, j * len, x, 0, len));
        for (int j = 0; j < rows; j++) sum += p[j] = Math.exp(p[j] - m);
        for (int j = 0; j < rows; j++) p[j] /= sum;
        return p;
    }
}
