package org.attn4j.variants.bias;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionPartial;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.mask.MaskSemantics;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.Init;
import org.attn4j.variants.ShapeCache;
import org.attn4j.variants.ShapeCache.Shape;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P45 — FlashBias: Fast Computation of Attention with Bias. Attention with an additive bias given in
 * factored form {@code bias = q_bias·k_biasᵀ} ({@code q_bias, k_bias [B, H, N, R]}) computed by
 * folding the factors into R extra head dimensions and running the engine's plain flash attention:
 * <pre>  softmax(scale·q·kᵀ + q_bias·k_biasᵀ)·v = softmax(q'·k'ᵀ)·v,
 *   q' = [scale·q, q_bias],  k' = [k, k_bias]  (engine scale 1)</pre>
 * so no N×N bias is ever materialised. Inputs {@code q, k [B, H, N, D]}, {@code v [B, H, N, Dv]}
 * (self-attention, as many kv heads as query heads); output {@code [B, H, N, Dv]}; scale 1/√D.
 *
 * <p><b>ALiBi mode (exact).</b> The bias is {@code −m_h·|i − j|}. In the causal case
 * {@code −m(i − j) = −m·i + m·j} is rank 2 ({@code q_bias = [−m·i, 1]}, {@code k_bias = [1, m·j]}),
 * and since {@code −m·i} is constant along a row it cancels in the softmax: one extra dimension
 * ({@code q_bias = [1]}, {@code k_bias = [m·j]}) suffices. That form is exact in real arithmetic but
 * puts logits of size {@code m·N} into fp32 dot products, costing ~{@code m·N·2⁻²⁴} absolute logit
 * error. This class therefore processes queries in blocks {@code [i0, i1)} and keeps both terms
 * re-centred on the block's middle row c: {@code q_bias = [1, i − c]}, {@code k_bias = [m(j − c), −m]},
 * whose product is {@code −m(i − j)} exactly with magnitude ≤ m·block/2 for the keys that carry
 * weight (far keys get large negative logits and weight ~0, so their rounding does not matter).
 * Causal ALiBi is then one plain causal flash call per block over keys {@code [0, i1)}. The
 * non-causal {@code |i − j|} is not low rank (the matrix |i − j| is full rank), but it is rank 2 on
 * each side of the diagonal: keys left of the block use the factors above, keys right of it
 * {@code k_bias = [−m(j − c), m]} (logit {@code −m(j − i)}), and only the block's own square
 * (t × t keys, where both signs occur) runs through the engine's built-in ALiBi. The three key
 * ranges are engine partials ({@code Attention.partial}) merged by {@code AttentionPartial.merge},
 * so bidirectional ALiBi is exact too.
 *
 * <p><b>Dense-SVD mode (approximate for R &lt; N).</b> A dense bias {@code [H, N, N]} (shared across the
 * batch) is decomposed per head by {@link TruncatedSvd}: {@code bias_h ≈ U_R·diag(s)·V_Rᵀ},
 * {@code q_bias = U_R·diag(√s)}, {@code k_bias = V_R·diag(√s)}. The SVD costs O(N²·R) per head once
 * per (H, N) and the dense bias itself is given by the caller (or, in the registry, generated from
 * the seed as a smooth random relative bias {@link #smoothRelativeBias}). {@link #rankErrors} gives
 * the relative Frobenius error per rank, {@link #attentionError} the output's error against
 * exact dense-bias attention.
 *
 * <p><b>Factors mode.</b> {@link #factors} takes {@code q_bias, k_bias} from the caller directly.
 */
public final class FlashBias implements Variant {
    public static final VariantInfo INFO = new VariantInfo("flashbias", "P45", "FlashBias: Fast Computation of Attention with Bias",
            Family.E, true, "bias = q_bias·k_biasᵀ folded into extra head dims of flash attention (exact ALiBi, SVD for dense biases)");

    /** Largest N for which the dense bias [H, N, N] is generated from the seed. */
    public static final int MAX_GENERATED_N = 4096;

    private final FlashBiasParams params;
    private final long seed;
    private final float[] slopes;
    private final float[] dense;
    private final int denseHeads, denseN;
    private final Tensor qBias, kBias;
    private final ShapeCache<Factors> cache = new ShapeCache<>();

    private record Factors(int heads, int n, int rank, float[] q, float[] k, TruncatedSvd[] svd, float[] bias) {}

    private FlashBias(FlashBiasParams params, long seed, float[] slopes, float[] dense, int denseHeads, int denseN, Tensor qBias, Tensor kBias) {
        this.params = params;
        this.seed = seed;
        this.slopes = slopes;
        this.dense = dense;
        this.denseHeads = denseHeads;
        this.denseN = denseN;
        this.qBias = qBias;
        this.kBias = kBias;
    }

    /** ALiBi with the default slopes {@code 2^(−8h/H)}. */
    public static FlashBias alibi(FlashBiasParams params) { return alibi(params, null); }

    /** ALiBi with explicit slopes, one per head (null for the default slopes). */
    public static FlashBias alibi(FlashBiasParams params, float[] slopes) {
        requireMode(params, FlashBiasParams.Mode.ALIBI);
        if (slopes != null) {
            for (int i = 0; i < slopes.length; i++) {
                if (!Float.isFinite(slopes[i])) throw new IllegalArgumentException("slopes[" + i + "]: expected a finite number, got " + slopes[i]);
            }
        }
        return new FlashBias(params, 0, slopes == null ? null : slopes.clone(), null, 0, 0, null, null);
    }

    /** Dense-SVD on the smooth random relative bias generated from {@code seed} for each input shape. */
    public static FlashBias denseSvd(FlashBiasParams params, long seed) {
        requireMode(params, FlashBiasParams.Mode.DENSE_SVD);
        return new FlashBias(params, seed, null, null, 0, 0, null, null);
    }

    /** Dense-SVD on a caller's bias, row-major {@code [heads, n, n]} (shared across the batch). */
    public static FlashBias denseSvd(FlashBiasParams params, float[] bias, int heads, int n, long seed) {
        requireMode(params, FlashBiasParams.Mode.DENSE_SVD);
        if (heads < 1 || n < 1) throw new IllegalArgumentException("bias: expected heads, n >= 1, got " + heads + ", " + n);
        if (bias == null || bias.length != (long) heads * n * n) {
            throw new IllegalArgumentException("bias: expected " + ((long) heads * n * n) + " values for [" + heads + ", " + n + ", " + n + "], got "
                    + (bias == null ? "null" : bias.length));
        }
        if (params.rank() > n) throw new IllegalArgumentException("rank: expected <= N=" + n + ", got " + params.rank());
        for (int i = 0; i < bias.length; i++) {
            if (!Float.isFinite(bias[i])) throw new IllegalArgumentException("bias: expected finite values, got " + bias[i] + " at " + i);
        }
        return new FlashBias(params, seed, null, bias.clone(), heads, n, null, null);
    }

    /**
     * Caller-supplied factors {@code q_bias, k_bias [B or 1, H, N, R]}: the bias is
     * {@code q_bias[b,h,i]·k_bias[b,h,j]}, added to the scaled logits.
     */
    public static FlashBias factors(Tensor qBias, Tensor kBias, boolean causal) {
        if (qBias == null || qBias.rank() != 4) throw new IllegalArgumentException("qBias: expected rank 4 [B, H, N, R], got " + (qBias == null ? "null" : java.util.Arrays.toString(qBias.shape())));
        if (kBias == null || kBias.rank() != 4) throw new IllegalArgumentException("kBias: expected rank 4 [B, H, N, R], got " + (kBias == null ? "null" : java.util.Arrays.toString(kBias.shape())));
        if (!java.util.Arrays.equals(qBias.shape(), kBias.shape())) {
            throw new IllegalArgumentException("kBias: expected the shape of qBias " + java.util.Arrays.toString(qBias.shape()) + ", got " + java.util.Arrays.toString(kBias.shape()));
        }
        for (float x : qBias.toArray()) if (!Float.isFinite(x)) throw new IllegalArgumentException("qBias: expected finite values, got " + x);
        for (float x : kBias.toArray()) if (!Float.isFinite(x)) throw new IllegalArgumentException("kBias: expected finite values, got " + x);
        return new FlashBias(new FlashBiasParams(FlashBiasParams.Mode.FACTORS, kBias.dim(3), causal, FlashBiasParams.DEFAULT_BLOCK), 0, null, null, 0, 0, qBias, kBias);
    }

    private static void requireMode(FlashBiasParams p, FlashBiasParams.Mode mode) {
        if (p == null) throw new IllegalArgumentException("params: expected FlashBiasParams, got null");
        if (p.mode() != mode) throw new IllegalArgumentException("params.mode: expected " + mode + ", got " + p.mode());
    }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() { return INFO; }

    public FlashBiasParams params() { return params; }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Parallel.resolveThreads(threads); // rejects a negative count before any work
        Shapes s = Shapes.self(q, k, v).requireSameHeads();
        return switch (params.mode()) {
            case ALIBI -> runAlibi(s, q, k, v, threads);
            case DENSE_SVD -> {
                Factors f = factorsFor(s.heads(), s.nq());
                yield runFolded(s, q, k, v, f.rank(), (b, h) -> f.q(), (b, h) -> f.k(), (b, h) -> h * s.nq() * f.rank(), threads);
            }
            case FACTORS -> runFactors(s, q, k, v, threads);
        };
    }

    // ---------------------------------------------------------------- folded factors (dense-svd, factors)

    private interface Source { float[] data(int b, int h); }
    private interface Offset { int at(int b, int h); }

    private VariantResult runFactors(Shapes s, Tensor q, Tensor k, Tensor v, int threads) {
        int bb = qBias.dim(0), hh = qBias.dim(1), nn = qBias.dim(2), r = qBias.dim(3);
        if ((bb != 1 && bb != s.batch()) || hh != s.heads() || nn != s.nq()) {
            throw new IllegalArgumentException("qBias: expected [1 or B=" + s.batch() + ", H=" + s.heads() + ", N=" + s.nq() + ", R], got "
                    + java.util.Arrays.toString(qBias.shape()));
        }
        float[] qb = qBias.contiguous().toArray(), kb = kBias.contiguous().toArray();
        return runFolded(s, q, k, v, r, (b, h) -> qb, (b, h) -> kb, (b, h) -> ((bb == 1 ? 0 : b) * hh + h) * nn * r, threads);
    }

    private VariantResult runFolded(Shapes s, Tensor q, Tensor k, Tensor v, int r, Source qb, Source kb, Offset off, int threads) {
        int bsz = s.batch(), heads = s.heads(), n = s.nq(), d = s.d(), dx = d + r;
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] qx = new float[bsz * heads * n * dx], kx = new float[bsz * heads * n * dx];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                float[] qh = Shapes.head(q, b, h), kh = Shapes.head(k, b, h);
                float[] qf = qb.data(b, h), kf = kb.data(b, h);
                int fo = off.at(b, h), base = (b * heads + h) * n * dx;
                for (int i = 0; i < n; i++) {
                    int row = base + i * dx;
                    for (int c = 0; c < d; c++) {
                        qx[row + c] = scale * qh[i * d + c];
                        kx[row + c] = kh[i * d + c];
                    }
                    System.arraycopy(qf, fo + i * r, qx, row + d, r);
                    System.arraycopy(kf, fo + i * r, kx, row + d, r);
                }
            }
        }
        AttentionSpec spec = AttentionSpec.builder().scale(1f).causal(params.causal() ? CausalAlignment.TOP_LEFT : null)
                .threads(threads).build();
        Tensor out = Attention.sdpa(Tensor.of(qx, bsz, heads, n, dx), Tensor.of(kx, bsz, heads, n, dx), v, spec).output();
        long pairs = params.causal() ? (long) n * (n + 1) / 2 : (long) n * n;
        return new VariantResult(out, 2L * bsz * heads * pairs * (dx + s.dv()));
    }

    // ---------------------------------------------------------------- ALiBi

    private VariantResult runAlibi(Shapes s, Tensor q, Tensor k, Tensor v, int threads) {
        int bsz = s.batch(), heads = s.heads(), n = s.nq(), d = s.d(), dv = s.dv(), dx = d + 2;
        float[] m = slopes != null ? slopes : MaskSemantics.defaultAlibiSlopes(heads);
        if (m.length != heads) throw new IllegalArgumentException("slopes: expected H=" + heads + " slopes (one per head), got " + m.length);
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] qx = new float[bsz * heads * n * dx], kx = new float[bsz * heads * n * dx];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < heads; h++) {
                float[] qh = Shapes.head(q, b, h), kh = Shapes.head(k, b, h);
                int base = (b * heads + h) * n * dx;
                for (int i = 0; i < n; i++) {
                    int row = base + i * dx;
                    for (int c = 0; c < d; c++) {
                        qx[row + c] = scale * qh[i * d + c];
                        kx[row + c] = kh[i * d + c];
                    }
                    qx[row + d] = 1f;
                }
            }
        }
        Tensor qxT = Tensor.of(qx, bsz, heads, n, dx), kxT = Tensor.of(kx, bsz, heads, n, dx);
        int t = threads;
        AttentionSpec diag = AttentionSpec.builder().scale(scale).alibiSlopes(m).threads(t).build();
        AttentionSpec fold = AttentionSpec.builder().scale(1f).threads(t).validate(false).build();
        AttentionSpec foldCausal = AttentionSpec.builder().scale(1f).causal(CausalAlignment.BOTTOM_RIGHT).threads(t).validate(false).build();
        float[] out = new float[bsz * heads * n * dv];
        long pairsDiag = 0, pairsFold = 0;
        for (int i0 = 0; i0 < n; i0 += params.block()) {
            int i1 = Math.min(n, i0 + params.block()), rows = i1 - i0, c = i0 + rows / 2; // re-centre on the block's middle
            for (int b = 0; b < bsz; b++) {
                for (int h = 0; h < heads; h++) {
                    int base = (b * heads + h) * n * dx;
                    for (int i = i0; i < i1; i++) qx[base + i * dx + d + 1] = i - c;
                    for (int j = 0; j < (params.causal() ? i1 : i0); j++) {
                        kx[base + j * dx + d] = m[h] * (j - c);
                        kx[base + j * dx + d + 1] = -m[h];
                    }
                    if (!params.causal()) {
                        for (int j = i1; j < n; j++) {
                            kx[base + j * dx + d] = -m[h] * (j - c);
                            kx[base + j * dx + d + 1] = m[h];
                        }
                    }
                }
            }
            if (params.causal()) {
                // Causal: the block's own keys are on the left side of the diagonal too, so one plain
                // flash call over keys [0, i1) with the folded factors and the causal band is exact.
                Tensor o = Attention.sdpa(rows(qxT, i0, rows), rows(kxT, 0, i1), rows(v, 0, i1), foldCausal).output();
                float[] oa = o.toArray();
                for (int bh = 0; bh < bsz * heads; bh++) System.arraycopy(oa, bh * rows * dv, out, (bh * n + i0) * dv, rows * dv);
                pairsFold += (long) rows * i0 + (long) rows * (rows + 1) / 2;
                continue;
            }
            AttentionPartial part = Attention.partial(rows(q, i0, rows), rows(k, i0, rows), rows(v, i0, rows), diag, 0, rows);
            pairsDiag += (long) rows * rows;
            if (i0 > 0) {
                part = part.merge(Attention.partial(rows(qxT, i0, rows), rows(kxT, 0, i0), rows(v, 0, i0), fold, 0, i0));
                pairsFold += (long) rows * i0;
            }
            if (!params.causal() && i1 < n) {
                part = part.merge(Attention.partial(rows(qxT, i0, rows), rows(kxT, i1, n - i1), rows(v, i1, n - i1), fold, 0, n - i1));
                pairsFold += (long) rows * (n - i1);
            }
            float[] o = part.finish().output().toArray();
            for (int bh = 0; bh < bsz * heads; bh++) System.arraycopy(o, bh * rows * dv, out, (bh * n + i0) * dv, rows * dv);
        }
        long flops = 2L * bsz * heads * (pairsDiag * (d + dv) + pairsFold * (dx + dv));
        return new VariantResult(Tensor.of(out, bsz, heads, n, dv), flops);
    }

    /** Rows {@code [start, start + count)} of a [B, H, N, X] tensor, as a view. */
    private static Tensor rows(Tensor t, int start, int count) {
        return Tensor.view(t.data(), t.offset() + start * t.stride(2), new int[] {t.dim(0), t.dim(1), count, t.dim(3)}, t.strides());
    }

    // ---------------------------------------------------------------- dense bias, SVD, diagnostics

    private Factors factorsFor(int heads, int n) {
        if (params.rank() > n) throw new IllegalArgumentException("rank: expected <= N=" + n + ", got " + params.rank());
        if (dense != null && (heads != denseHeads || n != denseN)) {
            throw new IllegalArgumentException("q: the dense bias is [" + denseHeads + ", " + denseN + ", " + denseN + "], so the input needs H="
                    + denseHeads + " and N=" + denseN + ", got H=" + heads + " and N=" + n);
        }
        if (dense == null && n > MAX_GENERATED_N) {
            throw new IllegalArgumentException("q: flashbias bias=dense-svd generates a dense [H, N, N] bias and decomposes it (O(N²) memory), "
                    + "so N must be <= " + MAX_GENERATED_N + ", got " + n + "; use bias=alibi or FlashBias.factors for long sequences");
        }
        return cache.get(Shape.of(heads, n), key -> {
            float[] bias = dense != null ? dense : smoothRelativeBias(seed, heads, n);
            int r = params.rank();
            float[] qf = new float[heads * n * r], kf = new float[heads * n * r];
            TruncatedSvd[] svds = new TruncatedSvd[heads];
            for (int h = 0; h < heads; h++) {
                double[] a = new double[n * n];
                for (int i = 0; i < n * n; i++) a[i] = bias[h * n * n + i];
                TruncatedSvd svd = TruncatedSvd.of(a, n, n, r, seed * 31 + h);
                svds[h] = svd;
                double[] u = svd.left(), vv = svd.right(), sv = svd.singularValues();
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < r; c++) {
                        double root = Math.sqrt(sv[c]);
                        qf[(h * n + i) * r + c] = (float) (u[i * r + c] * root);
                        kf[(h * n + i) * r + c] = (float) (vv[i * r + c] * root);
                    }
                }
            }
            return new Factors(heads, n, r, qf, kf, svds, bias);
        });
    }

    /**
     * Dense-SVD mode: the relative Frobenius error {@code ‖B_h − B_h,r‖_F / ‖B_h‖_F} of each head's
     * bias for ranks r = 1..R, as {@code [H][R]}.
     */
    public double[][] rankErrors(int heads, int n) {
        requireMode(params, FlashBiasParams.Mode.DENSE_SVD);
        Factors f = factorsFor(heads, n);
        double[][] e = new double[heads][];
        for (int h = 0; h < heads; h++) e[h] = f.svd()[h].relativeErrors();
        return e;
    }

    /** Dense-SVD mode: the dense bias [1, H, N, N] being decomposed (materialised; for checks). */
    public Tensor denseBias(int heads, int n) {
        requireMode(params, FlashBiasParams.Mode.DENSE_SVD);
        return Tensor.of(factorsFor(heads, n).bias().clone(), 1, heads, n, n);
    }

    /**
     * Dense-SVD mode: max |out − exact| / max |exact| of this variant's output against exact
     * attention with the dense bias (the engine given the materialised bias).
     */
    public double attentionError(Tensor q, Tensor k, Tensor v) {
        Shapes s = Shapes.self(q, k, v).requireSameHeads();
        Tensor exact = Attention.sdpa(q, k, v, AttentionSpec.builder().bias(denseBias(s.heads(), s.nq()))
                .causal(params.causal() ? CausalAlignment.TOP_LEFT : null).build()).output();
        float[] e = exact.toArray(), a = run(q, k, v, 0).output().toArray();
        double num = 0, den = 0;
        for (int i = 0; i < e.length; i++) {
            num = Math.max(num, Math.abs((double) a[i] - e[i]));
            den = Math.max(den, Math.abs((double) e[i]));
        }
        return num / Math.max(den, 1e-30);
    }

    /**
     * A smooth random relative-position bias {@code [heads, n, n]}: per head
     * {@code f(δ) = Σ_{c<3} a_c·cos(ω_c·δ + φ_c) + g·exp(−δ²/(2w²))} at {@code δ = i − j}, with amplitudes,
     * frequencies (a few periods over n), phases, bump height and width drawn from {@code seed}.
     * Each cosine is exactly rank 2; the Gaussian bump has slowly decaying singular values, so the
     * SVD error falls steadily with rank.
     */
    public static float[] smoothRelativeBias(long seed, int heads, int n) {
        if ((long) heads * n * n > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("bias: [" + heads + ", " + n + ", " + n + "] is too large for one array");
        float[] out = new float[heads * n * n];
        for (int h = 0; h < heads; h++) {
            float[] p = Init.uniform(seed, "flashbias.bias." + h, 11, 0, 1);
            double[] f = new double[2 * n - 1];
            for (int dlt = -(n - 1); dlt <= n - 1; dlt++) {
                double x = 0;
                for (int c = 0; c < 3; c++) {
                    double amp = 0.5 + p[3 * c], omega = Math.PI * (0.5 + 4 * p[3 * c + 1]) / n, phase = 2 * Math.PI * p[3 * c + 2];
                    x += amp * Math.cos(omega * dlt + phase);
                }
                double g = 1 + p[9], w = n / 8.0 * (0.5 + p[10]) + 1;
                x += g * Math.exp(-(double) dlt * dlt / (2 * w * w));
                f[dlt + n - 1] = x;
            }
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) out[(h * n + i) * n + j] = (float) f[i - j + n - 1];
        }
        return out;
    }
}
