package org.attn4j.variants.better;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class BetterAttentionTest {

    /**
     * The paper's three formulas in float64, written independently: X_Q = concat_h q[b,h] (row n),
     * Q_h = X_Q·Wq_h; K_h = X_K·Wk_h (optimised) or k_h; V_h = v_h or Wa·v_h (super);
     * head_h = softmax(Q_h K_hᵀ/√D [causal]) V_h; out = concat_h head_h · Wo, split into heads.
     */
    static Tensor direct(String kind, Tensor q, Tensor k, Tensor v, float[][] wq, float[][] wk, float[] wa, float[] wo, boolean causal) {
        int b = q.dim(0), h = q.dim(1), n = q.dim(2), d = q.dim(3), dv = v.dim(3), dm = h * d, dmv = h * dv;
        float[] out = new float[b * h * n * dv];
        for (int x = 0; x < b; x++) {
            double[][] cat = new double[n][dmv];
            for (int y = 0; y < h; y++) {
                double[][] qq = new double[n][d], kk = new double[n][d], vv = new double[n][dv];
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < d; c++) {
                        double sq = 0, sk = 0;
                        for (int r = 0; r < dm; r++) {
                            sq += (double) q.get(x, r / d, i, r % d) * wq[y][r * d + c];
                            if (kind.equals("optimised")) sk += (double) k.get(x, r / d, i, r % d) * wk[y][r * d + c];
                        }
                        qq[i][c] = sq;
                        kk[i][c] = kind.equals("optimised") ? sk : k.get(x, y, i, c);
                    }
                    for (int c = 0; c < dv; c++) {
                        if (kind.equals("super")) {
                            double s = 0;
                            for (int j = 0; j < n; j++) {
                                if (causal && j > i) continue;
                                s += (double) wa[i * n + j] * v.get(x, y, j, c);
                            }
                            vv[i][c] = s;
                        } else {
                            vv[i][c] = v.get(x, y, i, c);
                        }
                    }
                }
                for (int i = 0; i < n; i++) {
                    double[] s = new double[n];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < n; j++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += qq[i][c] * kk[j][c];
                        s[j] = causal && j > i ? Double.NEGATIVE_INFINITY : dot / Math.sqrt(d);
                        max = Math.max(max, s[j]);
                    }
                    double z = 0;
                    for (int j = 0; j < n; j++) z += s[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
                    for (int j = 0; j < n; j++) {
                        if (s[j] == Double.NEGATIVE_INFINITY) continue;
                        double p = Math.exp(s[j] - max) / z;
                        for (int c = 0; c < dv; c++) cat[i][y * dv + c] += p * vv[j][c];
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                for (int col = 0; col < dmv; col++) {
                    double s = 0;
                    for (int r = 0; r < dmv; r++) s += cat[i][r] * wo[r * dmv + col];
                    out[((x * h + col / dv) * n + i) * dv + col % dv] = (float) s;
                }
            }
        }
        return Tensor.of(out, b, h, n, dv);
    }

    private static float[] random(SplittableRandom r, int len, double std) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) a[i] = (float) (std * VariantAssert.gaussian(r));
        return a;
    }

    private static float[][] perHead(SplittableRandom r, int h, int len, double std) {
        float[][] a = new float[h][];
        for (int i = 0; i < h; i++) a[i] = random(r, len, std);
        return a;
    }

    @Test
    void allThreeMatchTheDirectFormulas() {
        SplittableRandom r = new SplittableRandom(41);
        // {B, H, N, D, Dv}
        int[][] shapes = {{2, 3, 11, 5, 3}, {1, 2, 1, 4, 4}, {1, 1, 33, 7, 9}, {3, 2, 20, 16, 16}};
        for (int[] sh : shapes) {
            int b = sh[0], h = sh[1], n = sh[2], d = sh[3], dv = sh[4], dm = h * d, dmv = h * dv;
            Tensor q = VariantAssert.random(r, b, h, n, d), k = VariantAssert.random(r, b, h, n, d), v = VariantAssert.random(r, b, h, n, dv);
            float[][] wq = perHead(r, h, dm * d, 1 / Math.sqrt(dm)), wk = perHead(r, h, dm * d, 1 / Math.sqrt(dm));
            float[] wa = random(r, n * n, 1 / Math.sqrt(n)), wo = random(r, dmv * dmv, 1 / Math.sqrt(dmv));
            for (boolean causal : new boolean[] {false, true}) {
                BetterAttentionParams p = new BetterAttentionParams(causal);
                String what = " B=" + b + " H=" + h + " N=" + n + " causal=" + causal;
                VariantAssert.assertClose(direct("optimised", q, k, v, wq, wk, null, wo, causal),
                        new OptimisedAttention(p, h, d, dv, wq, wk, wo).run(q, k, v, 2).output(), 3e-5, 1e-4, "optimised" + what);
                VariantAssert.assertClose(direct("efficient", q, k, v, wq, null, null, wo, causal),
                        new BetterEfficientAttention(p, h, d, dv, wq, wo).run(q, k, v, 2).output(), 3e-5, 1e-4, "efficient" + what);
                VariantAssert.assertClose(direct("super", q, k, v, wq, null, wa, wo, causal),
                        new SuperAttention(p, h, d, dv, n, wq, wa, wo).run(q, k, v, 2).output(), 3e-5, 1e-4, "super" + what);
            }
        }
    }

    /** Selector W^Q_h (W^K_h) picks head h's slice of X; W^O = I; W^A = I: all three are standard MHA. */
    @Test
    void identityWeightsReduceToStandardMultiHeadAttention() {
        SplittableRandom r = new SplittableRandom(42);
        int b = 2, h = 3, n = 17, d = 6, dv = 5, dm = h * d, dmv = h * dv;
        Tensor q = VariantAssert.random(r, b, h, n, d), k = VariantAssert.random(r, b, h, n, d), v = VariantAssert.random(r, b, h, n, dv);
        float[][] sel = new float[h][dm * d];
        for (int y = 0; y < h; y++) for (int c = 0; c < d; c++) sel[y][(y * d + c) * d + c] = 1f;
        float[] wo = new float[dmv * dmv], wa = new float[n * n];
        for (int i = 0; i < dmv; i++) wo[i * dmv + i] = 1f;
        for (int i = 0; i < n; i++) wa[i * n + i] = 1f;
        for (boolean causal : new boolean[] {false, true}) {
            BoolTensor mask = null;
            if (causal) {
                boolean[] m = new boolean[n * n];
                for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) m[i * n + j] = true;
                mask = BoolTensor.of(m, 1, 1, n, n);
            }
            Tensor standard = VariantAssert.reference(q, k, v, mask, null, null);
            BetterAttentionParams p = new BetterAttentionParams(causal);
            VariantAssert.assertClose(standard, new OptimisedAttention(p, h, d, dv, sel, sel, wo).forward(q, k, v), 2e-5, 1e-4, "optimised = MHA");
            VariantAssert.assertClose(standard, new BetterEfficientAttention(p, h, d, dv, sel, wo).forward(q, k, v), 2e-5, 1e-4, "efficient = MHA");
            VariantAssert.assertClose(standard, new SuperAttention(p, h, d, dv, n, sel, wa, wo).forward(q, k, v), 2e-5, 1e-4, "super = MHA");
        }
    }

    @Test
    void tinyCasesByHand() {
        // Efficient, N=2, H=1, D=1: Q = ln3·q, q = [1, 0], k = [0, 1], v = [4, 8], W^O = [1].
        // token 0: scores [0, ln3] → weights [1/4, 3/4] → 1 + 6 = 7; token 1: Q = 0 → uniform → 6.
        Tensor q = Tensor.of(new float[] {1, 0}, 1, 1, 2, 1), k = Tensor.of(new float[] {0, 1}, 1, 1, 2, 1), v = Tensor.of(new float[] {4, 8}, 1, 1, 2, 1);
        float[][] wq = {{(float) Math.log(3)}};
        assertArrayEquals(new float[] {7, 6}, new BetterEfficientAttention(BetterAttentionParams.defaults(), 1, 1, 1, wq, new float[] {1}).forward(q, k, v).toArray(), 1e-5f);
        // Super with W^A = swap, W^Q = 0 (uniform weights), W^O = [2]: both tokens get 2·mean(v) = 12.
        assertArrayEquals(new float[] {12, 12}, new SuperAttention(BetterAttentionParams.defaults(), 1, 1, 1, 2, new float[][] {{0}}, new float[] {0, 1, 1, 0},
                new float[] {2}).forward(q, k, v).toArray(), 1e-5f);
        // Super causal: W^A's upper triangle is dropped: V' = [0·4, 1·4 + 0·8] = [0, 4]; token 0 sees V'0 = 0, token 1 averages 0 and 4 → 2, times W^O = 2.
        assertArrayEquals(new float[] {0, 4}, new SuperAttention(new BetterAttentionParams(true), 1, 1, 1, 2, new float[][] {{0}}, new float[] {0, 1, 1, 0},
                new float[] {2}).forward(q, k, v).toArray(), 1e-5f);
        // Optimised with W^Q = W^K = [1] and W^O = [1]: plain single-head attention on scalars.
        float[] opt = new OptimisedAttention(BetterAttentionParams.defaults(), 1, 1, 1, new float[][] {{1}}, new float[][] {{1}}, new float[] {1}).forward(q, k, v).toArray();
        // token 0: scores [1·0, 1·1] = [0, 1] → 4·(1/(1+e)) + 8·(e/(1+e)); token 1: scores [0, 0] → 6.
        assertEquals(4 / (1 + Math.E) + 8 * Math.E / (1 + Math.E), opt[0], 1e-5);
        assertEquals(6, opt[1], 1e-5);
    }

    @Test
    void registryEntriesAreSeededAndCausalSuperDoesNotLeak() {
        SplittableRandom r = new SplittableRandom(43);
        int n = 24;
        Tensor q = VariantAssert.random(r, 1, 2, n, 8), k = VariantAssert.random(r, 1, 2, n, 8), v = VariantAssert.random(r, 1, 2, n, 8);
        for (String name : new String[] {"optimised-attention", "efficient-attention-p96", "super-attention"}) {
            float[] a = VariantRegistry.create(name, Settings.empty(), 1).run(q, k, v, 1).output().toArray();
            float[] b = VariantRegistry.create(name, Settings.empty(), 1).run(q, k, v, 3).output().toArray();
            float[] c = VariantRegistry.create(name, Settings.empty(), 2).run(q, k, v, 1).output().toArray();
            assertArrayEquals(a, b, 1e-6f, name);
            assertTrue(!java.util.Arrays.equals(a, c), name + ": seeds differ");
            Variant causal = VariantRegistry.create(name, Settings.of("causal=true"), 1);
            float[] base = causal.forward(q, k, v).toArray();
            int j = 15;
            float[] v2 = v.toArray(), k2 = k.toArray(), q2 = q.toArray();
            for (int h = 0; h < 2; h++) for (int c2 = 0; c2 < 8; c2++) {
                v2[(h * n + j) * 8 + c2] += 3;
                k2[(h * n + j) * 8 + c2] -= 2;
                q2[(h * n + j) * 8 + c2] += 1;
            }
            float[] changed = causal.forward(Tensor.of(q2, 1, 2, n, 8), Tensor.of(k2, 1, 2, n, 8), Tensor.of(v2, 1, 2, n, 8)).toArray();
            for (int h = 0; h < 2; h++) for (int i = 0; i < j; i++) for (int c2 = 0; c2 < 8; c2++) {
                int at = (h * n + i) * 8 + c2;
                assertEquals(base[at], changed[at], 1e-6f, name + ": causal output " + i + " saw token " + j);
            }
        }
    }

    @Test
    void badWeightsAndShapesAreRejectedByName() {
        BetterAttentionParams p = BetterAttentionParams.defaults();
        assertMessage(() -> new BetterEfficientAttention(p, 2, 3, 3, new float[][] {new float[18]}, new float[36]), "wq");
        assertMessage(() -> new BetterEfficientAttention(p, 2, 3, 3, new float[][] {new float[18], new float[18]}, new float[35]), "wo");
        assertMessage(() -> new OptimisedAttention(p, 1, 2, 2, new float[][] {new float[4]}, null, new float[4]), "wk");
        assertMessage(() -> new SuperAttention(p, 1, 2, 2, 3, new float[][] {new float[4]}, new float[8], new float[4]), "wa");
        assertMessage(() -> new SuperAttention(p, 1, 2, 2, 3, new float[][] {new float[4]}, new float[9], new float[] {1, 0, 0, Float.NaN}), "wo");
        assertMessage(() -> new BetterEfficientAttention(null, 1), "params");
        SplittableRandom r = new SplittableRandom(44);
        Tensor x = VariantAssert.random(r, 1, 1, 4, 2);
        assertMessage(() -> new SuperAttention(p, 1, 2, 2, 3, new float[][] {new float[4]}, new float[9], new float[4]).forward(x, x, x), "N=");
        assertMessage(() -> VariantRegistry.create("super-attention", Settings.of("causal=maybe"), 1), "causal");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String field) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(field), "message should name " + field + ": " + x.getMessage());
    }
}
