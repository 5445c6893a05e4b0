package org.attn4j.variants.trainable;

import java.util.List;
import java.util.Map;
import org.attn4j.core.parallel.Parallel;

/**
 * Causal kernelised linear attention, trainable:
 * {@code out_i = Σ_{j≤i} (φ_q(q_i)·φ_k(k_j)) v_j / Σ_{j≤i} φ_q(q_i)·φ_k(k_j)} (no logit scale), with
 * <ul>
 *   <li>{@code linear} (Katharopoulos et al. 2020): φ_q = φ_k = elu(x) + 1, or relu;</li>
 *   <li>{@code lln} (P12, Linear Log-Normal attention): φ_q(q) = exp(α q), φ_k(k) = exp(β k), with α, β
 *       from the paper's moment matching for the settings σ_q, σ_k (both 1 by default, as the causal
 *       forward-only variant; a sequence-wide estimate would read future tokens).</li>
 * </ul>
 * Same outputs as {@link org.attn4j.variants.linear.LinearAttention} and
 * {@link org.attn4j.variants.linear.LlnAttention} with {@code causal=true}. A row whose denominator is
 * 0 (relu features all zero) is 0 and passes no gradient.
 *
 * <p>Backward, chunked like the forward and never N × N. Write F = φ_q(q), G = φ_k(k),
 * V' = [v, 1] and Y = causal(F, G, V') (so num = Y[:, :Dv], den = Y[:, Dv]); with
 * g'_i = [dO_i / den_i, −(dO_i·out_i) / den_i]:
 * {@code dF = causal(g', V', G)}, {@code dG = anticausal(V', g', F)}, {@code dV' = anticausal(G, F, g')}
 * (anticausal: sums over i ≥ j), then dq = φ_q'(q) ⊙ dF and dk = φ_k'(k) ⊙ dG. For lln the query
 * features are shifted by the row's maximum α q (a factor common to the numerator and denominator,
 * so it cancels and its gradient is exactly 0); the key features are not shifted (a running shift
 * would be a per-row factor too, but it is not needed in float64: keys with |β·k| ≤ 300 stay well
 * inside its range, larger ones are rejected with an error naming k).
 */
public final class LinearTrainable extends Float64Attention {
    /**
     * Default tokens per chunk. These loops are scalar, so the C × C pairs inside a chunk cost as
     * much as the running state does; 1 to 16 measured the same and 64 (the forward-only
     * variants' default, which suits GEMM tiles) was 2.4× slower (docs/variants-training.md).
     */
    public static final int DEFAULT_CHUNK = 16;

    /** Largest |β·k| accepted by lln (exp(±300) is well inside float64). */
    static final double LLN_LIMIT = 300;

    private enum Feature { ELU1, RELU, EXP }

    private final String name;
    private final Feature feature;
    private final double alpha, beta;
    private final int chunk;

    private LinearTrainable(String name, Feature feature, double alpha, double beta, int chunk) {
        if (chunk < 1) throw new IllegalArgumentException("chunk: expected ≥ 1, got " + chunk);
        this.name = name;
        this.feature = feature;
        this.alpha = alpha;
        this.beta = beta;
        this.chunk = chunk;
    }

    /** {@code linear} with feature map {@code elu1} or {@code relu}. */
    public static LinearTrainable linear(String feature, int chunk) {
        Feature f = switch (feature) {
            case "elu1" -> Feature.ELU1;
            case "relu" -> Feature.RELU;
            default -> throw new IllegalArgumentException("feature: expected elu1 or relu, got '" + feature + "'");
        };
        return new LinearTrainable("linear", f, 1, 1, chunk);
    }

    /** {@code lln} with the moment matching of σ_q, σ_k (each finite and &gt; 0). */
    public static LinearTrainable lln(int chunk, double sigmaQ, double sigmaK) {
        if (!(sigmaQ > 0 && Double.isFinite(sigmaQ))) throw new IllegalArgumentException("sigmaq: expected a finite number > 0, got " + sigmaQ);
        if (!(sigmaK > 0 && Double.isFinite(sigmaK))) throw new IllegalArgumentException("sigmak: expected a finite number > 0, got " + sigmaK);
        double[] ab = org.attn4j.variants.linear.LlnAttention.alphaBeta(sigmaQ, sigmaK);
        return new LinearTrainable("lln", Feature.EXP, ab[0], ab[1], chunk);
    }

    @Override public String name() { return name; }

    public int chunk() { return chunk; }

    @Override
    public List<TrainableParam> parameters(int heads, int headDim, int seqLen) { return List.of(); }

    /** φ of n rows of width d; {@code query} selects φ_q (lln's α and row shift) or φ_k. */
    private double[] features(double[] x, int n, int d, boolean query) {
        double[] f = new double[x.length];
        switch (feature) {
            case ELU1 -> { for (int i = 0; i < x.length; i++) f[i] = x[i] > 0 ? x[i] + 1 : Math.exp(x[i]); }
            case RELU -> { for (int i = 0; i < x.length; i++) f[i] = Math.max(x[i], 0); }
            case EXP -> {
                if (query) {
                    for (int i = 0; i < n; i++) {
                        double m = Double.NEGATIVE_INFINITY;
                        for (int c = 0; c < d; c++) m = Math.max(m, alpha * x[i * d + c]);
                        for (int c = 0; c < d; c++) f[i * d + c] = Math.exp(alpha * x[i * d + c] - m);
                    }
                } else {
                    for (int i = 0; i < x.length; i++) {
                        double z = beta * x[i];
                        if (!(Math.abs(z) <= LLN_LIMIT)) {
                            throw new IllegalArgumentException("k: lln needs |β·k| ≤ " + LLN_LIMIT + " (β = " + beta + "), got β·k = " + z);
                        }
                        f[i] = Math.exp(z);
                    }
                }
            }
        }
        return f;
    }

    /** Adds φ'(x) ⊙ dF into dx (f = φ(x) as computed by {@link #features}). */
    private void featureBackward(double[] x, double[] f, double[] df, boolean query, double[] dx) {
        for (int i = 0; i < x.length; i++) {
            double deriv = switch (feature) {
                case ELU1 -> x[i] > 0 ? 1 : f[i];
                case RELU -> x[i] > 0 ? 1 : 0;
                case EXP -> (query ? alpha : beta) * f[i];
            };
            dx[i] += deriv * df[i];
        }
    }

    private record State(Dims dims, double[][] q, double[][] k, double[][] v, double[][] output, double[][] den) implements Saved64 {}

    @Override
    public Saved64 forward64(Dims dims, double[][] q, double[][] k, double[][] v, Map<String, double[]> weights, int threads) {
        int n = dims.n(), d = dims.d(), dv = dims.dv();
        double[][] out = new double[dims.bh()][n * dv], den = new double[dims.bh()][n];
        Parallel.forEach(threads, dims.bh(), w -> null, (bh, u) -> {
            double[] f = features(q[bh], n, d, true), g = features(k[bh], n, d, false);
            double[] y = new double[n * (dv + 1)];
            CausalLinear64.product(f, g, augmented(v[bh], n, dv), n, d, dv + 1, chunk, false, y);
            for (int i = 0; i < n; i++) {
                double z = y[i * (dv + 1) + dv];
                den[bh][i] = z;
                for (int c = 0; c < dv; c++) out[bh][i * dv + c] = z != 0 ? y[i * (dv + 1) + c] / z : 0;
            }
        });
        return new State(dims, q, k, v, out, den);
    }

    @Override
    public void backward64(Saved64 saved, double[][] dOut, double[][] dq, double[][] dk, double[][] dv, Map<String, double[]> grads, int threads) {
        State s = (State) saved;
        int n = s.dims().n(), d = s.dims().d(), w = s.dims().dv(), w1 = w + 1;
        Parallel.forEach(threads, s.dims().bh(), x -> null, (bh, u) -> {
            double[] f = features(s.q()[bh], n, d, true), g = features(s.k()[bh], n, d, false);
            double[] va = augmented(s.v()[bh], n, w), o = s.output()[bh], go = dOut[bh];
            double[] gp = new double[n * w1];
            for (int i = 0; i < n; i++) {
                double z = s.den()[bh][i];
                if (z == 0) continue;
                for (int c = 0; c < w; c++) gp[i * w1 + c] = go[i * w + c] / z;
                gp[i * w1 + w] = -Softmax64.dot(go, i * w, o, i * w, w) / z;
            }
            double[] df = new double[n * d], dg = new double[n * d], dva = new double[n * w1];
            CausalLinear64.product(gp, va, g, n, w1, d, chunk, false, df);
            CausalLinear64.product(va, gp, f, n, w1, d, chunk, true, dg);
            CausalLinear64.product(g, f, gp, n, d, w1, chunk, true, dva);
            featureBackward(s.q()[bh], f, df, true, dq[bh]);
            featureBackward(s.k()[bh], g, dg, false, dk[bh]);
            for (int j = 0; j < n; j++) for (int c = 0; c < w; c++) dv[bh][j * w + c] += dva[j * w1 + c];
        });
    }

    /** [v, 1] per row. */
    private static double[] augmented(double[] v, int n, int dv) {
        double[] a = new double[n * (dv + 1)];
        for (int i = 0; i < n; i++) {
            System.arraycopy(v, i * dv, a, i * (dv + 1), dv);
            a[i * (dv + 1) + dv] = 1;
        }
        return a;
    }
}
