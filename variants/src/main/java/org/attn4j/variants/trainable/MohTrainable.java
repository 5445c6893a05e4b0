package org.attn4j.variants.trainable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.attn4j.core.parallel.Parallel;

/**
 * {@code moh} (P39, MoH: Multi-Head Attention as Mixture-of-Head Attention), trainable and causal.
 * The first S heads are shared (always on), each token activates the top-k of the other R = H − S
 * heads; head h's causal softmax attention output at token t is scaled by the gate g_h(t):
 * <pre>
 *   routed:    p = softmax(W_routed x_t); g = k·p_j / Σ_{top-k} p for the top-k, 0 otherwise
 *   shared:    g_h = S·softmax(W_shared x_t)_h  (g = 1 when S = 1)
 *   two-stage: (α_1, α_2) = 2·softmax(W_stage x_t); shared gates ×α_1, routed ×α_2 (when S, R &gt; 0)
 * </pre>
 * exactly as {@link org.attn4j.variants.heads.MixtureOfHeadsAttention} with {@code causal=true} and
 * the same router weights.
 *
 * <p><b>What the router reads.</b> The contract hands the mechanism q, k, v, not the layer input, so
 * the router reads {@code x_t = [q_1[t], …, q_H[t]]} (the token's query heads concatenated, H·D
 * wide; the same choice as the forward-only variant). It is a function of token t alone, so routing
 * stays causal, and its gradient flows back into q (and through q's projection to the layer input).
 *
 * <p><b>Parameters</b> (row-major, H·D columns, N(0, 1/(3·H·D)) like PyTorch's Linear default's
 * variance): {@code router_routed} [R, H·D] when R &gt; 0, {@code router_shared} [S, H·D] when S &gt; 1,
 * {@code router_stage} [2, H·D] when S, R &gt; 0.
 *
 * <p><b>Backward.</b> out_h(t) = g_h(t)·O_h(t): dO_h of the head's attention is g·dOut (rows with
 * g = 0 are neither computed nor differentiated), dg_h(t) = dOut_h(t)·O_h(t). The top-k choice is not
 * differentiated; within it the gates are smooth: for j in the top-k set T,
 * ∂g_j/∂p_l = α_2·k·(δ_jl/σ − p_j/σ²) (l ∈ T, σ = Σ_T p), then the softmax backward to the logits, to
 * W (dW += dz ⊗ x_t) and to x_t (Wᵀdz, added into dq). The stage and shared softmaxes the same way.
 */
public final class MohTrainable extends Float64Attention {
    private final int shared, topK;
    private final double scale;

    /**
     * @param shared always-active heads, −1 for H/2
     * @param topK   routed heads per token, −1 for ⌈(H − shared)/2⌉
     * @param scale  logit scale; 0 means 1/√D
     */
    public MohTrainable(int shared, int topK, double scale) {
        if (shared < -1) throw new IllegalArgumentException("shared: expected -1 (H/2) or >= 0, got " + shared);
        if (topK < -1) throw new IllegalArgumentException("top-k: expected -1 (half the routed heads) or >= 0, got " + topK);
        if (!(scale >= 0 && Double.isFinite(scale))) throw new IllegalArgumentException("scale: expected a finite number ≥ 0 (0 = 1/sqrt(D)), got " + scale);
        this.shared = shared;
        this.topK = topK;
        this.scale = scale;
    }

    @Override public String name() { return "moh"; }

    /** Shared-head count for H heads. */
    public int sharedFor(int heads) {
        int s = shared < 0 ? heads / 2 : shared;
        if (s > heads) throw new IllegalArgumentException("shared: expected <= H = " + heads + ", got " + s);
        return s;
    }

    /** Routed top-k for H heads. */
    public int topKFor(int heads) {
        int routed = heads - sharedFor(heads);
        int k = topK < 0 ? (routed + 1) / 2 : topK;
        if (k > routed) throw new IllegalArgumentException("top-k: expected <= H - shared = " + routed + ", got " + k);
        if (routed > 0 && k == 0) throw new IllegalArgumentException("top-k: expected >= 1 when there are routed heads (H - shared = " + routed + "), got 0");
        return k;
    }

    @Override
    public List<TrainableParam> parameters(int heads, int headDim, int seqLen) {
        int s = sharedFor(heads), r = heads - s, hd = heads * headDim;
        topKFor(heads);
        float std = (float) (1 / Math.sqrt(3.0 * hd));
        List<TrainableParam> p = new ArrayList<>();
        if (r > 0) p.add(new TrainableParam("router_routed", new int[] {r, hd}, true, TrainableParam.Init.NORMAL, std));
        if (s > 1) p.add(new TrainableParam("router_shared", new int[] {s, hd}, true, TrainableParam.Init.NORMAL, std));
        if (s > 0 && r > 0) p.add(new TrainableParam("router_stage", new int[] {2, hd}, true, TrainableParam.Init.NORMAL, std));
        return p;
    }

    /** One token's routing: the softmaxes it went through and its gates. */
    private static final class Route {
        double a1 = 1, a2 = 1, sigma;
        double[] pStage, pShared, pRouted, gates;
        boolean[] chosen;
    }

    private Route route(double[] x, int heads, int s, int k, Map<String, double[]> w) {
        int r = heads - s, hd = x.length;
        Route ro = new Route();
        ro.gates = new double[heads];
        if (s > 0 && r > 0) {
            ro.pStage = softmax(w.get("router_stage"), 2, x, hd);
            ro.a1 = 2 * ro.pStage[0];
            ro.a2 = 2 * ro.pStage[1];
        }
        if (s == 1) ro.gates[0] = ro.a1;
        else if (s > 1) {
            ro.pShared = softmax(w.get("router_shared"), s, x, hd);
            for (int h = 0; h < s; h++) ro.gates[h] = ro.a1 * s * ro.pShared[h];
        }
        if (r > 0) {
            double[] p = ro.pRouted = softmax(w.get("router_routed"), r, x, hd);
            ro.chosen = new boolean[r];
            for (int c = 0; c < k; c++) {
                int best = -1;
                for (int j = 0; j < r; j++) if (!ro.chosen[j] && (best < 0 || p[j] > p[best])) best = j;
                ro.chosen[best] = true;
                ro.sigma += p[best];
            }
            for (int j = 0; j < r; j++) if (ro.chosen[j]) ro.gates[s + j] = ro.a2 * k * p[j] / ro.sigma;
        }
        return ro;
    }

    private static double[] softmax(double[] w, int rows, double[] x, int len) {
        double[] p = new double[rows];
        double m = Double.NEGATIVE_INFINITY, sum = 0;
        for (int j = 0; j < rows; j++) m = Math.max(m, p[j] = Softmax64.dot(w, j * len, x, 0, len));
        for (int j = 0; j < rows; j++) sum += p[j] = Math.exp(p[j] - m);
        for (int j = 0; j < rows; j++) p[j] /= sum;
        return p;
    }

    /** Softmax backward to the logits z = W x: dW += dz ⊗ x, dx += Wᵀ dz. */
    private static void softmaxBack(double[] p, double[] dp, double[] w, double[] x, double[] dw, double[] dx) {
        double dot = 0;
        for (int j = 0; j < p.length; j++) dot += p[j] * dp[j];
        for (int j = 0; j < p.length; j++) {
            double dz = p[j] * (dp[j] - dot);
            Softmax64.axpy(dz, x, 0, dw, j * x.length, x.length);
            Softmax64.axpy(dz, w, j * x.length, dx, 0, x.length);
        }
    }

    private record State(Dims dims, int shared, int topK, double scale, double[][] q, double[][] k, double[][] v, Map<String, double[]> weights,
                         double[][] gates, double[][] heads, double[][] lse, double[][] output) implements Saved64 {}

    /** x_t = [q_1[t], …, q_H[t]] of batch item b. */
    private static double[] routerInput(double[][] q, int b, int heads, int t, int d) {
        double[] x = new double[heads * d];
        for (int h = 0; h < heads; h++) System.arraycopy(q[b * heads + h], t * d, x, h * d, d);
        return x;
    }

    @Override
    public Saved64 forward64(Dims dims, double[][] q, double[][] k, double[][] v, Map<String, double[]> weights, int threads) {
        int hh = dims.heads(), n = dims.n(), d = dims.d(), dv = dims.dv(), s = sharedFor(hh), kk = topKFor(hh);
        double sc = scale > 0 ? scale : 1 / Math.sqrt(d);
        double[][] gates = new double[dims.batch()][n * hh];
        Parallel.forEach(threads, dims.batch() * n, w -> null, (bt, u) -> {
            int b = bt / n, t = bt % n;
            System.arraycopy(route(routerInput(q, b, hh, t, d), hh, s, kk, weights).gates, 0, gates[b], t * hh, hh);
        });
        double[][] heads = new double[dims.bh()][n * dv], lse = new double[dims.bh()][n], out = new double[dims.bh()][n * dv];
        Parallel.forEach(threads, dims.bh(), w -> null, (bh, u) -> {
            int b = bh / hh, h = bh % hh;
            Softmax64.forward(q[bh], k[bh], v[bh], n, d, dv, sc, active(gates[b], hh, h), heads[bh], lse[bh]);
            for (int t = 0; t < n; t++) {
                double g = gates[b][t * hh + h];
                for (int c = 0; c < dv; c++) out[bh][t * dv + c] = g * heads[bh][t * dv + c];
            }
        });
        return new State(dims, s, kk, sc, q, k, v, weights, gates, heads, lse, out);
    }

    /** Causal rows of head h for the tokens whose gate is non-zero; no keys for the others. */
    private static Softmax64.Visible active(double[] gates, int heads, int h) {
        return new Softmax64.Visible() {
            @Override public int count(int i) { return gates[i * heads + h] != 0 ? i + 1 : 0; }
            @Override public int key(int i, int t) { return t; }
        };
    }

    @Override
    public void backward64(Saved64 saved, double[][] dOut, double[][] dq, double[][] dk, double[][] dv, Map<String, double[]> grads, int threads) {
        State st = (State) saved;
        Dims dims = st.dims();
        int hh = dims.heads(), n = dims.n(), d = dims.d(), w = dims.dv(), s = st.shared(), kk = st.topK(), r = hh - s, hd = hh * d;
        // Attention of each head with dO = g·dOut; dg = dOut·O.
        double[][] dg = new double[dims.batch()][n * hh];
        Parallel.forEach(threads, dims.bh(), x -> null, (bh, u) -> {
            int b = bh / hh, h = bh % hh;
            double[] dh = new double[n * w];
            for (int t = 0; t < n; t++) {
                double g = st.gates()[b][t * hh + h];
                if (g == 0) continue;
                for (int c = 0; c < w; c++) dh[t * w + c] = g * dOut[bh][t * w + c];
                dg[b][t * hh + h] = Softmax64.dot(dOut[bh], t * w, st.heads()[bh], t * w, w);
            }
            Softmax64.backward(st.q()[bh], st.k()[bh], st.v()[bh], st.heads()[bh], st.lse()[bh], dh, n, d, w, st.scale(),
                    active(st.gates()[b], hh, h), dq[bh], dk[bh], dv[bh]);
        });
        // Router, per batch item (tokens in order), parameter gradients summed over items in order.
        Map<String, double[]> wt = st.weights();
        double[][] gr = new double[dims.batch()][], gs = new double[dims.batch()][], g0 = new double[dims.batch()][];
        Parallel.forEach(threads, dims.batch(), x -> null, (b, u) -> {
            double[] dwr = r > 0 ? new double[r * hd] : null, dws = s > 1 ? new double[s * hd] : null, dw0 = s > 0 && r > 0 ? new double[2 * hd] : null;
            for (int t = 0; t < n; t++) {
                double[] xt = routerInput(st.q(), b, hh, t, d), dx = new double[hd];
                Route ro = route(xt, hh, s, kk, wt);
                double[] dgt = java.util.Arrays.copyOfRange(dg[b], t * hh, (t + 1) * hh);
                double da1 = 0, da2 = 0;
                if (s == 1) da1 += dgt[0];
                else if (s > 1) {
                    double[] dp = new double[s];
                    for (int h = 0; h < s; h++) {
                        da1 += s * ro.pShared[h] * dgt[h];
                        dp[h] = ro.a1 * s * dgt[h];
                    }
                    softmaxBack(ro.pShared, dp, wt.get("router_shared"), xt, dws, dx);
                }
                if (r > 0) {
                    double[] p = ro.pRouted, dp = new double[r];
                    double cross = 0;
                    for (int j = 0; j < r; j++) {
                        if (!ro.chosen[j]) continue;
                        da2 += kk * p[j] * dgt[s + j] / ro.sigma;
                        cross += p[j] * dgt[s + j];
                    }
                    for (int j = 0; j < r; j++) {
                        if (ro.chosen[j]) dp[j] = ro.a2 * kk * (dgt[s + j] / ro.sigma - cross / (ro.sigma * ro.sigma));
                    }
                    softmaxBack(p, dp, wt.get("router_routed"), xt, dwr, dx);
                }
                if (s > 0 && r > 0) softmaxBack(ro.pStage, new double[] {2 * da1, 2 * da2}, wt.get("router_stage"), xt, dw0, dx);
                for (int h = 0; h < hh; h++) Softmax64.axpy(1, dx, h * d, dq[b * hh + h], t * d, d);
            }
            gr[b] = dwr;
            gs[b] = dws;
            g0[b] = dw0;
        });
        for (int b = 0; b < dims.batch(); b++) {
            if (gr[b] != null) Softmax64.axpy(1, gr[b], 0, grads.get("router_routed"), 0, gr[b].length);
            if (gs[b] != null) Softmax64.axpy(1, gs[b], 0, grads.get("router_shared"), 0, gs[b].length);
            if (g0[b] != null) Softmax64.axpy(1, g0[b], 0, grads.get("router_stage"), 0, g0[b].length);
        }
    }
}
