package org.attn4j.variants.heads;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.heads.MultiTokenParams.Where;
import org.junit.jupiter.api.Test;

class MultiTokenAttentionTest {

    /**
     * MTA element by element (float64): key-query convolution
     * c_ij = Σ_{i'=0}^{cq−1} Σ_{j'=−⌊ck/2⌋}^{⌈ck/2⌉−1} [i−i' ≥ 0][0 ≤ j−j' &lt; N][j−j' ≤ i if causal] θ[i'][j']·x_{i−i', j−j'},
     * applied to the logits (pre) or the weights (post, then zeroing j > i); head mixing within groups.
     */
    static Tensor direct(Tensor q, Tensor k, Tensor v, MultiTokenParams p, float[] theta, float[] hw) {
        int bn = q.dim(0), hn = q.dim(1), n = q.dim(2), dv = v.dim(3), cq = p.queryKernel(), ck = p.keyKernel(), ch = p.headGroup();
        boolean causal = p.causal();
        double scale = 1 / Math.sqrt(q.dim(3));
        double[][][][] out = new double[bn][hn][][];
        for (int b = 0; b < bn; b++) {
            double[][][] x = new double[hn][][];
            for (int h = 0; h < hn; h++) x[h] = Direct.scaled(Direct.abT(Direct.head(q, b, h), Direct.head(k, b, h)), scale);
            if (p.keyQuery() == Where.PRE) x = conv(x, theta, cq, ck, causal, false);
            if (p.headMix() == Where.PRE) x = heads(x, hw, ch);
            for (int h = 0; h < hn; h++) x[h] = Direct.softmax(x[h], causal);
            if (p.keyQuery() == Where.POST) x = conv(x, theta, cq, ck, causal, true);
            if (p.headMix() == Where.POST) x = heads(x, hw, ch);
            for (int h = 0; h < hn; h++) {
                out[b][h] = Direct.ab(x[h], Direct.head(v, b, h));
                if (p.groupNorm()) {
                    for (double[] row : out[b][h]) {
                        double mean = 0, var = 0;
                        for (double y : row) mean += y / dv;
                        for (double y : row) var += (y - mean) * (y - mean) / dv;
                        for (int c = 0; c < dv; c++) row[c] = (row[c] - mean) / Math.sqrt(var + 1e-5);
                    }
                }
            }
        }
        return Direct.tensor(out);
    }

    private static double[][][] conv(double[][][] x, float[] theta, int cq, int ck, boolean causal, boolean zeroAfter) {
        int hn = x.length, n = x[0].length;
        double[][][] y = new double[hn][n][n];
        for (int h = 0; h < hn; h++) for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int a = 0; a < cq; a++) {
                for (int jp = -(ck / 2); jp <= (ck + 1) / 2 - 1; jp++) {
                    int si = i - a, sj = j - jp;
                    if (si < 0 || sj < 0 || sj >= n || (causal && sj > i)) continue;
                    acc += theta[h * cq * ck + a * ck + jp + ck / 2] * x[h][si][sj];
                }
            }
            y[h][i][j] = zeroAfter && causal && j > i ? 0 : acc;
        }
        return y;
    }

    private static double[][][] heads(double[][][] x, float[] hw, int ch) {
        int hn = x.length, n = x[0].length;
        double[][][] y = new double[hn][n][n];
        for (int h = 0; h < hn; h++) {
            int g0 = h / ch * ch;
            for (int m = 0; m < ch; m++) {
                double w = hw[h * ch + m];
                for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) y[h][i][j] += w * x[g0 + m][i][j];
            }
        }
        return y;
    }

    private static MultiTokenParams params(boolean causal, int cq, int ck, Where kq, int ch, Where hm, boolean gn, double perturb) {
        return new MultiTokenParams(causal, 0, cq, ck, kq, ch, hm, gn, perturb);
    }

    @Test
    void matchesTheDirectFormulaInEveryPlacement() {
        SplittableRandom r = new SplittableRandom(31);
        // {B, H, N, D, Dv, cq, ck, ch}; N = 150 spans three row blocks, so block halos are exercised.
        int[][] shapes = {{2, 4, 23, 13, 13, 3, 5, 2}, {1, 3, 150, 13, 7, 6, 11, 3}, {2, 2, 1, 5, 5, 2, 4, 2}};
        Where[][] placements = {{Where.PRE, Where.POST}, {Where.POST, Where.PRE}, {Where.PRE, Where.PRE}, {Where.POST, Where.POST}, {Where.NONE, Where.POST}, {Where.PRE, Where.NONE}};
        for (int[] sh : shapes) {
            Tensor q = Direct.random(r, sh[0], sh[1], sh[2], sh[3]), k = Direct.random(r, sh[0], sh[1], sh[2], sh[3]), v = Direct.random(r, sh[0], sh[1], sh[2], sh[4]);
            float[] theta = Direct.randomMatrix(r, sh[1] * sh[5] * sh[6], 0.3, false, 0);
            for (int h = 0; h < sh[1]; h++) theta[h * sh[5] * sh[6] + sh[6] / 2] += 1;
            float[] hw = Direct.randomMatrix(r, sh[1] * sh[7], 0.4, false, 0);
            for (int h = 0; h < sh[1]; h++) hw[h * sh[7] + h % sh[7]] += 1;
            for (Where[] pl : placements) {
                for (boolean causal : new boolean[] {false, true}) {
                    MultiTokenParams p = params(causal, sh[5], sh[6], pl[0], sh[7], pl[1], sh[2] == 23, 0);
                    Tensor got = new MultiTokenAttention(p, theta, hw).run(q, k, v, 2).output();
                    VariantAssert.assertClose(direct(q, k, v, p, theta, hw), got, 3e-5, 2e-4,
                            "mta " + java.util.Arrays.toString(sh) + " kq=" + pl[0] + " heads=" + pl[1] + " causal=" + causal);
                }
            }
        }
    }

    @Test
    void identityKernelsAreStandardMultiHeadAttention() {
        SplittableRandom r = new SplittableRandom(32);
        Tensor q = Direct.random(r, 2, 4, 35, 13), k = Direct.random(r, 2, 4, 35, 13), v = Direct.random(r, 2, 4, 35, 13);
        for (Where kq : Where.values()) {
            for (boolean causal : new boolean[] {false, true}) {
                MultiTokenParams p = params(causal, 6, 11, kq, 2, Where.POST, false, 0);
                Tensor got = new MultiTokenAttention(p, 5).run(q, k, v, 2).output();
                VariantAssert.assertClose(Direct.mha(q, k, v, causal), got, 1e-5, 1e-4, "identity mta kq=" + kq + " causal=" + causal);
            }
        }
        Tensor def = VariantRegistry.create("multi-token", Settings.empty(), 5).run(q, k, v, 1).output();
        assertTrue(VariantAssert.relativeError(Direct.mha(q, k, v, false), def) > 1e-3);
    }

    @Test
    void handCheckableKeyShift() {
        // One head, c_q = 1, c_k = 3 with θ = [1, 0, 0] (j' = −1): c_ij = s_{i, j+1}. Scale 1, D = 1,
        // q = [1, 1], k = [0, ln 3]: s = [[0, ln 3], [0, ln 3]]; c = [[ln 3, 0], [ln 3, 0]] (zero padding);
        // non-causal softmax → [3/4, 1/4] per row; v = [4, 8] → 3 + 2 = 5 for both rows.
        Tensor q = Tensor.of(new float[] {1, 1}, 1, 1, 2, 1), k = Tensor.of(new float[] {0, (float) Math.log(3)}, 1, 1, 2, 1);
        Tensor v = Tensor.of(new float[] {4, 8}, 1, 1, 2, 1);
        MultiTokenParams p = new MultiTokenParams(false, 1, 1, 3, Where.PRE, 1, Where.NONE, false, 0);
        Tensor got = new MultiTokenAttention(p, new float[] {1, 0, 0}, new float[] {1}).run(q, k, v, 1).output();
        VariantAssert.assertClose(Tensor.of(new float[] {5, 5}, 1, 1, 2, 1), got, 1e-5, 0, "hand case");
    }

    @Test
    void causalRowsNeverSeeLaterTokens() {
        SplittableRandom r = new SplittableRandom(33);
        Tensor q = Direct.random(r, 2, 2, 140, 13), k = Direct.random(r, 2, 2, 140, 13), v = Direct.random(r, 2, 2, 140, 13);
        for (Where kq : new Where[] {Where.PRE, Where.POST}) {
            Direct.assertNoFutureLeak(new MultiTokenAttention(params(true, 6, 11, kq, 2, Where.PRE, false, 0.3), 4), q, k, v, 70, r);
        }
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> params(false, 0, 3, Where.PRE, 1, Where.NONE, false, 0));
        assertTrue(e.getMessage().startsWith("query-kernel"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> params(false, 2, 0, Where.PRE, 1, Where.NONE, false, 0));
        assertTrue(e.getMessage().startsWith("key-kernel"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> params(false, 2, 3, Where.PRE, 0, Where.NONE, false, 0));
        assertTrue(e.getMessage().startsWith("head-group"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> params(false, 2, 3, null, 1, Where.NONE, false, 0));
        assertTrue(e.getMessage().startsWith("key-query"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("multi-token", Settings.of("head-mix=sideways"), 1));
        assertTrue(e.getMessage().startsWith("head-mix"), e.getMessage());
        SplittableRandom r = new SplittableRandom(34);
        Tensor q = Direct.random(r, 1, 3, 8, 4);
        e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("multi-token", Settings.empty(), 1).run(q, q, q, 1));
        assertTrue(e.getMessage().startsWith("head-group"), e.getMessage());
    }
}
