package org.attn4j.variants.bias;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class FlashBiasTest {

    /** The ALiBi bias −m_h·|i − j| as a dense [1, H, N, N] tensor, built here independently. */
    private static Tensor alibiBias(float[] slopes, int n) {
        int h = slopes.length;
        float[] b = new float[h * n * n];
        for (int x = 0; x < h; x++) for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) b[(x * n + i) * n + j] = -slopes[x] * Math.abs(i - j);
        return Tensor.of(b, 1, h, n, n);
    }

    private static BoolTensor causalMask(int n) {
        boolean[] m = new boolean[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) m[i * n + j] = true;
        return BoolTensor.of(m, 1, 1, n, n);
    }

    private static float[] defaultSlopes(int h) {
        float[] s = new float[h];
        for (int x = 0; x < h; x++) s[x] = (float) Math.pow(2, -8.0 * (x + 1) / h);
        return s;
    }

    @Test
    void alibiCausalEqualsEngineAlibiAndReference() {
        SplittableRandom r = new SplittableRandom(1);
        int[][] shapes = {{2, 3, 37, 5, 7}, {1, 2, 1, 3, 4}, {1, 4, 64, 16, 16}, {3, 1, 20, 9, 2}};
        for (int[] sh : shapes) {
            int b = sh[0], h = sh[1], n = sh[2], d = sh[3], dv = sh[4];
            Tensor q = VariantAssert.random(r, b, h, n, d), k = VariantAssert.random(r, b, h, n, d), v = VariantAssert.random(r, b, h, n, dv);
            Tensor engine = Attention.sdpa(q, k, v, AttentionSpec.builder().alibi(true).causal(CausalAlignment.TOP_LEFT).build()).output();
            Tensor ref = VariantAssert.reference(q, k, v, causalMask(n), alibiBias(defaultSlopes(h), n), null);
            for (int block : new int[] {1, 7, 16, 256}) {
                VariantResult res = FlashBias.alibi(new FlashBiasParams(FlashBiasParams.Mode.ALIBI, 1, true, block)).run(q, k, v, 2);
                String what = "alibi causal n=" + n + " block=" + block;
                VariantAssert.assertClose(engine, res.output(), 2e-5, 1e-4, what + " vs engine");
                VariantAssert.assertClose(ref, res.output(), 2e-5, 1e-4, what + " vs reference");
                assertTrue(res.flops() > 0);
            }
        }
    }

    @Test
    void alibiBidirectionalIsExactToo() {
        SplittableRandom r = new SplittableRandom(2);
        int b = 2, h = 3, n = 41, d = 6;
        Tensor q = VariantAssert.random(r, b, h, n, d), k = VariantAssert.random(r, b, h, n, d), v = VariantAssert.random(r, b, h, n, d);
        float[] slopes = {0.9f, 0.05f, 0.3f};
        Tensor ref = VariantAssert.reference(q, k, v, null, alibiBias(slopes, n), null);
        for (int block : new int[] {1, 6, 41, 100}) {
            Tensor out = FlashBias.alibi(new FlashBiasParams(FlashBiasParams.Mode.ALIBI, 1, false, block), slopes).forward(q, k, v);
            VariantAssert.assertClose(ref, out, 2e-5, 1e-4, "alibi bidirectional block=" + block);
        }
    }

    /**
     * The re-centred blocks keep fp32 precision at long N with a steep slope; the engine's own ALiBi
     * and the one-dimension factorisation (logits ~ m·j) are reported for comparison.
     */
    @Test
    void alibiStaysPreciseAtLongSequences() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 1536, d = 8;
        Tensor q = VariantAssert.random(r, 1, 1, n, d), k = VariantAssert.random(r, 1, 1, n, d), v = VariantAssert.random(r, 1, 1, n, d);
        float[] slopes = {0.5f};
        Tensor ref = VariantAssert.reference(q, k, v, causalMask(n), alibiBias(slopes, n), null);
        Tensor engine = Attention.sdpa(q, k, v, AttentionSpec.builder().alibiSlopes(slopes).causal(CausalAlignment.TOP_LEFT).build()).output();
        Tensor blocked = FlashBias.alibi(FlashBiasParams.alibi(true), slopes).forward(q, k, v);
        // The naive single factor: q' = [scale·q, 1], k' = [k, m·j] (row constant −m·i dropped).
        Tensor naive = FlashBias.factors(Tensor.of(fill(n, 1f, 0f), 1, 1, n, 1), Tensor.of(fill(n, 0f, 0.5f), 1, 1, n, 1), true).forward(q, k, v);
        double errBlocked = VariantAssert.relativeError(ref, blocked), errEngine = VariantAssert.relativeError(ref, engine);
        double errNaive = VariantAssert.relativeError(ref, naive);
        System.out.printf("flashbias alibi N=%d slope 0.5 vs float64 reference: re-centred blocks %.2e, engine ALiBi %.2e, single factor m·j %.2e%n",
                n, errBlocked, errEngine, errNaive);
        assertTrue(errBlocked < 1e-5, "blocked error " + errBlocked);
        assertTrue(errBlocked < errNaive, "re-centring should beat the single large factor");
    }

    private static float[] fill(int n, float constant, float slope) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = constant + slope * i;
        return x;
    }

    @Test
    void userFactorsEqualReferenceWithTheProductBias() {
        SplittableRandom r = new SplittableRandom(4);
        int b = 2, h = 2, n = 23, d = 7, rank = 3;
        Tensor q = VariantAssert.random(r, b, h, n, d), k = VariantAssert.random(r, b, h, n, d), v = VariantAssert.random(r, b, h, n, 5);
        Tensor qb = VariantAssert.random(r, b, h, n, rank), kb = VariantAssert.random(r, b, h, n, rank);
        float[] bias = new float[b * h * n * n];
        for (int x = 0; x < b * h; x++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int c = 0; c < rank; c++) s += (double) qb.get(x / h, x % h, i, c) * kb.get(x / h, x % h, j, c);
                    bias[(x * n + i) * n + j] = (float) s;
                }
            }
        }
        for (boolean causal : new boolean[] {false, true}) {
            Tensor ref = VariantAssert.reference(q, k, v, causal ? causalMask(n) : null, Tensor.of(bias, b, h, n, n), null);
            VariantAssert.assertClose(ref, FlashBias.factors(qb, kb, causal).forward(q, k, v), 3e-5, 1e-4, "factors causal=" + causal);
        }
        // Factors broadcast over the batch ([1, H, N, R]).
        Tensor qb1 = VariantAssert.random(r, 1, h, n, rank), kb1 = VariantAssert.random(r, 1, h, n, rank);
        float[] bias1 = new float[h * n * n];
        for (int x = 0; x < h; x++) for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
            double s = 0;
            for (int c = 0; c < rank; c++) s += (double) qb1.get(0, x, i, c) * kb1.get(0, x, j, c);
            bias1[(x * n + i) * n + j] = (float) s;
        }
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, Tensor.of(bias1, 1, h, n, n), null),
                FlashBias.factors(qb1, kb1, false).forward(q, k, v), 3e-5, 1e-4, "factors broadcast over batch");
    }

    @Test
    void denseSvdAtFullRankEqualsExactDenseBiasAttention() {
        SplittableRandom r = new SplittableRandom(5);
        int b = 2, h = 2, n = 13, d = 5;
        Tensor q = VariantAssert.random(r, b, h, n, d), k = VariantAssert.random(r, b, h, n, d), v = VariantAssert.random(r, b, h, n, d);
        float[] bias = new float[h * n * n];
        for (int i = 0; i < bias.length; i++) bias[i] = (float) (1.5 * VariantAssert.gaussian(r));
        for (boolean causal : new boolean[] {false, true}) {
            FlashBias fb = FlashBias.denseSvd(FlashBiasParams.denseSvd(n, causal), bias, h, n, 9);
            Tensor ref = VariantAssert.reference(q, k, v, causal ? causalMask(n) : null, Tensor.of(bias, 1, h, n, n), null);
            VariantAssert.assertClose(ref, fb.forward(q, k, v), 5e-5, 1e-4, "full-rank dense-svd causal=" + causal);
            double[][] e = fb.rankErrors(h, n);
            for (double[] row : e) assertTrue(row[n - 1] < 1e-6, "full-rank Frobenius error " + row[n - 1]);
        }
    }

    @Test
    void errorFallsWithRank() {
        SplittableRandom r = new SplittableRandom(6);
        int h = 2, n = 96, d = 8;
        Tensor q = VariantAssert.random(r, 1, h, n, d), k = VariantAssert.random(r, 1, h, n, d), v = VariantAssert.random(r, 1, h, n, d);
        FlashBias full = FlashBias.denseSvd(FlashBiasParams.denseSvd(24, false), 7);
        double[][] e = full.rankErrors(h, n);
        for (double[] row : e) {
            for (int i = 1; i < row.length; i++) assertTrue(row[i] <= row[i - 1] + 1e-12, "Frobenius error must not grow with rank");
            assertTrue(row[row.length - 1] < 0.2 * row[0], "rank 24 should be far better than rank 1");
        }
        // Independent check of the reported Frobenius errors against the bias itself.
        float[] bias = full.denseBias(h, n).toArray();
        double[] exact = new double[n * n];
        for (int i = 0; i < n * n; i++) exact[i] = bias[i];
        TruncatedSvd svd = TruncatedSvd.of(exact, n, n, 6, 1);
        double num = 0, den = 0;
        double[] rec = svd.reconstruct(6);
        for (int i = 0; i < n * n; i++) {
            num += (rec[i] - exact[i]) * (rec[i] - exact[i]);
            den += exact[i] * exact[i];
        }
        assertEquals(Math.sqrt(num / den), svd.relativeErrors()[5], 1e-9);
        // The output error (max-abs) need not be monotone at very low rank (rank 2 can be worse than 1),
        // but it must fall from rank 1 through 4, 8, 16 and reach fp32 rounding once the bias is captured.
        int[] ranks = {1, 2, 4, 8, 16, 32};
        double[] err = new double[ranks.length];
        StringBuilder report = new StringBuilder("flashbias dense-svd N=" + n + " attention rel.err by rank:");
        for (int i = 0; i < ranks.length; i++) {
            FlashBias fb = FlashBias.denseSvd(FlashBiasParams.denseSvd(ranks[i], false), 7);
            err[i] = fb.attentionError(q, k, v);
            report.append(String.format(" R=%d %.2e (bias %.2e)", ranks[i], err[i], fb.rankErrors(h, n)[0][ranks[i] - 1]));
        }
        System.out.println(report);
        assertTrue(err[2] < err[0] && err[3] < err[2] && err[4] < err[3], report.toString());
        assertTrue(err[4] < 1e-5 && err[5] < 1e-5, "at rank 16 and 32 only fp32 rounding should remain: " + report);
    }

    @Test
    void svdReconstructsLowRankAndFullMatrices() {
        SplittableRandom r = new SplittableRandom(7);
        int m = 40, n = 30, k = 3;
        double[] a = new double[m * n];
        double[] x = new double[m * k], y = new double[k * n];
        for (int i = 0; i < x.length; i++) x[i] = VariantAssert.gaussian(r);
        for (int i = 0; i < y.length; i++) y[i] = VariantAssert.gaussian(r);
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) for (int c = 0; c < k; c++) a[i * n + j] += x[i * k + c] * y[c * n + j];
        TruncatedSvd svd = TruncatedSvd.of(a, m, n, 5, 3);
        double[] rec = svd.reconstruct(3);
        for (int i = 0; i < a.length; i++) assertEquals(a[i], rec[i], 1e-9, "rank-3 reconstruction");
        assertTrue(svd.singularValues()[3] < 1e-9 && svd.singularValues()[4] < 1e-9);
        assertTrue(svd.relativeErrors()[2] < 1e-7);
        // Known spectrum: A = U·diag(s)·Vᵀ with random orthonormal U, V.
        int nn = 25;
        double[][] u = orthonormal(r, nn, nn), v = orthonormal(r, nn, nn);
        double[] s = new double[nn];
        for (int i = 0; i < nn; i++) s[i] = Math.pow(0.7, i) * 10;
        double[] b = new double[nn * nn];
        for (int i = 0; i < nn; i++) for (int j = 0; j < nn; j++) for (int c = 0; c < nn; c++) b[i * nn + j] += u[c][i] * s[c] * v[c][j];
        TruncatedSvd top = TruncatedSvd.of(b, nn, nn, 6, 5);
        for (int i = 0; i < 6; i++) assertEquals(s[i], top.singularValues()[i], 1e-8 * s[0], "singular value " + i);
        TruncatedSvd all = TruncatedSvd.of(b, nn, nn, nn, 5);
        double[] back = all.reconstruct(nn);
        for (int i = 0; i < b.length; i++) assertEquals(b[i], back[i], 1e-10, "full reconstruction");
        for (int i = 0; i < nn; i++) assertEquals(s[i], all.singularValues()[i], 1e-9, "full singular value " + i);
    }

    private static double[][] orthonormal(SplittableRandom r, int count, int len) {
        double[][] q = new double[count][len];
        for (int c = 0; c < count; c++) {
            for (int i = 0; i < len; i++) q[c][i] = VariantAssert.gaussian(r);
            for (int pass = 0; pass < 2; pass++) {
                for (int p = 0; p < c; p++) {
                    double dot = 0;
                    for (int i = 0; i < len; i++) dot += q[p][i] * q[c][i];
                    for (int i = 0; i < len; i++) q[c][i] -= dot * q[p][i];
                }
            }
            double norm = 0;
            for (int i = 0; i < len; i++) norm += q[c][i] * q[c][i];
            for (int i = 0; i < len; i++) q[c][i] /= Math.sqrt(norm);
        }
        return q;
    }

    @Test
    void registryBuildsBothModes() {
        SplittableRandom r = new SplittableRandom(8);
        Tensor q = VariantAssert.random(r, 1, 2, 64, 16), k = VariantAssert.random(r, 1, 2, 64, 16), v = VariantAssert.random(r, 1, 2, 64, 16);
        Tensor engine = Attention.sdpa(q, k, v, AttentionSpec.builder().alibi(true).causal(CausalAlignment.TOP_LEFT).build()).output();
        VariantAssert.assertClose(engine, VariantRegistry.create("flashbias", Settings.empty(), 1).forward(q, k, v), 2e-5, 1e-4, "registry default");
        FlashBias dense = (FlashBias) VariantRegistry.create("flashbias", Settings.of("bias=dense-svd", "rank=64", "causal=false"), 4);
        Tensor ref = VariantAssert.reference(q, k, v, null, dense.denseBias(2, 64), null);
        VariantAssert.assertClose(ref, dense.forward(q, k, v), 5e-5, 1e-4, "registry dense-svd full rank");
    }

    @Test
    void badParametersAreRejectedByName() {
        assertMessage(() -> new FlashBiasParams(null, 1, true, 1), "mode");
        assertMessage(() -> new FlashBiasParams(FlashBiasParams.Mode.DENSE_SVD, 0, true, 1), "rank");
        assertMessage(() -> new FlashBiasParams(FlashBiasParams.Mode.ALIBI, 1, true, 0), "block");
        assertMessage(() -> FlashBias.alibi(FlashBiasParams.denseSvd(2, true)), "mode");
        assertMessage(() -> FlashBias.alibi(FlashBiasParams.alibi(true), new float[] {Float.NaN}), "slopes");
        assertMessage(() -> VariantRegistry.create("flashbias", Settings.of("rank=4"), 1), "rank");
        assertMessage(() -> VariantRegistry.create("flashbias", Settings.of("bias=dense-svd", "block=4"), 1), "block");
        assertMessage(() -> VariantRegistry.create("flashbias", Settings.of("bias=lowrank"), 1), "bias");
        SplittableRandom r = new SplittableRandom(9);
        Tensor q = VariantAssert.random(r, 1, 2, 6, 4);
        assertMessage(() -> FlashBias.denseSvd(FlashBiasParams.denseSvd(7, false), 1).forward(q, q, q), "rank");
        assertMessage(() -> FlashBias.alibi(FlashBiasParams.alibi(true), new float[] {1f}).forward(q, q, q), "slopes");
        assertMessage(() -> FlashBias.denseSvd(FlashBiasParams.denseSvd(2, false), new float[3], 1, 2, 1), "bias");
        assertMessage(() -> FlashBias.factors(VariantAssert.random(r, 1, 2, 6, 2), VariantAssert.random(r, 1, 2, 6, 3), true), "kBias");
        assertMessage(() -> FlashBias.factors(VariantAssert.random(r, 1, 2, 5, 2), VariantAssert.random(r, 1, 2, 5, 2), true).forward(q, q, q), "qBias");
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable e, String field) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(field), "message should name " + field + ": " + x.getMessage());
    }
}
