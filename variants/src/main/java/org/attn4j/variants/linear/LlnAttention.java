package org.attn4j.variants.linear;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P12 — Linear Log-Normal Attention with Unbiased Concentration (Nahshan et al.).
 * {@code out_i = Σ_j (φ_q(q_i)·φ_k(k_j)) v_j / Σ_j φ_q(q_i)·φ_k(k_j)} with
 * {@code φ_q(q) = exp(α q)}, {@code φ_k(k) = exp(β k)} elementwise. α and β come from the paper's
 * moment matching, which makes the log-normal LLN attention matrix match the variance of softmax
 * attention: {@code σ̃² = (σ_q² σ_k² − b) / (2a)} with the paper's fitted constants
 * a = 0.14855178, b = −0.35487039, then {@code α = σ̃/σ_q}, {@code β = σ̃/σ_k}.
 *
 * <p>σ_q, σ_k: the sample standard deviation of the head's q and k entries (non-causal; the
 * reference code uses the whole batch tensor, here each (batch, head) is estimated on its own so
 * batch items stay independent), or the {@code sigmaq}/{@code sigmak} settings; causal forms
 * default to 1 (unit-variance q, k), since a sequence-wide estimate would read future tokens.
 * Numerics: non-causal, each key feature c is shifted by its maximum over the keys and that
 * maximum is added to the query's feature c before the query row is shifted by its own maximum,
 * so every exponential stays ≤ 1 and every row's denominator is ≥ 1 (no row underflows to 0).
 * Causal, each query's features are shifted by their row maximum and the keys by the maximum of
 * β·k over keys up to their own position (a running maximum that {@link LinearCore} re-bases
 * exactly); the shifts cancel in the normalisation, every exponential stays ≤ 1 and row i reads
 * keys ≤ i only, but a row whose query and keys peak in different features can underflow to a
 * zero row when the logits α·q, β·k spread over more than ~80 (float32 exp range).
 *
 * {@link Decoder} is the causal recurrence one token at a time.
 *
 * <p>Shapes: q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] → [B, H, Nq, Dv]; causal needs Nq = Nk.
 */
public final class LlnAttention extends AbstractVariant<LlnParams> {
    static final VariantInfo INFO = new VariantInfo("lln", "P12", "Linear Log-Normal Attention with Unbiased Concentration", Family.L, false,
            "linear attention with exp(alpha q), exp(beta k) features, alpha/beta by moment matching to softmax; causal by chunks");

    /** The paper's fit of the softmax attention variance (the a, b of the moment matching). */
    static final double A = 0.14855178144710912, B = -0.35487039130661086;

    public LlnAttention(LlnParams params) {
        super(INFO, params);
    }

    /** α and β for the given standard deviations: {α, β}. */
    public static double[] alphaBeta(double sigmaQ, double sigmaK) {
        double tilde = Math.sqrt((sigmaQ * sigmaQ * sigmaK * sigmaK - B) / (2 * A));
        return new double[] {tilde / sigmaQ, tilde / sigmaK};
    }

    /** Sample standard deviation (n − 1) of all entries; 1 when fewer than 2 entries or all equal. */
    static double std(float[] x) {
        if (x.length < 2) return 1;
        double mean = 0;
        for (float f : x) mean += f;
        mean /= x.length;
        double ss = 0;
        for (float f : x) ss += (f - mean) * (f - mean);
        double sd = Math.sqrt(ss / (x.length - 1));
        return sd > 0 ? sd : 1;
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v);
        if (params.causal()) LinearCore.requireSelf(s, "lln");
        return LinearCore.perHead(s, q, k, v, threads, (b, h, qh, kh, vh, out, scratch) -> {
            double sq = !Double.isNaN(params.sigmaQ()) ? params.sigmaQ() : params.causal() ? 1 : std(qh);
            double sk = !Double.isNaN(params.sigmaK()) ? params.sigmaK() : params.causal() ? 1 : std(kh);
            double[] ab = alphaBeta(sq, sk);
            long flops = Double.isNaN(params.sigmaQ()) && !params.causal() ? 3L * (qh.length + kh.length) : 0;
            Features f = new Features(qh, kh, s.d(), (float) ab[0], (float) ab[1], params.causal());
            return flops + (params.causal()
                    ? LinearCore.causal(f, s.nq(), vh, s.dv(), params.chunk(), true, out, scratch)
                    : LinearCore.nonCausal(f, s.nq(), s.nk(), vh, s.dv(), true, out, scratch));
        });
    }

    /**
     * Causal: exp(α q − rowmax) for queries, exp(β k − M_j) for keys (M_j: running max of β k).
     * Non-causal: per-feature shifts instead, exp(β k_c − C_c) for keys with C_c = max_j β k_jc, and
     * exp(α q_c + C_c − max_c'(α q_c' + C_c')) for queries (the e^{C_c} moved from the key side to
     * the query side, the row factor cancels): each row's denominator is then at least 1, whereas
     * one global key shift let whole rows underflow to 0 once the logits spread over a few hundred.
     */
    static final class Features implements LinearCore.FeatureMap {
        private final float[] q, k, prefixMax, colMax;
        private final int d;
        private final float alpha, beta, allMax;
        private final boolean causal;

        Features(float[] q, float[] k, int d, float alpha, float beta, boolean causal) {
            this.causal = causal;
            this.q = q;
            this.k = k;
            this.d = d;
            this.alpha = alpha;
            this.beta = beta;
            int n = k.length / d;
            prefixMax = new float[n];
            float m = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                for (int c = 0; c < d; c++) m = Math.max(m, beta * k[j * d + c]);
                prefixMax[j] = m;
            }
            allMax = n == 0 ? 0f : prefixMax[n - 1];
            colMax = new float[d];
            if (!causal && n > 0) {
                java.util.Arrays.fill(colMax, Float.NEGATIVE_INFINITY);
                for (int j = 0; j < n; j++) for (int c = 0; c < d; c++) colMax[c] = Math.max(colMax[c], beta * k[j * d + c]);
            }
        }

        @Override public int dim() { return d; }
        @Override public long flopsPerRow() { return 4L * d; }
        @Override public boolean shifted() { return true; }
        @Override public float keyShift(int j) { return causal ? prefixMax[j] : allMax; }

        @Override
        public void queries(int r0, int rows, float[] out) {
            for (int r = 0; r < rows; r++) {
                int o = (r0 + r) * d;
                float m = Float.NEGATIVE_INFINITY;
                for (int c = 0; c < d; c++) m = Math.max(m, out[r * d + c] = alpha * q[o + c] + colMax[c]);
                VecExp.exp(out, r * d, d, m);
            }
        }

        @Override
        public void keys(int r0, int rows, float[] out) {
            for (int r = 0; r < rows; r++) {
                float shift = keyShift(r0 + r);
                int o = (r0 + r) * d;
                if (causal) {
                    for (int c = 0; c < d; c++) out[r * d + c] = beta * k[o + c];
                    VecExp.exp(out, r * d, d, shift);
                } else {
                    for (int c = 0; c < d; c++) out[r * d + c] = beta * k[o + c] - colMax[c];
                    VecExp.exp(out, r * d, d, 0f);
                }
            }
        }
    }

    /**
     * Causal decoding of one head, one token at a time, with α and β from the {@code sigmaq},
     * {@code sigmak} settings (1 when unset, as in the causal form).
     */
    public Decoder decoder(int d, int dv) {
        double sq = Double.isNaN(params.sigmaQ()) ? 1 : params.sigmaQ(), sk = Double.isNaN(params.sigmaK()) ? 1 : params.sigmaK();
        double[] ab = alphaBeta(sq, sk);
        return new Decoder(d, dv, (float) ab[0], (float) ab[1]);
    }

    /**
     * The causal LLN recurrence: S = Σ e^{βk_j − M} v_jᵀ and z = Σ e^{βk_j − M} relative to the
     * running maximum M of β·k, re-based when M grows. Not thread-safe.
     */
    public static final class Decoder {
        private final int d, dv;
        private final float alpha, beta;
        private final float[] s, z, fq, fk;
        private float ref = Float.NEGATIVE_INFINITY;

        Decoder(int d, int dv, float alpha, float beta) {
            if (d < 1 || dv < 1) throw new IllegalArgumentException("d, dv: expected ≥ 1, got " + d + ", " + dv);
            this.d = d;
            this.dv = dv;
            this.alpha = alpha;
            this.beta = beta;
            s = new float[d * dv];
            z = new float[d];
            fq = new float[d];
            fk = new float[d];
        }

        /** Appends (k, v) and returns the output for query q (length Dv). */
        public float[] step(float[] q, float[] k, float[] v) {
            if (q.length != d || k.length != d || v.length != dv) {
                throw new IllegalArgumentException("step: expected q, k of length " + d + " and v of length " + dv
                        + ", got " + q.length + ", " + k.length + ", " + v.length);
            }
            var mk = org.attn4j.core.simd.MicroKernels.get();
            float m = ref, mq = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < d; c++) {
                m = Math.max(m, fk[c] = beta * k[c]);
                mq = Math.max(mq, fq[c] = alpha * q[c]);
            }
            if (m != ref && ref != Float.NEGATIVE_INFINITY) {
                float r = (float) Math.exp((double) ref - m);
                mk.scale(s, 0, d * dv, r);
                mk.scale(z, 0, d, r);
            }
            ref = m;
            VecExp.exp(fk, 0, d, m);
            VecExp.exp(fq, 0, d, mq);
            for (int c = 0; c < d; c++) mk.axpy(fk[c], v, 0, s, c * dv, dv);
            mk.axpy(1f, fk, 0, z, 0, d);
            float[] out = new float[dv];
            mk.gemm(1, dv, d, fq, 0, d, 1, s, 0, dv, out, 0, dv, false);
            LinearCore.divide(out, 0, dv, mk.dot(fq, 0, z, 0, d));
            return out;
        }
    }
}
