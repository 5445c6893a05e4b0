package org.attn4j.variants.local;

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

class HaloAttentionTest {

    /**
     * The halo mask written directly from the definition: query (y, x) in block (y / bh, x / bw)
     * sees key (y', x') iff y' lies in [blockStartY − hh, blockEndY + hh) and likewise for x (the
     * grid bounds make padding invisible).
     */
    static BoolTensor haloMask(int gh, int gw, int bh, int bw, int hh, int hw) {
        int n = gh * gw;
        boolean[] m = new boolean[n * n];
        for (int i = 0; i < n; i++) {
            int yi = i / gw, xi = i % gw;
            int sy = yi / bh * bh, ey = Math.min(gh, sy + bh), sx = xi / bw * bw, ex = Math.min(gw, sx + bw);
            for (int j = 0; j < n; j++) {
                int yj = j / gw, xj = j % gw;
                m[i * n + j] = yj >= sy - hh && yj < ey + hh && xj >= sx - hw && xj < ex + hw;
            }
        }
        return BoolTensor.of(m, 1, 1, n, n);
    }

    static long visible(BoolTensor mask) {
        long c = 0;
        for (boolean b : mask.data()) if (b) c++;
        return c;
    }

    private static void check2d(SplittableRandom r, int batch, int heads, int kvHeads, int gh, int gw, int bh, int bw, int hh, int hw, int d, int dv) {
        int n = gh * gw;
        Tensor q = VariantAssert.random(r, batch, heads, n, d);
        Tensor k = VariantAssert.random(r, batch, kvHeads, n, d);
        Tensor v = VariantAssert.random(r, batch, kvHeads, n, dv);
        HaloAttention a = new HaloAttention(new HaloParams(2, new int[] {gh, gw}, new int[] {bh, bw}, new int[] {hh, hw}, null, false));
        VariantResult got = a.run(q, k, v, 3);
        BoolTensor mask = haloMask(gh, gw, bh, bw, hh, hw);
        String what = "grid " + gh + "x" + gw + " block " + bh + "x" + bw + " halo " + hh + "x" + hw;
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, mask, null, null), got.output(), 2e-5, 1e-4, what);
        assertEquals(2L * batch * heads * visible(mask) * (d + dv), got.flops(), what + ": flops");
        assertArrayEquals(got.output().toArray(), a.run(q, k, v, 1).output().toArray(), what + ": 1 vs 3 threads");
    }

    @Test
    void twoDimensionalEqualsTheDenseHaloMask() {
        SplittableRandom r = new SplittableRandom(1);
        check2d(r, 1, 2, 2, 8, 8, 4, 4, 1, 1, 16, 16);
        check2d(r, 2, 3, 3, 7, 9, 3, 4, 2, 1, 5, 7);   // ragged last blocks, odd D, Dv != D
        check2d(r, 1, 4, 2, 6, 5, 2, 2, 0, 3, 8, 3);   // GQA, zero halo in one dimension
        check2d(r, 1, 1, 1, 5, 1, 2, 1, 1, 0, 4, 4);   // a single column: regions are contiguous views
        check2d(r, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 2);   // N = 1
        for (int trial = 0; trial < 4; trial++) {
            int gh = 1 + r.nextInt(9), gw = 1 + r.nextInt(9);
            check2d(r, 1 + r.nextInt(2), 1 + r.nextInt(3), 1, gh, gw, 1 + r.nextInt(4), 1 + r.nextInt(4), r.nextInt(3), r.nextInt(3),
                    1 + r.nextInt(12), 1 + r.nextInt(12));
        }
    }

    @Test
    void oneDimensionalEqualsTheDenseHaloMask() {
        SplittableRandom r = new SplittableRandom(2);
        int[][] cases = {{13, 4, 2}, {64, 8, 3}, {1, 3, 1}, {10, 1, 0}, {17, 5, 7}};
        for (int[] c : cases) {
            int n = c[0];
            Tensor q = VariantAssert.random(r, 2, 2, n, 6), k = VariantAssert.random(r, 2, 2, n, 6), v = VariantAssert.random(r, 2, 2, n, 9);
            VariantResult got = new HaloAttention(HaloParams.of(1, null, c[1], c[2])).run(q, k, v, 2);
            BoolTensor mask = haloMask(1, n, 1, c[1], 0, c[2]);
            VariantAssert.assertClose(VariantAssert.reference(q, k, v, mask, null, null), got.output(), 2e-5, 1e-4, "1-D " + java.util.Arrays.toString(c));
            assertEquals(2L * 4 * visible(mask) * (6 + 9), got.flops());
        }
    }

    @Test
    void haloCoveringTheGridIsFullAttention() {
        SplittableRandom r = new SplittableRandom(3);
        Tensor q = VariantAssert.random(r, 1, 2, 30, 8), k = VariantAssert.random(r, 1, 2, 30, 8), v = VariantAssert.random(r, 1, 2, 30, 8);
        Tensor full = VariantAssert.reference(q, k, v, null, null, null);
        VariantAssert.assertClose(full, new HaloAttention(new HaloParams(2, new int[] {5, 6}, new int[] {2, 2}, new int[] {5, 6}, null, false)).forward(q, k, v),
                2e-5, 1e-4, "2-D halo >= grid");
        VariantAssert.assertClose(full, new HaloAttention(HaloParams.of(1, null, 4, 30)).forward(q, k, v), 2e-5, 1e-4, "1-D halo >= N");
        int big = Integer.MAX_VALUE;
        VariantAssert.assertClose(full, new HaloAttention(new HaloParams(2, new int[] {5, 6}, new int[] {big, 3}, new int[] {big, big}, null, false)).forward(q, k, v),
                2e-5, 1e-4, "huge block and halo do not overflow");
        // And a halo one short of covering is not full attention: the test can tell them apart.
        double err = VariantAssert.relativeError(full, new HaloAttention(HaloParams.of(1, null, 4, 2)).forward(q, k, v));
        assertTrue(err > 1e-3, "a small halo should differ from full attention, got " + err);
    }

    @Test
    void paddingIsMaskedNotZeroKeys() {
        // At a border block, zero-padded keys would add e^0 terms to the softmax; masked padding does not.
        SplittableRandom r = new SplittableRandom(4);
        Tensor q = VariantAssert.random(r, 1, 1, 16, 4), k = VariantAssert.random(r, 1, 1, 16, 4), v = VariantAssert.random(r, 1, 1, 16, 4);
        Tensor got = new HaloAttention(HaloParams.of(2, null, 2, 1)).forward(q, k, v);
        // The top-left block sees rows 0..2 and columns 0..2 only.
        boolean[] m = new boolean[16 * 16];
        for (int j = 0; j < 16; j++) m[j] = j / 4 <= 2 && j % 4 <= 2;
        for (int i = 1; i < 16; i++) System.arraycopy(m, 0, m, i * 16, 16);
        Tensor ref = VariantAssert.reference(q, k, v, BoolTensor.of(m, 1, 1, 16, 16), null, null);
        float[] a = got.toArray(), e = ref.toArray();
        for (int row : new int[] {0, 1, 4, 5}) for (int c = 0; c < 4; c++) assertEquals(e[row * 4 + c], a[row * 4 + c], 2e-5);
    }

    /**
     * padding=zero against an explicitly zero-padded grid: the original tokens sit at (y + hh, x + hw)
     * of a (nby·bh + 2hh) × (nbx·bw + 2hw) grid whose other keys and values are 0, and a query sees the
     * whole nominal window of its block there.
     */
    @Test
    void zeroPaddingEqualsAnExplicitlyZeroPaddedGrid() {
        SplittableRandom r = new SplittableRandom(7);
        int[][] cases = {{6, 6, 2, 2, 1, 1}, {5, 7, 2, 3, 2, 1}, {1, 10, 1, 4, 0, 2}, {4, 4, 4, 4, 3, 3}, {3, 3, 8, 8, 3, 3}};
        for (int[] c : cases) {
            int gh = c[0], gw = c[1], bh = c[2], bw = c[3], hh = c[4], hw = c[5], heads = 2, d = 5, dv = 3, n = gh * gw;
            int ph = (gh + bh - 1) / bh * bh + 2 * hh, pw = (gw + bw - 1) / bw * bw + 2 * hw, pn = ph * pw;
            Tensor q = VariantAssert.random(r, 1, heads, n, d), k = VariantAssert.random(r, 1, heads, n, d), v = VariantAssert.random(r, 1, heads, n, dv);
            float[] pq = new float[heads * pn * d], pk = new float[heads * pn * d], pv = new float[heads * pn * dv];
            boolean[] m = new boolean[pn * pn];
            for (int i = 0; i < pn; i++) m[i * pn + i] = true; // rows of padding tokens: discarded
            for (int y = 0; y < gh; y++)
                for (int x = 0; x < gw; x++) {
                    int at = (y + hh) * pw + x + hw;
                    for (int h = 0; h < heads; h++) {
                        for (int e = 0; e < d; e++) {
                            pq[(h * pn + at) * d + e] = q.get(0, h, y * gw + x, e);
                            pk[(h * pn + at) * d + e] = k.get(0, h, y * gw + x, e);
                        }
                        for (int e = 0; e < dv; e++) pv[(h * pn + at) * dv + e] = v.get(0, h, y * gw + x, e);
                    }
                    int sy = y / bh * bh, sx = x / bw * bw;
                    for (int j = 0; j < pn; j++) m[at * pn + j] = j / pw >= sy && j / pw < sy + bh + 2 * hh && j % pw >= sx && j % pw < sx + bw + 2 * hw;
                }
            Tensor ref = VariantAssert.reference(Tensor.of(pq, 1, heads, pn, d), Tensor.of(pk, 1, heads, pn, d), Tensor.of(pv, 1, heads, pn, dv),
                    BoolTensor.of(m, 1, 1, pn, pn), null, null);
            float[] expected = new float[heads * n * dv];
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < n; i++)
                    for (int e = 0; e < dv; e++) expected[(h * n + i) * dv + e] = ref.get(0, h, (i / gw + hh) * pw + i % gw + hw, e);
            HaloParams p = gh == 1 ? new HaloParams(1, new int[] {gw}, new int[] {bw}, new int[] {hw}, null, true)
                    : new HaloParams(2, new int[] {gh, gw}, new int[] {bh, bw}, new int[] {hh, hw}, null, true);
            Tensor got = new HaloAttention(p).run(q, k, v, 2).output();
            VariantAssert.assertClose(Tensor.of(expected, 1, heads, n, dv), got, 2e-5, 1e-4, "zero padding " + java.util.Arrays.toString(c));
            // Masked padding differs at the border: zero padding is a real, different choice.
            p = new HaloParams(p.dims(), p.grid(), p.block(), p.halo(), null, false);
            assertTrue(VariantAssert.relativeError(got, new HaloAttention(p).forward(q, k, v)) > 1e-3, "mask vs zero " + java.util.Arrays.toString(c));
        }
        Tensor q = VariantAssert.random(r, 1, 1, 16, 4);
        VariantAssert.assertClose(new HaloAttention(new HaloParams(2, null, new int[] {4, 4}, new int[] {1, 1}, null, true)).forward(q, q, q),
                VariantRegistry.create("halo", Settings.of("block=4", "halo=1", "padding=zero"), 1).forward(q, q, q), 0, 0, "registry padding=zero");
    }

    @Test
    void stridedInputsAndScale() {
        SplittableRandom r = new SplittableRandom(5);
        int n = 36, h = 2, d = 8;
        float[] buf = VariantAssert.random(r, 1, n, h, d).toArray();
        Tensor q = Tensor.of(buf, 1, n, h, d).permute(0, 2, 1, 3);
        Tensor k = VariantAssert.random(r, 1, h, n, d), v = VariantAssert.random(r, 1, h, n, d);
        HaloAttention a = new HaloAttention(new HaloParams(2, null, new int[] {3, 3}, new int[] {1, 1}, 0.7f, false));
        VariantAssert.assertClose(VariantAssert.reference(q.contiguous(), k, v, haloMask(6, 6, 3, 3, 1, 1), null, 0.7f), a.forward(q, k, v), 2e-5, 1e-4, "strided q");
    }

    @Test
    void registryAndErrors() {
        SplittableRandom r = new SplittableRandom(6);
        Tensor q = VariantAssert.random(r, 1, 1, 12, 4);
        Tensor viaRegistry = VariantRegistry.create("halo", Settings.of("dims=1", "block=3", "halo=2"), 1).forward(q, q, q);
        VariantAssert.assertClose(VariantAssert.reference(q, q, q, haloMask(1, 12, 1, 3, 0, 2), null, null), viaRegistry, 2e-5, 1e-4, "registry 1-D");
        VariantAssert.assertRejects("no parameter blok", () -> VariantRegistry.create("halo", Settings.of("blok=3"), 1));
        VariantAssert.assertRejects("dims", () -> VariantRegistry.create("halo", Settings.of("dims=3"), 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new HaloAttention(HaloParams.of(2, null, 2, 1)).forward(q, q, q));
        assertTrue(e.getMessage().contains("grid"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new HaloAttention(HaloParams.of(2, new int[] {3, 5}, 2, 1)).forward(q, q, q));
        assertTrue(e.getMessage().contains("grid"), e.getMessage());
    }

    @Test
    void paramsRejectBadValues() {
        assertField("dims", () -> new HaloParams(3, null, new int[] {1, 1, 1}, new int[] {0, 0, 0}, null, false));
        assertField("block", () -> new HaloParams(2, null, new int[] {0, 2}, new int[] {1, 1}, null, false));
        assertField("block", () -> new HaloParams(2, null, new int[] {2}, new int[] {1, 1}, null, false));
        assertField("halo", () -> new HaloParams(1, null, new int[] {2}, new int[] {-1}, null, false));
        assertField("grid", () -> new HaloParams(2, new int[] {4}, new int[] {2, 2}, new int[] {1, 1}, null, false));
        assertField("grid", () -> new HaloParams(2, new int[] {4, 0}, new int[] {2, 2}, new int[] {1, 1}, null, false));
        assertField("scale", () -> new HaloParams(1, null, new int[] {2}, new int[] {1}, Float.NaN, false));
        assertField("params", () -> new HaloAttention(null));
    }

    static void assertField(String field, org.junit.jupiter.api.function.Executable ex) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ex);
        assertTrue(e.getMessage().startsWith(field + ":"), "expected a message naming '" + field + "', got: " + e.getMessage());
    }
}
