package org.attn4j.variants.linear;

import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.AbstractVariant;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P27 — FAST: Factorizable Attention for Speeding up Transformers (Gerami et al.), "Fastmax":
 * {@code a_ij = f(q̂_i·k̂_j) / Σ_j f(q̂_i·k̂_j)}, {@code out_i = Σ_j a_ij v_j} with the Taylor kernel
 * f(x) = 1 + x (order 1) or 1 + x + x²/2 (order 2), on rows normalised to zero mean and unit L2 norm
 * (q̂ = (q − mean q)/‖q − mean q‖, likewise k̂; a constant row becomes 0), so every score lies in
 * [−1, 1] and f ≥ 0 (&gt; 0 for order 2; order 1 is 0 at q̂ = −k̂) ({@code normalize=none}: raw rows with x = q·k/sqrt(D), the authors' code
 * default; {@code scale} overrides the factor on q·k). The kernel factorises as φ(q̂)·φ(k̂) with
 * φ(x) = [1, x, x_c²/√2, x_c x_e (c &lt; e)] (1 + D + D(D+1)/2 features for order 2), which the
 * {@link LinearCore} engine sums in O(N·D²·Dv) time, never forming the N × N matrix; inside a causal
 * chunk the scores are taken as f(q̂·k̂) directly (O(C²·D)).
 *
 * <p>Shapes: q [B, H, Nq, D], k [B, Hkv, Nk, D], v [B, Hkv, Nk, Dv] → [B, H, Nq, Dv]; causal needs Nq = Nk.
 */
public final class FastAttention extends AbstractVariant<FastParams> {
    static final VariantInfo INFO = new VariantInfo("fast-attention", "P27", "FAST: Factorizable Attention for Speeding up Transformers",
            Family.L, false, "Fastmax: normalised q.k through the Taylor kernel 1+x+x^2/2, factorised into O(N D^2) features");

    public FastAttention(FastParams params) {
        super(INFO, params);
    }

    /** Rows of x (n × d) to zero mean and unit L2 norm, in place; a zero-variance row becomes 0. */
    static void normalise(float[] x, int n, int d) {
        for (int i = 0; i < n; i++) {
            int o = i * d;
            double mean = 0;
            for (int c = 0; c < d; c++) mean += x[o + c];
            mean /= d;
            double ss = 0;
            for (int c = 0; c < d; c++) ss += (x[o + c] - mean) * (x[o + c] - mean);
            double inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
            for (int c = 0; c < d; c++) x[o + c] = (float) ((x[o + c] - mean) * inv);
        }
    }

    /** Feature width of φ for head dim d. */
    static int featureDim(int order, int d) { return order == 1 ? 1 + d : 1 + d + d * (d + 1) / 2; }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.of(q, k, v);
        if (params.causal()) LinearCore.requireSelf(s, "fast-attention");
        int d = s.d();
        return LinearCore.perHead(s, q, k, v, threads, (b, h, qh, kh, vh, out, scratch) -> {
            boolean rows = params.normalize().equals("rows");
            if (rows) {
                normalise(qh, s.nq(), d);
                normalise(kh, s.nk(), d);
            }
            double sc = !Double.isNaN(params.scale()) ? params.scale() : rows ? 1 : 1 / Math.sqrt(d);
            if (sc != 1) for (int i = 0; i < qh.length; i++) qh[i] = (float) (qh[i] * sc); // x = (sc·q)·k
            Features f = new Features(qh, kh, d, params.order());
            long flops = 6L * (qh.length + kh.length) + qh.length;
            return flops + (params.causal()
                    ? LinearCore.causal(f, s.nq(), vh, s.dv(), params.chunk(), true, out, scratch)
                    : LinearCore.nonCausal(f, s.nq(), s.nk(), vh, s.dv(), true, out, scratch));
        });
    }

    /** φ of normalised rows; {@link #scores} evaluates f(q̂·k̂) directly. */
    static final class Features implements LinearCore.FeatureMap {
        private static final float INV_SQRT2 = (float) (1 / Math.sqrt(2));
        private final float[] q, k;
        private final int d, order, dim;

        Features(float[] q, float[] k, int d, int order) {
            this.q = q;
            this.k = k;
            this.d = d;
            this.order = order;
            this.dim = featureDim(order, d);
        }

        @Override public int dim() { return dim; }
        @Override public long flopsPerRow() { return order == 1 ? 0 : (long) d * (d + 1) / 2 + d; }

        @Override
        public void queries(int r0, int rows, float[] out) { map(q, r0, rows, out); }

        @Override
        public void keys(int r0, int rows, float[] out) { map(k, r0, rows, out); }

        private void map(float[] x, int r0, int rows, float[] out) {
            for (int r = 0; r < rows; r++) {
                int o = (r0 + r) * d, p = r * dim;
                out[p++] = 1f;
                System.arraycopy(x, o, out, p, d);
                p += d;
                if (order == 2) {
                    for (int c = 0; c < d; c++) {
                        float xc = x[o + c];
                        out[p++] = xc * xc * INV_SQRT2;
                        for (int e = c + 1; e < d; e++) out[p++] = xc * x[o + e];
                    }
                }
            }
        }

        @Override
        public long scores(int q0, int qn, int k0, int kn, float[] a, int lda) {
            MicroKernels.get().gemmTransB(qn, kn, d, q, q0 * d, d, k, k0 * d, d, a, 0, lda);
            for (int i = 0; i < qn; i++) {
                for (int j = 0; j < kn; j++) {
                    float x = a[i * lda + j];
                    a[i * lda + j] = order == 1 ? 1f + x : 1f + x + 0.5f * x * x;
                }
            }
            return 2L * qn * kn * d + 4L * qn * kn;
        }
    }
}
