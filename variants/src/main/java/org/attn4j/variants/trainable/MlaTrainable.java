package org.attn4j.variants.trainable;

import java.util.List;
import java.util.Map;
import org.attn4j.core.parallel.Parallel;

/**
 * {@code mla} (P84; DeepSeek-V2's Multi-head Latent Attention, "decoupled RoPE" form), trainable and
 * causal, with its latent projections as parameters; the same function as
 * {@link org.attn4j.variants.latent.MultiHeadLatentAttention} with {@code absorb=false, causal=true}
 * and the same weights.
 *
 * <p><b>How it maps onto q, k, v.</b> MLA is a layer on hidden states, and the contract hands it the
 * block's q, k, v. As in the forward-only variant, the query tokens' hidden state is q with its heads
 * merged, {@code X_q[t] = concat_h q[b,h,t,:]} (width H·D), and the key/value hidden state is k merged
 * the same way ({@code X_kv}); keys and values both come from the one latent of X_kv, so <b>v is not
 * read and its gradient is 0</b> (inside a block, the V projection then learns nothing; weight decay
 * shrinks it). The output {@code U = concat_h(o_h) W_O} (width H·D) is split back into heads, so the
 * output is {@code [B, H, N, D]} and Dv must equal D.
 *
 * <p><b>Forward</b> per token t (row-major weights {@code in × out}, RMSNorm with gain, ε = 1e-6):
 * <pre>
 *   c_Q = rms(X_q W_dq)·g_q      q^C = c_Q W_uq      q^R = RoPE_t(c_Q W_qr)   (per head)
 *   c_KV = rms(X_kv W_dkv)·g_kv  k^C = c_KV W_uk     v^C = c_KV W_uv          k^R = RoPE_t(X_kv W_kr) (shared)
 *   o_h = causal softmax([q^C_h; q^R_h]·[k^C_h; k^R]ᵀ / √(D + d_R)) v^C_h        U = concat_h(o_h) W_o
 * </pre>
 * <b>Backward</b>, bottom to top: dW_o += Oᵀ dU, dO = dU W_oᵀ; each head's softmax attention backward
 * gives dQ_h, dK_h, dV_h; the rotary parts rotate back (RoPE is orthogonal: its transpose is the
 * rotation by −angle) and k^R's gradient is summed over heads; every projection y = x W gives
 * dW += xᵀ dy and dx = dy Wᵀ; RMSNorm y = a·r·g with r = (mean(a²) + ε)^(−1/2) gives dg += a·r·dy and
 * da = r·(g⊙dy) − a·r³·⟨g⊙dy, a⟩ / n. Finally dq = split(dX_q), dk = split(dX_kv), dv = 0.
 */
public final class MlaTrainable extends Float64Attention {
    static final double ROPE_BASE = 10000.0, EPS = 1e-6;

    private final int kvRank, qRank, ropeDim;

    /** Widths as in {@link org.attn4j.variants.latent.MlaParams}: 0 for the DeepSeek-V2 ratio (4·D, 12·D, D/2 rounded up to even). */
    public MlaTrainable(int kvRank, int qRank, int ropeDim) {
        if (kvRank < 0) throw new IllegalArgumentException("kv-rank: expected >= 0 (0 = 4·D), got " + kvRank);
        if (qRank < 0) throw new IllegalArgumentException("q-rank: expected >= 0 (0 = 12·D), got " + qRank);
        if (ropeDim < 0 || ropeDim % 2 != 0) throw new IllegalArgumentException("rope-dim: expected an even number >= 0 (0 = D/2), got " + ropeDim);
        this.kvRank = kvRank;
        this.qRank = qRank;
        this.ropeDim = ropeDim;
    }

    @Override public String name() { return "mla"; }

    public int dc(int d) { return kvRank > 0 ? kvRank : 4 * d; }

    public int dcq(int d) { return qRank > 0 ? qRank : 12 * d; }

    public int dr(int d) { return ropeDim > 0 ? ropeDim : Math.max(2, (d / 2 + 1) & ~1); }

    @Override
    public List<TrainableParam> parameters(int heads, int d, int seqLen) {
        int dq = heads * d, dc = dc(d), dcq = dcq(d), dr = dr(d);
        return List.of(
                proj("w_dq", dq, dcq), norm("g_q", dcq), proj("w_uq", dcq, heads * d), proj("w_qr", dcq, heads * dr),
                proj("w_dkv", dq, dc), norm("g_kv", dc), proj("w_uk", dc, heads * d), proj("w_uv", dc, heads * d),
                proj("w_kr", dq, dr), proj("w_o", heads * d, dq));
    }

    private static TrainableParam proj(String name, int in, int out) {
        return new TrainableParam(name, new int[] {in, out}, true, TrainableParam.Init.NORMAL, (float) Math.sqrt(2.0 / (in + out)));
    }

    private static TrainableParam norm(String name, int n) {
        return new TrainableParam(name, new int[] {n}, false, TrainableParam.Init.ONE, 0);
    }

    /** Everything one batch item's backward reads. */
    private record Item(double[] xq, double[] xkv, double[] aq, double[] rq, double[] cq, double[] akv, double[] rkv, double[] ckv,
                        double[][] qh, double[][] kh, double[][] vh, double[][] oh, double[][] lse, double[] o) {}

    private record State(Dims dims, int dc, int dcq, int dr, Map<String, double[]> w, Item[] items, double[][] output) implements Saved64 {}

    @Override
    public Saved64 forward64(Dims dims, double[][] q, double[][] k, double[][] v, Map<String, double[]> w, int threads) {
        if (dims.dv() != dims.d()) throw new IllegalArgumentException("v: mla returns [B, H, N, D] and needs Dv = D = " + dims.d() + ", got Dv = " + dims.dv());
        int hh = dims.heads(), n = dims.n(), d = dims.d(), dq = hh * d, dc = dc(d), dcq = dcq(d), dr = dr(d), wk = d + dr;
        Item[] items = new Item[dims.batch()];
        double[][] out = new double[dims.bh()][n * d];
        double scale = 1 / Math.sqrt(wk);
        Parallel.forEach(threads, dims.batch(), x -> null, (b, u) -> {
            double[] xq = merge(q, b, hh, n, d), xkv = merge(k, b, hh, n, d);
            double[] aq = new double[n * dcq], rq = new double[n], cq = new double[n * dcq];
            Dense64.mul(xq, w.get("w_dq"), aq, n, dq, dcq);
            rmsNorm(aq, w.get("g_q"), n, dcq, rq, cq);
            double[] qc = new double[n * dq], qr = new double[n * hh * dr];
            Dense64.mul(cq, w.get("w_uq"), qc, n, dcq, dq);
            Dense64.mul(cq, w.get("w_qr"), qr, n, dcq, hh * dr);
            for (int t = 0; t < n; t++) for (int h = 0; h < hh; h++) rope(qr, (t * hh + h) * dr, dr, t, 1);
            double[] akv = new double[n * dc], rkv = new double[n], ckv = new double[n * dc];
            Dense64.mul(xkv, w.get("w_dkv"), akv, n, dq, dc);
            rmsNorm(akv, w.get("g_kv"), n, dc, rkv, ckv);
            double[] kc = new double[n * dq], vc = new double[n * dq], kr = new double[n * dr];
            Dense64.mul(ckv, w.get("w_uk"), kc, n, dc, dq);
            Dense64.mul(ckv, w.get("w_uv"), vc, n, dc, dq);
            Dense64.mul(xkv, w.get("w_kr"), kr, n, dq, dr);
            for (int t = 0; t < n; t++) rope(kr, t * dr, dr, t, 1);
            double[][] qh = new double[hh][n * wk], kh = new double[hh][n * wk], vh = new double[hh][n * d], oh = new double[hh][n * d], lse = new double[hh][n];
            double[] o = new double[n * dq];
            for (int h = 0; h < hh; h++) {
                for (int t = 0; t < n; t++) {
                    System.arraycopy(qc, t * dq + h * d, qh[h], t * wk, d);
                    System.arraycopy(qr, (t * hh + h) * dr, qh[h], t * wk + d, dr);
                    System.arraycopy(kc, t * dq + h * d, kh[h], t * wk, d);
                    System.arraycopy(kr, t * dr, kh[h], t * wk + d, dr);
                    System.arraycopy(vc, t * dq + h * d, vh[h], t * d, d);
                }
                Softmax64.forward(qh[h], kh[h], vh[h], n, wk, d, scale, Softmax64.CAUSAL, oh[h], lse[h]);
                for (int t = 0; t < n; t++) System.arraycopy(oh[h], t * d, o, t * dq + h * d, d);
            }
            double[] uu = new double[n * dq];
            Dense64.mul(o, w.get("w_o"), uu, n, dq, dq);
            for (int h = 0; h < hh; h++) for (int t = 0; t < n; t++) System.arraycopy(uu, t * dq + h * d, out[b * hh + h], t * d, d);
            items[b] = new Item(xq, xkv, aq, rq, cq, akv, rkv, ckv, qh, kh, vh, oh, lse, o);
        });
        return new State(dims, dc, dcq, dr, w, items, out);
    }

    @Override
    public void backward64(Saved64 saved, double[][] dOut, double[][] dq, double[][] dk, double[][] dv, Map<String, double[]> grads, int threads) {
        State st = (State) saved;
        Dims dims = st.dims();
        Map<String, double[]> w = st.w();
        int hh = dims.heads(), n = dims.n(), d = dims.d(), dqw = hh * d, dc = st.dc(), dcq = st.dcq(), dr = st.dr(), wk = d + dr;
        double scale = 1 / Math.sqrt(wk);
        @SuppressWarnings("unchecked")
        Map<String, double[]>[] partial = new Map[dims.batch()];
        Parallel.forEach(threads, dims.batch(), x -> null, (b, u) -> {
            Item it = st.items()[b];
            Map<String, double[]> g = new java.util.HashMap<>();
            for (var e : w.entrySet()) g.put(e.getKey(), new double[e.getValue().length]);
            // U = O W_o
            double[] du = merge(dOut, b, hh, n, d), dO = new double[n * dqw];
            Dense64.mulTransA(it.o(), du, g.get("w_o"), n, dqw, dqw);
            Dense64.mulTransB(du, w.get("w_o"), dO, n, dqw, dqw);
            // Attention per head
            double[] dqc = new double[n * dqw], dqr = new double[n * hh * dr], dkc = new double[n * dqw], dvc = new double[n * dqw], dkr = new double[n * dr];
            for (int h = 0; h < hh; h++) {
                double[] doh = new double[n * d], dQ = new double[n * wk], dK = new double[n * wk], dV = new double[n * d];
                for (int t = 0; t < n; t++) System.arraycopy(dO, t * dqw + h * d, doh, t * d, d);
                Softmax64.backward(it.qh()[h], it.kh()[h], it.vh()[h], it.oh()[h], it.lse()[h], doh, n, wk, d, scale, Softmax64.CAUSAL, dQ, dK, dV);
                for (int t = 0; t < n; t++) {
                    System.arraycopy(dQ, t * wk, dqc, t * dqw + h * d, d);
                    System.arraycopy(dQ, t * wk + d, dqr, (t * hh + h) * dr, dr);
                    System.arraycopy(dK, t * wk, dkc, t * dqw + h * d, d);
                    Softmax64.axpy(1, dK, t * wk + d, dkr, t * dr, dr);
                    System.arraycopy(dV, t * d, dvc, t * dqw + h * d, d);
                }
            }
            // RoPE back (rotation by −angle), then the query side: q^C = c_Q W_uq, q^R = c_Q W_qr, c_Q = rms(X_q W_dq)
            for (int t = 0; t < n; t++) {
                for (int h = 0; h < hh; h++) rope(dqr, (t * hh + h) * dr, dr, t, -1);
                rope(dkr, t * dr, dr, t, -1);
            }
            double[] dCq = new double[n * dcq];
            Dense64.mulTransA(it.cq(), dqc, g.get("w_uq"), n, dcq, dqw);
            Dense64.mulTransA(it.cq(), dqr, g.get("w_qr"), n, dcq, hh * dr);
            Dense64.mulTransB(dqc, w.get("w_uq"), dCq, n, dcq, dqw);
            Dense64.mulTransB(dqr, w.get("w_qr"), dCq, n, dcq, hh * dr);
            double[] daq = rmsNormBackward(it.aq(), it.rq(), w.get("g_q"), dCq, n, dcq, g.get("g_q"));
            double[] dxq = new double[n * dqw];
            Dense64.mulTransA(it.xq(), daq, g.get("w_dq"), n, dqw, dcq);
            Dense64.mulTransB(daq, w.get("w_dq"), dxq, n, dqw, dcq);
            // Key/value side: k^C = c_KV W_uk, v^C = c_KV W_uv, c_KV = rms(X_kv W_dkv), k^R = X_kv W_kr
            double[] dckv = new double[n * dc];
            Dense64.mulTransA(it.ckv(), dkc, g.get("w_uk"), n, dc, dqw);
            Dense64.mulTransA(it.ckv(), dvc, g.get("w_uv"), n, dc, dqw);
            Dense64.mulTransB(dkc, w.get("w_uk"), dckv, n, dc, dqw);
            Dense64.mulTransB(dvc, w.get("w_uv"), dckv, n, dc, dqw);
            double[] dakv = rmsNormBackward(it.akv(), it.rkv(), w.get("g_kv"), dckv, n, dc, g.get("g_kv"));
            double[] dxkv = new double[n * dqw];
            Dense64.mulTransA(it.xkv(), dakv, g.get("w_dkv"), n, dqw, dc);
            Dense64.mulTransB(dakv, w.get("w_dkv"), dxkv, n, dqw, dc);
            Dense64.mulTransA(it.xkv(), dkr, g.get("w_kr"), n, dqw, dr);
            Dense64.mulTransB(dkr, w.get("w_kr"), dxkv, n, dqw, dr);
            for (int h = 0; h < hh; h++) {
                for (int t = 0; t < n; t++) {
                    Softmax64.axpy(1, dxq, t * dqw + h * d, dq[b * hh + h], t * d, d);
                    Softmax64.axpy(1, dxkv, t * dqw + h * d, dk[b * hh + h], t * d, d);
                }
            }
            partial[b] = g;
        });
        for (int b = 0; b < dims.batch(); b++) {
            for (var e : partial[b].entrySet()) Softmax64.axpy(1, e.getValue(), 0, grads.get(e.getKey()), 0, e.getValue().length);
        }
    }

    /** X[t] = concat_h x[b, h, t, :]. */
    private static double[] merge(double[][] x, int b, int heads, int n, int d) {
        double[] m = new double[n * heads * d];
        for (int h = 0; h < heads; h++) for (int t = 0; t < n; t++) System.arraycopy(x[b * heads + h], t * d, m, t * heads * d + h * d, d);
        return m;
    }

    /** y = a·r·g per row, r = (mean(a²) + ε)^(−1/2) kept in {@code r}. */
    private static void rmsNorm(double[] a, double[] gain, int n, int w, double[] r, double[] y) {
        for (int t = 0; t < n; t++) {
            double ss = Softmax64.dot(a, t * w, a, t * w, w);
            r[t] = 1 / Math.sqrt(ss / w + EPS);
            for (int c = 0; c < w; c++) y[t * w + c] = a[t * w + c] * r[t] * gain[c];
        }
    }

    /** da for dy; adds dg. */
    private static double[] rmsNormBackward(double[] a, double[] r, double[] gain, double[] dy, int n, int w, double[] dgain) {
        double[] da = new double[n * w];
        for (int t = 0; t < n; t++) {
            double dot = 0;
            for (int c = 0; c < w; c++) {
                double gu = gain[c] * dy[t * w + c];
                dot += gu * a[t * w + c];
                dgain[c] += a[t * w + c] * r[t] * dy[t * w + c];
            }
            double r3 = r[t] * r[t] * r[t];
            for (int c = 0; c < w; c++) da[t * w + c] = r[t] * gain[c] * dy[t * w + c] - a[t * w + c] * r3 * dot / w;
        }
        return da;
    }

    /** Rotary embedding of pairs (2m, 2m+1) at position pos (direction −1: the inverse rotation). */
    static void rope(double[] x, int off, int n, int pos, int direction) {
        for (int m = 0; m < n / 2; m++) {
            double angle = direction * pos * Math.pow(ROPE_BASE, -2.0 * m / n);
            double c = Math.cos(angle), s = Math.sin(angle);
            double a = x[off + 2 * m], bb = x[off + 2 * m + 1];
            x[off + 2 * m] = a * c - bb * s;
            x[off + 2 * m + 1] = a * s + bb * c;
        }
    }
}
