package org.attn4j.variants.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class ConvolutionTest {

    /**
     * The paper's formula evaluated directly in float64: channel c = h·Dv + d, group g = c / (C/G),
     * out[i, c] = Σ_j softmax(logits(i, g))_j · x[i + j + o, c] with o = −(k−1) or −⌊k/2⌋.
     * {@code projection == null}: lightweight (logits = weights[g]); else dynamic
     * (logits(i, g)_j = Σ_c' x[i, c']·P[c', g·k + j]).
     */
    static Tensor direct(Tensor v, float[] weights, float[] projection, int groups, int k, boolean causal) {
        int b = v.dim(0), h = v.dim(1), n = v.dim(2), dv = v.dim(3), c = h * dv, seg = c / groups;
        int o = causal ? -(k - 1) : -(k / 2);
        float[] out = new float[b * h * n * dv];
        for (int x = 0; x < b; x++) {
            for (int i = 0; i < n; i++) {
                double[][] w = new double[groups][k];
                for (int g = 0; g < groups; g++) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < k; j++) {
                        double logit;
                        if (projection == null) {
                            logit = weights[g * k + j];
                        } else {
                            logit = 0;
                            for (int cc = 0; cc < c; cc++) logit += (double) v.get(x, cc / dv, i, cc % dv) * projection[cc * groups * k + g * k + j];
                        }
                        w[g][j] = logit;
                        max = Math.max(max, logit);
                    }
                    double z = 0;
                    for (int j = 0; j < k; j++) z += Math.exp(w[g][j] - max);
                    for (int j = 0; j < k; j++) w[g][j] = Math.exp(w[g][j] - max) / z;
                }
                for (int cc = 0; cc < c; cc++) {
                    double s = 0;
                    for (int j = 0; j < k; j++) {
                        int src = i + j + o;
                        if (src >= 0 && src < n) s += w[cc / seg][j] * v.get(x, cc / dv, src, cc % dv);
                    }
                    out[((x * h + cc / dv) * n + i) * dv + cc % dv] = (float) s;
                }
            }
        }
        return Tensor.of(out, b, h, n, dv);
    }

    private static float[] random(SplittableRandom r, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) a[i] = (float) VariantAssert.gaussian(r);
        return a;
    }

    @Test
    void bothConvolutionsMatchTheDirectFormula() {
        SplittableRandom r = new SplittableRandom(31);
        // {B, H, N, Dv, kernel, groups}
        int[][] cases = {{2, 3, 19, 5, 3, 3}, {1, 2, 1, 4, 7, 2}, {1, 2, 70, 6, 4, 4}, {3, 1, 33, 9, 31, 1}, {1, 4, 130, 3, 6, 2}, {2, 2, 10, 16, 2, 8}};
        for (int[] c : cases) {
            for (boolean causal : new boolean[] {false, true}) {
                int b = c[0], h = c[1], n = c[2], dv = c[3], k = c[4], g = c[5], ch = h * dv;
                Tensor q = VariantAssert.random(r, b, h, n, 4), v = VariantAssert.random(r, b, h, n, dv);
                ConvParams p = new ConvParams(k, g, causal);
                float[] w = random(r, g * k);
                String what = "B=" + b + " H=" + h + " N=" + n + " Dv=" + dv + " k=" + k + " G=" + g + " causal=" + causal;
                VariantResult light = new LightweightConv(p, w, g).run(q, q, v, 3);
                VariantAssert.assertClose(direct(v, w, null, g, k, causal), light.output(), 1e-5, 1e-5, "lightweight " + what);
                float[] proj = random(r, ch * g * k);
                for (int i = 0; i < proj.length; i++) proj[i] *= 0.3f;
                VariantResult dyn = new DynamicConv(p, proj, ch, g).run(q, q, v, 2);
                VariantAssert.assertClose(direct(v, null, proj, g, k, causal), dyn.output(), 2e-5, 1e-5, "dynamic " + what);
                assertTrue(dyn.flops() > light.flops() && light.flops() > 0);
            }
        }
    }

    @Test
    void uniformKernelIsAMovingAverageByHand() {
        // k = 3, all-zero raw weights ⇒ softmax 1/3 each; centred: out[i] = (x[i−1] + x[i] + x[i+1]) / 3.
        Tensor v = Tensor.of(new float[] {3, 6, 9, 12}, 1, 1, 4, 1);
        Tensor out = new LightweightConv(new ConvParams(3, 0, false), new float[3], 1).forward(v, v, v);
        assertArrayEquals(new float[] {3, 6, 9, 7}, out.toArray(), 1e-6f);
        // causal: out[i] = (x[i−2] + x[i−1] + x[i]) / 3
        Tensor causal = new LightweightConv(new ConvParams(3, 0, true), new float[3], 1).forward(v, v, v);
        assertArrayEquals(new float[] {1, 3, 6, 9}, causal.toArray(), 1e-6f);
        // a dominant last tap (raw weight 40) makes the causal conv the identity
        Tensor last = new LightweightConv(new ConvParams(3, 0, true), new float[] {0, 0, 40}, 1).forward(v, v, v);
        assertArrayEquals(v.toArray(), last.toArray(), 1e-5f);
    }

    @Test
    void kernelOneIsTheIdentity() {
        SplittableRandom r = new SplittableRandom(32);
        Tensor v = VariantAssert.random(r, 2, 3, 17, 5);
        ConvParams p = new ConvParams(1, 0, false);
        VariantAssert.assertClose(v, new LightweightConv(p, new float[] {1f, 1f, 1f}, 3).forward(v, v, v), 0, 0, "lightweight k=1");
        VariantAssert.assertClose(v, new DynamicConv(p, 7).forward(v, v, v), 0, 0, "dynamic k=1");
        VariantAssert.assertClose(v, VariantRegistry.create("lightweight-conv", Settings.of("kernel=1"), 3).forward(v, v, v), 0, 0, "registry k=1");
    }

    @Test
    void causalConvolutionsDoNotLeakTheFuture() {
        SplittableRandom r = new SplittableRandom(33);
        int n = 40;
        Tensor v = VariantAssert.random(r, 1, 2, n, 6);
        for (String name : new String[] {"lightweight-conv", "dynamic-conv"}) {
            var variant = VariantRegistry.create(name, Settings.of("causal=true", "kernel=9"), 4);
            float[] base = variant.forward(v, v, v).toArray();
            for (int j : new int[] {0, 13, 39}) {
                float[] changed = v.toArray();
                for (int h = 0; h < 2; h++) for (int d = 0; d < 6; d++) changed[(h * n + j) * 6 + d] += 5f;
                float[] out = variant.forward(Tensor.of(changed, 1, 2, n, 6), v, Tensor.of(changed, 1, 2, n, 6)).toArray();
                for (int h = 0; h < 2; h++) {
                    for (int i = 0; i < n; i++) {
                        for (int d = 0; d < 6; d++) {
                            int at = (h * n + i) * 6 + d;
                            if (i < j) assertEquals(base[at], out[at], 0f, name + ": output " + i + " changed when token " + j + " changed");
                        }
                    }
                }
                assertTrue(out[(j) * 6] != base[j * 6], name + ": output " + j + " should see its own token");
            }
        }
    }

    @Test
    void seededWeightsAreDeterministicAndThreadIndependent() {
        SplittableRandom r = new SplittableRandom(34);
        Tensor v = VariantAssert.random(r, 2, 2, 150, 8);
        for (String name : new String[] {"lightweight-conv", "dynamic-conv"}) {
            float[] a = VariantRegistry.create(name, Settings.empty(), 9).run(v, v, v, 1).output().toArray();
            float[] b = VariantRegistry.create(name, Settings.empty(), 9).run(v, v, v, 4).output().toArray();
            float[] c = VariantRegistry.create(name, Settings.empty(), 10).run(v, v, v, 1).output().toArray();
            assertArrayEquals(a, b, 0f, name);
            assertTrue(!java.util.Arrays.equals(a, c), name + ": another seed should give other weights");
        }
    }

    @Test
    void badParametersAreRejectedByName() {
        assertMessage(() -> new ConvParams(0, 1, false), "kernel");
        assertMessage(() -> new ConvParams(3, -1, false), "heads");
        assertMessage(() -> VariantRegistry.create("dynamic-conv", Settings.of("heads=0"), 1), "heads");
        SplittableRandom r = new SplittableRandom(35);
        Tensor v = VariantAssert.random(r, 1, 2, 5, 3);
        assertMessage(() -> new LightweightConv(new ConvParams(3, 4, false), 1).forward(v, v, v), "heads");
        assertMessage(() -> new LightweightConv(new ConvParams(3, 2, false), new float[5], 2), "weights");
        assertMessage(() -> new DynamicConv(new ConvParams(3, 2, false), new float[5], 6, 2), "projection");
        assertMessage(() -> new DynamicConv(new ConvParams(3, 0, false), new float[8 * 2 * 3], 8, 2).forward(v, v, v), "C=");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String field) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(field), "message should name " + field + ": " + x.getMessage());
    }
}
