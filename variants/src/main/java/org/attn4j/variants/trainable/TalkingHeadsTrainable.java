package org.attn4j.variants.trainable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.attn4j.core.parallel.Parallel;

/**
 * {@code talking-heads} (Shazeer et al. 2020), trainable and causal, with learned H × H mixing
 * matrices as its parameters: {@code logit_mix} P_l (before the softmax) and {@code weight_mix} P_w
 * (after it), row-major {@code [to][from]}, both starting at the identity (plain multi-head attention)
 * and without weight decay (decay would pull them toward zero, i.e. toward no attention, not toward
 * multi-head attention). Per query row i, keys j ≤ i:
 * <pre>
 *   s_g = scale·q_g,i·k_g,j   L_h = Σ_g P_l[h][g] s_g   A_h = softmax_j(L_h)   W_h = Σ_g P_w[h][g] A_g   o_h,i = Σ_j W_h,j v_h,j
 * </pre>
 * as {@link org.attn4j.variants.heads.TalkingHeadsAttention} with {@code causal=true} and the same
 * matrices. Backward per row, bottom to top: dW_h = dO_h·v_h; dP_w[h][g] += Σ_j dW_h A_g;
 * dA_g = Σ_h P_w[h][g] dW_h; dL_h = A_h ⊙ (dA_h − A_h·dA_h); dP_l[h][g] += Σ_j dL_h s_g;
 * ds_g = Σ_h P_l[h][g] dL_h; dq, dk from ds. The forward keeps the output and each (head, row)'s
 * log-sum-exp; the backward recomputes a row's H × (i + 1) scores: memory O(H·N) per worker.
 * Parallel over the batch; the matrix gradients are summed over batch items in order (deterministic).
 */
public final class TalkingHeadsTrainable extends Float64Attention {
    private final boolean pre, post;
    private final double scale;

    /**
     * @param pre   mix logits across heads before the softmax (parameter {@code logit_mix})
     * @param post  mix weights across heads after it (parameter {@code weight_mix})
     * @param scale logit scale; 0 means 1/√D
     */
    public TalkingHeadsTrainable(boolean pre, boolean post, double scale) {
        if (!(scale >= 0 && Double.isFinite(scale))) throw new IllegalArgumentException("scale: expected a finite number ≥ 0 (0 = 1/sqrt(D)), got " + scale);
        this.pre = pre;
        this.post = post;
        this.scale = scale;
    }

    @Override public String name() { return "talking-heads"; }

    @Override
    public List<TrainableParam> parameters(int heads, int headDim, int seqLen) {
        List<TrainableParam> p = new ArrayList<>();
        if (pre) p.add(new TrainableParam("logit_mix", new int[] {heads, heads}, false, TrainableParam.Init.IDENTITY, 0));
        if (post) p.add(new TrainableParam("weight_mix", new int[] {heads, heads}, false, TrainableParam.Init.IDENTITY, 0));
        return p;
    }

    private record State(Dims dims, double scale, double[][] q, double[][] k, double[][] v, double[] pl, double[] pw,
                         double[][] output, double[][] lse) implements Saved64 {}

    /** Row i of batch item b: fills s[g][j], L[h][j] (j ≤ i) and, given lse, A[h][j]; returns nothing. */
    private static void scores(State st, int b, int i, double[][] s, double[][] l) {
        Dims dm = st.dims();
        int hh = dm.heads(), d = dm.d();
        for (int g = 0; g < hh; g++) {
            double[] qg = st.q()[b * hh + g], kg = st.k()[b * hh + g];
            for (int j = 0; j <= i; j++) s[g][j] = st.scale() * Softmax64.dot(qg, i * d, kg, j * d, d);
        }
        for (int h = 0; h < hh; h++) {
            if (st.pl() == null) {
                System.arraycopy(s[h], 0, l[h], 0, i + 1);
                continue;
            }
            java.util.Arrays.fill(l[h], 0, i + 1, 0);
            for (int g = 0; g < hh; g++) {
                double c = st.pl()[h * hh + g];
                if (c != 0) for (int j = 0; j <= i; j++) l[h][j] += c * s[g][j];
            }
        }
    }

    /** W_h = Σ_g P_w[h][g] A_g over j ≤ i (A itself without post mixing). */
    private static void mixWeights(double[] pw, int hh, int i, double[][] a, double[][] w) {
        for (int h = 0; h < hh; h++) {
            if (pw == null) {
                System.arraycopy(a[h], 0, w[h], 0, i + 1);
                continue;
            }
            java.util.Arrays.fill(w[h], 0, i + 1, 0);
            for (int g = 0; g < hh; g++) {
                double c = pw[h * hh + g];
                if (c != 0) for (int j = 0; j <= i; j++) w[h][j] += c * a[g][j];
            }
        }
    }

    @Override
    public Saved64 forward64(Dims dims, double[][] q, double[][] k, double[][] v, Map<String, double[]> weights, int threads) {
        int hh = dims.heads(), n = dims.n(), dv = dims.dv();
        double[][] out = new double[dims.bh()][n * dv], lse = new double[dims.bh()][n];
        State st = new State(dims, scale > 0 ? scale : 1 / Math.sqrt(dims.d()), q, k, v,
                pre ? weights.get("logit_mix") : null, post ? weights.get("weight_mix") : null, out, lse);
        Parallel.forEach(threads, dims.batch(), w -> null, (b, u) -> {
            double[][] s = new double[hh][n], l = new double[hh][n], a = new double[hh][n], wm = new double[hh][n];
            for (int i = 0; i < n; i++) {
                scores(st, b, i, s, l);
                for (int h = 0; h < hh; h++) {
                    double m = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j <= i; j++) m = Math.max(m, l[h][j]);
                    for (int j = 0; j <= i; j++) sum += a[h][j] = Math.exp(l[h][j] - m);
                    for (int j = 0; j <= i; j++) a[h][j] /= sum;
                    lse[b * hh + h][i] = m + Math.log(sum);
                }
                mixWeights(st.pw(), hh, i, a, wm);
                for (int h = 0; h < hh; h++) {
                    double[] vh = v[b * hh + h], oh = out[b * hh + h];
                    for (int j = 0; j <= i; j++) Softmax64.axpy(wm[h][j], vh, j * dv, oh, i * dv, dv);
                }
            }
        });
        return st;
    }

    @Override
    public void backward64(Saved64 saved, double[][] dOut, double[][] dq, double[][] dk, double[][] dv, Map<String, double[]> grads, int threads) {
        State st = (State) saved;
        Dims dims = st.dims();
        int hh = dims.heads(), n = dims.n(), d = dims.d(), w = dims.dv();
        double[][] gpl = new double[dims.batch()][hh * hh], gpw = new double[dims.batch()][hh * hh];
        Parallel.forEach(threads, dims.batch(), x -> null, (b, u) -> {
            double[][] s = new double[hh][n], l = new double[hh][n], a = new double[hh][n], wm = new double[hh][n];
            double[][] dW = new double[hh][n], dA = new double[hh][n], dL = new double[hh][n], ds = new double[hh][n];
            for (int i = 0; i < n; i++) {
                scores(st, b, i, s, l);
                for (int h = 0; h < hh; h++) {
                    double lse = st.lse()[b * hh + h][i];
                    for (int j = 0; j <= i; j++) a[h][j] = Math.exp(l[h][j] - lse);
                }
                mixWeights(st.pw(), hh, i, a, wm);
                // o_h,i = Σ_j W_h,j v_h,j
                for (int h = 0; h < hh; h++) {
                    double[] vh = st.v()[b * hh + h], go = dOut[b * hh + h], dvh = dv[b * hh + h];
                    for (int j = 0; j <= i; j++) {
                        dW[h][j] = Softmax64.dot(go, i * w, vh, j * w, w);
                        Softmax64.axpy(wm[h][j], go, i * w, dvh, j * w, w);
                    }
                }
                // W_h = Σ_g P_w[h][g] A_g
                if (st.pw() == null) {
                    for (int h = 0; h < hh; h++) System.arraycopy(dW[h], 0, dA[h], 0, i + 1);
                } else {
                    for (int g = 0; g < hh; g++) java.util.Arrays.fill(dA[g], 0, i + 1, 0);
                    for (int h = 0; h < hh; h++) {
                        for (int g = 0; g < hh; g++) {
                            double c = st.pw()[h * hh + g], acc = 0;
                            for (int j = 0; j <= i; j++) {
                                acc += dW[h][j] * a[g][j];
                                dA[g][j] += c * dW[h][j];
                            }
                            gpw[b][h * hh + g] += acc;
                        }
                    }
                }
                // A_h = softmax(L_h)
                for (int h = 0; h < hh; h++) {
                    double dot = 0;
                    for (int j = 0; j <= i; j++) dot += a[h][j] * dA[h][j];
                    for (int j = 0; j <= i; j++) dL[h][j] = a[h][j] * (dA[h][j] - dot);
                }
                // L_h = Σ_g P_l[h][g] s_g
                if (st.pl() == null) {
                    for (int h = 0; h < hh; h++) System.arraycopy(dL[h], 0, ds[h], 0, i + 1);
                } else {
                    for (int g = 0; g < hh; g++) java.util.Arrays.fill(ds[g], 0, i + 1, 0);
                    for (int h = 0; h < hh; h++) {
                        for (int g = 0; g < hh; g++) {
                            double c = st.pl()[h * hh + g], acc = 0;
                            for (int j = 0; j <= i; j++) {
                                acc += dL[h][j] * s[g][j];
                                ds[g][j] += c * dL[h][j];
                            }
                            gpl[b][h * hh + g] += acc;
                        }
                    }
                }
                // s_g = scale·q_g,i·k_g,j
                for (int g = 0; g < hh; g++) {
                    double[] qg = st.q()[b * hh + g], kg = st.k()[b * hh + g], dqg = dq[b * hh + g], dkg = dk[b * hh + g];
                    for (int j = 0; j <= i; j++) {
                        double c = st.scale() * ds[g][j];
                        Softmax64.axpy(c, kg, j * d, dqg, i * d, d);
                        Softmax64.axpy(c, qg, i * d, dkg, j * d, d);
                    }
                }
            }
        });
        for (int b = 0; b < dims.batch(); b++) {
            if (pre) Softmax64.axpy(1, gpl[b], 0, grads.get("logit_mix"), 0, hh * hh);
            if (post) Softmax64.axpy(1, gpw[b], 0, grads.get("weight_mix"), 0, hh * hh);
        }
    }
}
