package org.attn4j.variants.local;

import static org.attn4j.variants.local.HaloAttentionTest.assertField;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class CswinAttentionTest {

    /** Whether tokens (y1, x1) and (y2, x2) share a stripe for head h: rows / sw for the first half, columns / sw for the second. */
    static boolean sameStripe(int h, int heads, int sw, int y1, int x1, int y2, int x2) {
        return h < heads / 2 ? y1 / sw == y2 / sw : x1 / sw == x2 / sw;
    }

    static BoolTensor stripeMask(int heads, int gh, int gw, int sw) {
        int n = gh * gw;
        boolean[] m = new boolean[heads * n * n];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) m[(h * n + i) * n + j] = sameStripe(h, heads, sw, i / gw, i % gw, j / gw, j % gw);
        return BoolTensor.of(m, 1, heads, n, n);
    }

    /** LePE written from the official code: a 3×3 depthwise conv (cross-correlation) of V with zero padding at the stripe's edges, plus bias. */
    static double[] lepe(Tensor v, int heads, int gh, int gw, int sw, CswinLepe p) {
        int batch = v.dim(0), hkv = v.dim(1), n = gh * gw, dv = v.dim(3);
        float[] w = p.weight(), bias = p.bias();
        double[] out = new double[batch * heads * n * dv];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int y = 0; y < gh; y++)
                    for (int x = 0; x < gw; x++)
                        for (int c = 0; c < dv; c++) {
                            double acc = bias[h * dv + c];
                            for (int i = 0; i < 3; i++)
                                for (int j = 0; j < 3; j++) {
                                    int yy = y + i - 1, xx = x + j - 1;
                                    if (yy < 0 || yy >= gh || xx < 0 || xx >= gw || !sameStripe(h, heads, sw, y, x, yy, xx)) continue;
                                    acc += (double) w[(h * dv + c) * 9 + i * 3 + j] * v.get(b, h / (heads / hkv), yy * gw + xx, c);
                                }
                            out[((b * heads + h) * n + y * gw + x) * dv + c] = acc;
                        }
        return out;
    }

    private static void check(SplittableRandom r, int batch, int heads, int kvHeads, int gh, int gw, int sw, int d, int dv, boolean withLepe) {
        int n = gh * gw;
        Tensor q = VariantAssert.random(r, batch, heads, n, d), k = VariantAssert.random(r, batch, kvHeads, n, d), v = VariantAssert.random(r, batch, kvHeads, n, dv);
        CswinLepe weights = CswinLepe.init(r.nextLong(), heads, dv);
        CswinAttention a = new CswinAttention(new CswinParams(new int[] {gh, gw}, sw, withLepe, null), weights);
        VariantResult got = a.run(q, k, v, 3);
        String what = "grid " + gh + "x" + gw + " sw " + sw + " H " + heads + "/" + kvHeads + " lepe " + withLepe;
        BoolTensor mask = stripeMask(heads, gh, gw, sw);
        Tensor expected = VariantAssert.reference(q, k, v, mask, null, null);
        if (withLepe) {
            float[] e = expected.toArray();
            double[] l = lepe(v, heads, gh, gw, sw, weights);
            for (int i = 0; i < e.length; i++) e[i] = (float) (e[i] + l[i]);
            expected = Tensor.of(e, batch, heads, n, dv);
        }
        VariantAssert.assertClose(expected, got.output(), 3e-5, 1e-4, what);
        long pairs = 0;
        for (boolean b : mask.data()) if (b) pairs++;
        if (!withLepe) assertEquals(2L * batch * pairs * (d + dv), got.flops(), what + ": flops");
        else assertTrue(got.flops() > 2L * batch * pairs * (d + dv), what + ": LePE flops counted");
        assertArrayEquals(got.output().toArray(), a.run(q, k, v, 1).output().toArray(), what + ": 1 vs 3 threads");
    }

    @Test
    void withoutLepeEqualsTheDenseStripeMask() {
        SplittableRandom r = new SplittableRandom(10);
        check(r, 1, 2, 2, 8, 8, 2, 16, 16, false);
        check(r, 2, 4, 4, 7, 5, 3, 5, 7, false);   // ragged stripes, odd D
        check(r, 1, 4, 2, 6, 9, 2, 8, 4, false);   // GQA
        check(r, 1, 2, 1, 1, 7, 1, 3, 3, false);   // one row
        check(r, 1, 2, 2, 1, 1, 1, 4, 4, false);   // N = 1
    }

    @Test
    void lepeEqualsADirectStripeLocalConvolution() {
        SplittableRandom r = new SplittableRandom(11);
        check(r, 1, 2, 2, 8, 8, 2, 16, 16, true);
        check(r, 2, 4, 2, 7, 6, 3, 6, 5, true);
        check(r, 1, 2, 2, 5, 5, 1, 4, 3, true);    // sw = 1: the conv sees only its own row / column
        check(r, 1, 2, 2, 4, 4, 4, 4, 4, true);    // one stripe per orientation: image-level padding
    }

    @Test
    void lepePaddingIsAtTheStripeEdgeNotTheImageEdge() {
        // With sw = 2 on 4x4, the image-level conv and the stripe-local conv differ at stripe borders.
        SplittableRandom r = new SplittableRandom(12);
        Tensor q = VariantAssert.random(r, 1, 2, 16, 4), k = VariantAssert.random(r, 1, 2, 16, 4), v = VariantAssert.random(r, 1, 2, 16, 4);
        CswinLepe w = CswinLepe.init(5, 2, 4);
        Tensor with = new CswinAttention(new CswinParams(null, 2, true, null), w).forward(q, k, v);
        Tensor without = new CswinAttention(new CswinParams(null, 2, false, null), w).forward(q, k, v);
        double[] stripe = lepe(v, 2, 4, 4, 2, w), image = lepe(v, 2, 4, 4, 4, w);
        float[] a = with.toArray(), b = without.toArray();
        double worstStripe = 0, worstImage = 0;
        for (int i = 0; i < a.length; i++) {
            worstStripe = Math.max(worstStripe, Math.abs(a[i] - b[i] - stripe[i]));
            worstImage = Math.max(worstImage, Math.abs(a[i] - b[i] - image[i]));
        }
        assertTrue(worstStripe < 1e-4, "stripe-local LePE, error " + worstStripe);
        assertTrue(worstImage > 1e-2, "image-level padding must differ, got " + worstImage);
    }

    @Test
    void wideStripesAreFullAttention() {
        SplittableRandom r = new SplittableRandom(13);
        Tensor q = VariantAssert.random(r, 1, 4, 20, 8), k = VariantAssert.random(r, 1, 4, 20, 8), v = VariantAssert.random(r, 1, 4, 20, 8);
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, null, null),
                new CswinAttention(new CswinParams(new int[] {4, 5}, 5, false, null), 1).forward(q, k, v), 2e-5, 1e-4, "sw >= grid");
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, null, null, null),
                new CswinAttention(new CswinParams(new int[] {4, 5}, Integer.MAX_VALUE, false, null), 1).forward(q, k, v), 2e-5, 1e-4, "huge sw");
    }

    @Test
    void seededWeightsAreDeterministicAndRegistryWorks() {
        SplittableRandom r = new SplittableRandom(14);
        Tensor q = VariantAssert.random(r, 1, 2, 64, 16);
        Tensor a = VariantRegistry.create("cswin", Settings.empty(), 7).forward(q, q, q);
        Tensor b = new CswinAttention(new CswinParams(null, 2, true, null), CswinLepe.init(7, 2, 16)).forward(q, q, q);
        assertArrayEquals(a.toArray(), b.toArray(), "seed 7 draws CswinLepe.init(7, H, Dv)");
        Tensor c = VariantRegistry.create("cswin", Settings.of("stripe=4", "lepe=false", "grid=4x16"), 7).forward(q, q, q);
        VariantAssert.assertClose(VariantAssert.reference(q, q, q, stripeMask(2, 4, 16, 4), null, null), c, 2e-5, 1e-4, "registry settings");
        VariantAssert.assertRejects("no parameter stripes", () -> VariantRegistry.create("cswin", Settings.of("stripes=4"), 1));
    }

    @Test
    void errors() {
        SplittableRandom r = new SplittableRandom(15);
        Tensor q3 = VariantAssert.random(r, 1, 3, 16, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new CswinAttention(new CswinParams(null, 2, false, null), 1).forward(q3, q3, q3));
        assertTrue(e.getMessage().contains("even"), e.getMessage());
        Tensor q2 = VariantAssert.random(r, 1, 2, 16, 4);
        e = assertThrows(IllegalArgumentException.class, () -> new CswinAttention(new CswinParams(null, 2, true, null), CswinLepe.init(1, 4, 4)).forward(q2, q2, q2));
        assertTrue(e.getMessage().startsWith("lepe:"), e.getMessage());
        assertField("stripe", () -> new CswinParams(null, 0, true, null));
        assertField("grid", () -> new CswinParams(new int[] {4}, 2, true, null));
        assertField("scale", () -> new CswinParams(null, 2, true, Float.POSITIVE_INFINITY));
        assertField("weight", () -> new CswinLepe(2, 4, new float[10], new float[8]));
        assertField("bias", () -> new CswinLepe(2, 4, new float[72], new float[7]));
        assertField("heads", () -> new CswinLepe(0, 4, new float[0], new float[0]));
        assertField("params", () -> new CswinAttention(null, 1));
    }
}
