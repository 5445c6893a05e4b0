package org.attn4j.variants.linear;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P110 — Flowformer: Linearizing Transformers with Conservation Flows (Wu et al.).
 * Flow-Attention on φ = sigmoid features (q ← σ(q), k ← σ(k), ε = 1e-6), per head:
 * <pre>
 *   incoming  I_i = 1 / (q_i+ε)·(Σ_j k_j + ε)            outgoing  O_j = 1 / (k_j+ε)·(Σ_i q_i + ε)
 *   conserved Î_i = (q_i+ε)·(Σ_j O_j k_j + ε)            Ô_j = (k_j+ε)·(Σ_i I_i q_i + ε)
 *   allocation a_i = sigmoid(Î_i · Nq/Nk)                competition c_j = softmax_j(Ô) · Nk
 *   out_i = a_i · (I_i q_i)ᵀ Σ_j k_j (c_j v_j)ᵀ
 * </pre>
 * The causal version (the paper's, as in the authors' code) replaces every sum over keys or queries
 * by a prefix sum up to i and renormalises by the count i+1: I_i and O_i gain a factor (i+1), Î and
 * Ô are divided by (i+1), Ô is clipped to [−1, 1] (the causal code's stabiliser; the non-causal
 * form takes the softmax of the raw Ô, as that code does), a_i = sigmoid(Î_i),
 * c_i = (i+1)·e^{Ô_i} / Σ_{j≤i} e^{Ô_j}, and
 * out_i = a_i (I_i q_i/(i+1))ᵀ Σ_{j≤i} k_j (c_j v_j)ᵀ. The flows are O(N·D) prefix sums; the
 * aggregation runs on {@link LinearCore} (chunked when causal). {@link Decoder} steps one token.
 *
 * <p>Shapes: q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] → [B, H, Nq, Dv]; causal needs Nq = Nk.
 */
public final class FlowAttention extends AbstractVariant<FlowParams> {
    static final VariantInfo INFO = new VariantInfo("flowformer", "P110", "Flowformer: Linearizing Transformers with Conservation Flows",
            Family.L, false, "flow-attention: sigmoid features, conserved incoming/outgoing flows, source competition and sink allocation, O(N)");

    static final double EPS = 1e-6;

    public FlowAttention(FlowParams params) {
        super(INFO, params);
    }

    static float sigmoid(double x) { return (float) (1 / (1 + Math.exp(-x))); }

    /** x ← σ(x) through e^{−|x|} (vectorised): σ(x) = 1/(1 + e^{−|x|}) for x ≥ 0, e^{−|x|}/(1 + e^{−|x|}) otherwise. */
    static void sigmoidInPlace(float[] x) {
        float[] e = new float[x.length];
        for (int i = 0; i < x.length; i++) e[i] = -Math.abs(x[i]);
        VecExp.exp(e, 0, e.length, 0f);
        // p = 1/(1 + e^{−|x|}) = σ(|x|); σ(x) = p for x ≥ 0 and 1 − p otherwise: 0.5 ± (p − 0.5), branch-free
        for (int i = 0; i < x.length; i++) x[i] = 0.5f + Math.copySign(1f / (1f + e[i]) - 0.5f, x[i]);
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v);
        if (params.causal()) LinearCore.requireSelf(s, "flowformer");
        int d = s.d(), dv = s.dv();
        return LinearCore.perHead(s, q, k, v, threads, (b, h, qh, kh, vh, out, scratch) -> {
            sigmoidInPlace(qh);
            sigmoidInPlace(kh);
            float[] alloc = params.causal() ? causalFlows(qh, kh, vh, s.nq(), d, dv) : flows(qh, kh, vh, s.nq(), s.nk(), d, dv);
            long flops = 4L * (qh.length + kh.length) + 16L * (s.nq() + s.nk()) * d;
            flops += params.causal()
                    ? LinearCore.causal(new ArrayFeatures(qh, kh, d), s.nq(), vh, dv, params.chunk(), false, out, scratch)
                    : LinearCore.nonCausal(new ArrayFeatures(qh, kh, d), s.nq(), s.nk(), vh, dv, false, out, scratch);
            for (int i = 0; i < s.nq(); i++) for (int c = 0; c < dv; c++) out[i * dv + c] *= alloc[i];
            return flops + (long) s.nq() * dv;
        });
    }

    /**
     * Non-causal flows. On return q holds I_i q_i and v holds c_j v_j (the aggregation's inputs);
     * returns the allocations a_i.
     */
    static float[] flows(float[] q, float[] k, float[] v, int nq, int nk, int d, int dv) {
        double[] sumQ = new double[d], sumK = new double[d];
        for (int i = 0; i < nq; i++) for (int c = 0; c < d; c++) sumQ[c] += q[i * d + c];
        for (int j = 0; j < nk; j++) for (int c = 0; c < d; c++) sumK[c] += k[j * d + c];
        double[] in = new double[nq], outg = new double[nk];
        for (int i = 0; i < nq; i++) in[i] = 1 / dotEps(q, i * d, sumK, d);
        for (int j = 0; j < nk; j++) outg[j] = 1 / dotEps(k, j * d, sumQ, d);
        double[] kO = new double[d], qI = new double[d];
        for (int j = 0; j < nk; j++) for (int c = 0; c < d; c++) kO[c] += k[j * d + c] * outg[j];
        for (int i = 0; i < nq; i++) for (int c = 0; c < d; c++) qI[c] += q[i * d + c] * in[i];
        float[] alloc = new float[nq];
        double ratio = (double) nq / nk;
        for (int i = 0; i < nq; i++) alloc[i] = sigmoid(dotEps(q, i * d, kO, d) * ratio);
        double[] src = new double[nk];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < nk; j++) {
            src[j] = dotEps(k, j * d, qI, d); // unclipped: only the causal form clamps Ô (the authors' code)
            max = Math.max(max, src[j]);
        }
        double sum = 0;
        for (int j = 0; j < nk; j++) sum += src[j] = Math.exp(src[j] - max);
        for (int j = 0; j < nk; j++) scale(v, j * dv, dv, src[j] / sum * nk);
        for (int i = 0; i < nq; i++) scale(q, i * d, d, in[i]);
        return alloc;
    }

    /** Causal flows by prefix sums (one pass, token order); same in-place contract as {@link #flows}. */
    static float[] causalFlows(float[] q, float[] k, float[] v, int n, int d, int dv) {
        Flows f = new Flows(d);
        float[] alloc = new float[n];
        for (int i = 0; i < n; i++) alloc[i] = f.next(q, i * d, k, i * d, v, i * dv, dv);
        return alloc;
    }

    /**
     * Running state of the causal flows: the prefix sums of q, k, O·k, I·q and e^{Ô}. {@link #next}
     * consumes token t (its σ-features), scales its q row by I_t/(t+1) and v row by c_t in place and
     * returns a_t.
     */
    static final class Flows {
        final int d;
        final double[] cumQ, cumK, cumKO, cumQI;
        double cumE;
        int t;

        Flows(int d) {
            this.d = d;
            cumQ = new double[d];
            cumK = new double[d];
            cumKO = new double[d];
            cumQI = new double[d];
        }

        float next(float[] q, int qo, float[] k, int ko, float[] v, int vo, int dv) {
            double cnt = t + 1;
            for (int c = 0; c < d; c++) {
                cumQ[c] += q[qo + c];
                cumK[c] += k[ko + c];
            }
            double in = cnt / dotEps(q, qo, cumK, d);
            double out = cnt / dotEps(k, ko, cumQ, d);
            for (int c = 0; c < d; c++) {
                cumKO[c] += k[ko + c] * out;
                cumQI[c] += q[qo + c] * in;
            }
            float alloc = sigmoid(dotEps(q, qo, cumKO, d) / cnt);
            double src = Math.exp(Math.max(-1, Math.min(1, dotEps(k, ko, cumQI, d) / cnt)));
            cumE += src;
            scale(v, vo, dv, src / cumE * cnt);
            scale(q, qo, d, in / cnt);
            t++;
            return alloc;
        }
    }

    /** Σ_c (x[o+c] + ε)(y[c] + ε). */
    static double dotEps(float[] x, int o, double[] y, int d) {
        double s = 0;
        for (int c = 0; c < d; c++) s += (x[o + c] + EPS) * (y[c] + EPS);
        return s;
    }

    private static void scale(float[] x, int o, int n, double f) {
        for (int c = 0; c < n; c++) x[o + c] = (float) (x[o + c] * f);
    }

    /** Causal decoding of one head, one token at a time. Not thread-safe. */
    public static Decoder decoder(int d, int dv) { return new Decoder(d, dv); }

    /** The causal Flow-Attention recurrence of one head: flows plus the D × Dv state Σ k (c v)ᵀ. */
    public static final class Decoder {
        private final int d, dv;
        private final Flows flows;
        private final float[] s;

        Decoder(int d, int dv) {
            if (d < 1 || dv < 1) throw new IllegalArgumentException("d, dv: expected ≥ 1, got " + d + ", " + dv);
            this.d = d;
            this.dv = dv;
            this.flows = new Flows(d);
            this.s = new float[d * dv];
        }

        /** Appends token (q, k, v) (raw, before the sigmoid) and returns its output (length Dv). */
        public float[] step(float[] q, float[] k, float[] v) {
            if (q.length != d || k.length != d || v.length != dv) {
                throw new IllegalArgumentException("step: expected q, k of length " + d + " and v of length " + dv
                        + ", got " + q.length + ", " + k.length + ", " + v.length);
            }
            float[] fq = new float[d], fk = new float[d], vv = v.clone();
            for (int c = 0; c < d; c++) {
                fq[c] = sigmoid(q[c]);
                fk[c] = sigmoid(k[c]);
            }
            float a = flows.next(fq, 0, fk, 0, vv, 0, dv);
            var mk = org.attn4j.core.simd.MicroKernels.get();
            for (int c = 0; c < d; c++) mk.axpy(fk[c], vv, 0, s, c * dv, dv);
            float[] out = new float[dv];
            mk.gemm(1, dv, d, fq, 0, d, 1, s, 0, dv, out, 0, dv, false);
            mk.scale(out, 0, dv, a);
            return out;
        }
    }
}
