package org.attn4j.variants.linear;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * Kernelised linear attention (Katharopoulos et al. 2020, "Transformers are RNNs"), the family
 * baseline: {@code out_i = φ(q_i)ᵀ S / φ(q_i)ᵀ z} with {@code S = Σ_j φ(k_j) v_jᵀ},
 * {@code z = Σ_j φ(k_j)}, φ(x) = elu(x) + 1 (or relu), elementwise, no logit scale. Causal: the sums
 * run over j ≤ i, computed by chunks (masked C × C block inside a chunk, running state across
 * chunks); {@link Decoder} is the same recurrence one token at a time, for decoding.
 *
 * <p>Shapes: q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] → [B, H, Nq, Dv]; causal needs
 * Nq = Nk. O(N·D·Dv) time, O(D·Dv + chunk²) memory per head. A row whose denominator is 0 (relu
 * features all zero) is 0.
 */
public final class LinearAttention extends AbstractVariant<LinearParams> {
    static final VariantInfo INFO = new VariantInfo("linear", "-", "Transformers are RNNs (Katharopoulos et al.)", Family.L, false,
            "kernelised linear attention: phi(q)^T (sum phi(k) v^T) / phi(q)^T (sum phi(k)), phi = elu+1; causal by chunks, O(N)");

    public LinearAttention(LinearParams params) {
        super(INFO, params);
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v);
        if (params.causal()) LinearCore.requireSelf(s, "linear");
        boolean relu = params.feature().equals("relu");
        return LinearCore.perHead(s, q, k, v, threads, (b, h, qh, kh, vh, out, scratch) -> {
            ElementwiseFeatures f = new ElementwiseFeatures(qh, kh, s.d(), relu);
            return params.causal()
                    ? LinearCore.causal(f, s.nq(), vh, s.dv(), params.chunk(), true, out, scratch)
                    : LinearCore.nonCausal(f, s.nq(), s.nk(), vh, s.dv(), true, out, scratch);
        });
    }

    /** φ(x) elementwise. */
    static float phi(float x, boolean relu) {
        if (relu) return Math.max(x, 0f);
        return x > 0f ? x + 1f : (float) Math.exp(x);
    }

    /** φ applied elementwise to row-major copies of q and k. */
    static final class ElementwiseFeatures implements LinearCore.FeatureMap {
        private final float[] q, k;
        private final int d;
        private final boolean relu;

        ElementwiseFeatures(float[] q, float[] k, int d, boolean relu) {
            this.q = q;
            this.k = k;
            this.d = d;
            this.relu = relu;
        }

        @Override public int dim() { return d; }
        @Override public long flopsPerRow() { return 2L * d; }

        @Override
        public void queries(int r0, int rows, float[] out) { map(q, r0, rows, out); }

        @Override
        public void keys(int r0, int rows, float[] out) { map(k, r0, rows, out); }

        private void map(float[] x, int r0, int rows, float[] out) {
            int base = r0 * d, n = rows * d;
            if (relu) {
                for (int i = 0; i < n; i++) out[i] = Math.max(x[base + i], 0f);
                return;
            }
            // elu(x) + 1 = e^{min(x, 0)} + max(x, 0), branch-free; the exponential vectorised
            for (int i = 0; i < n; i++) out[i] = Math.min(x[base + i], 0f);
            VecExp.exp(out, 0, n, 0f);
            for (int i = 0; i < n; i++) out[i] += Math.max(x[base + i], 0f);
        }
    }

    /**
     * Causal decoding, one token at a time: keeps S (D × Dv) and z (D); {@link #step} adds the
     * token's key and value to the state and returns its output over all tokens so far.
     */
    public Decoder decoder(int d, int dv) { return new Decoder(d, dv, params.feature().equals("relu")); }

    /** The causal recurrence of one head. Not thread-safe. */
    public static final class Decoder {
        private final int d, dv;
        private final boolean relu;
        private final float[] s, z, fq, fk;
        private long flops;

        Decoder(int d, int dv, boolean relu) {
            if (d < 1 || dv < 1) throw new IllegalArgumentException("d, dv: expected ≥ 1, got " + d + ", " + dv);
            this.d = d;
            this.dv = dv;
            this.relu = relu;
            this.s = new float[d * dv];
            this.z = new float[d];
            this.fq = new float[d];
            this.fk = new float[d];
        }

        /** Appends (k, v) and returns the output for query q (length Dv). */
        public float[] step(float[] q, float[] k, float[] v) {
            if (q.length != d || k.length != d || v.length != dv) {
                throw new IllegalArgumentException("step: expected q, k of length " + d + " and v of length " + dv
                        + ", got " + q.length + ", " + k.length + ", " + v.length);
            }
            var mk = org.attn4j.core.simd.MicroKernels.get();
            for (int i = 0; i < d; i++) {
                fq[i] = phi(q[i], relu);
                fk[i] = phi(k[i], relu);
            }
            for (int i = 0; i < d; i++) mk.axpy(fk[i], v, 0, s, i * dv, dv);
            mk.axpy(1f, fk, 0, z, 0, d);
            float[] out = new float[dv];
            mk.gemm(1, dv, d, fq, 0, d, 1, s, 0, dv, out, 0, dv, false);
            LinearCore.divide(out, 0, dv, mk.dot(fq, 0, z, 0, d));
            flops += 4L * d + 2L * d * dv + 2L * d + 2L * d * dv + 2L * d + dv;
            return out;
        }

        /** FLOPs executed so far. */
        public long flops() { return flops; }
    }
}
