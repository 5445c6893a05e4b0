package org.attn4j.variants.neighborhood;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.mask.KeyBlock;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

/** Neighbourhood attention against the reference kernel with a dense mask built here from NATTEN's rule. */
class NeighborhoodAttentionTest {

    /**
     * Whether key coordinate y is visible from query coordinate x along one axis of extent len,
     * written as NATTEN's mask function states it (dilation groups by x mod d with the per-group
     * length correction, stride-group leaders, the clamped window centre), independently of the
     * production code, which computes window starts instead.
     */
    static boolean visible1d(int x, int y, int len, int k, int d, int s, boolean causal) {
        if (x % d != y % d) return false;
        int xi = x / d, yi = y / d, g = x % d;
        int padding = 1 - ((g + (d - (len % d))) / d);
        int lg = len / d + padding;
        if (causal) {
            int leader = Math.min((xi / s) * s + s - 1, lg - 1);
            return xi - yi >= 0 && leader - yi < k;
        }
        int leader = Math.min((xi / s) * s + s / 2, lg - 1);
        int left = k / 2, right = k / 2 + (k % 2 - 1);
        int center = Math.max(left, Math.min(leader, lg - 1 - right));
        int w0 = center - yi, w1 = yi - center;
        return (0 <= w0 && w0 <= left) || (0 <= w1 && w1 <= right);
    }

    /** The dense [1, 1, N, N] mask: the product over axes of visible1d, tokens row-major. */
    static BoolTensor denseMask(int[] grid, int[] k, int[] d, int[] s, boolean[] causal) {
        int n = 1;
        for (int g : grid) n *= g;
        boolean[] m = new boolean[n * n];
        int[] xc = new int[grid.length], yc = new int[grid.length];
        for (int i = 0; i < n; i++) {
            coords(i, grid, xc);
            for (int j = 0; j < n; j++) {
                coords(j, grid, yc);
                boolean vis = true;
                for (int a = 0; a < grid.length && vis; a++) vis = visible1d(xc[a], yc[a], grid[a], k[a], d[a], s[a], causal[a]);
                m[i * n + j] = vis;
            }
        }
        return BoolTensor.of(m, 1, 1, n, n);
    }

    private static void coords(int idx, int[] grid, int[] out) {
        for (int a = grid.length - 1; a >= 0; a--) {
            out[a] = idx % grid[a];
            idx /= grid[a];
        }
    }

    private static int prod(int[] xs) {
        int p = 1;
        for (int x : xs) p *= x;
        return p;
    }

    private static int[] fill(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /** Runs the variant at 1 and 2 threads and compares with the reference given the independent mask. */
    private static void check(SplittableRandom r, int b, int h, int hkv, int d, NeighborhoodParams p, int[] grid) {
        int n = prod(grid);
        Tensor q = VariantAssert.random(r, b, h, n, d);
        Tensor k = VariantAssert.random(r, b, hkv, n, d);
        Tensor v = VariantAssert.random(r, b, hkv, n, d + 3);
        Tensor expected = VariantAssert.reference(q, k, v, denseMask(grid, p.kernel(), p.dilation(), p.stride(), p.causal()), null, null);
        NeighborhoodAttention na = new NeighborhoodAttention(p);
        for (int threads = 1; threads <= 2; threads++) {
            VariantResult res = na.run(q, k, v, threads);
            VariantAssert.assertClose(expected, res.output(), 1e-5, 1e-5, p + " grid " + NeighborhoodParams.fmt(grid) + " threads " + threads);
            assertTrue(res.flops() > 0);
        }
    }

    @Test
    void sweep1dMatchesDenseMaskReference() {
        SplittableRandom r = new SplittableRandom(1);
        int cases = 0;
        for (int len : new int[] {1, 5, 13, 31}) {
            for (int k = 1; k <= len; k += (len > 13 ? 4 : 1)) {
                for (int dil = 1; dil * k <= len && dil <= 3; dil++) {
                    for (int s : new int[] {1, 2, k}) {
                        if (s > k) continue;
                        for (boolean causal : new boolean[] {false, true}) {
                            int[] patch = r.nextInt(3) == 0 ? new int[] {1 + r.nextInt(len)} : null;
                            NeighborhoodParams p = new NeighborhoodParams(new int[] {k}, new int[] {dil}, new int[] {s},
                                    new boolean[] {causal}, null, patch);
                            check(r, 1, 2, 1, 13, p, new int[] {len});
                            cases++;
                        }
                    }
                }
            }
        }
        assertTrue(cases > 100, "cases " + cases);
    }

    @Test
    void sweep2dAnd3dMatchDenseMaskReference() {
        SplittableRandom r = new SplittableRandom(2);
        List<int[]> grids = List.of(new int[] {5, 7}, new int[] {8, 8}, new int[] {3, 4, 5});
        int cases = 0;
        for (int[] grid : grids) {
            int dims = grid.length;
            for (int trial = 0; trial < (dims == 2 ? 40 : 30); trial++) {
                int[] k = new int[dims], dil = new int[dims], s = new int[dims], patch = new int[dims];
                boolean[] causal = new boolean[dims];
                for (int a = 0; a < dims; a++) {
                    dil[a] = 1 + r.nextInt(Math.min(3, grid[a]));
                    int maxK = grid[a] / dil[a];
                    k[a] = 1 + r.nextInt(maxK);
                    s[a] = 1 + r.nextInt(k[a]);
                    causal[a] = r.nextInt(3) == 0;
                    patch[a] = 1 + r.nextInt(grid[a]);
                }
                NeighborhoodParams p = new NeighborhoodParams(k, dil, s, causal, grid, trial % 2 == 0 ? patch : null);
                check(r, trial % 3 == 0 ? 2 : 1, 2, trial % 2 == 0 ? 1 : 2, trial % 2 == 0 ? 13 : 16, p, grid);
                cases++;
            }
        }
        assertEquals(110, cases);
    }

    @Test
    void plainTwoDimensionalWindowsOnWideGridsTakeTheShiftedKernelAndMatchTheReference() {
        // Rows of 37 and 20 columns: full 16-query units, partial ones, edge units with clamped windows,
        // odd row counts (a last query row without a partner), kernel = row width, 1-wide kernels.
        SplittableRandom r = new SplittableRandom(17);
        int[][][] cases = { // grid, kernel
            {{11, 37}, {7, 7}}, {{9, 20}, {3, 5}}, {{7, 33}, {5, 33}}, {{5, 17}, {1, 1}}, {{17, 16}, {9, 15}}, {{3, 40}, {3, 1}},
        };
        for (int[][] c : cases) {
            NeighborhoodParams p = new NeighborhoodParams(c[1], null, null, null, c[0], null);
            int n = prod(c[0]);
            Tensor q = VariantAssert.random(r, 1, 1, n, 4);
            assertTrue(ShiftedKernel2d.applies(c[0], p.kernel(), p.dilation(), p.stride(), p.causal(), q, q, q), p.toString());
            check(r, 2, 2, 1, 13, p, c[0]);
            check(r, 1, 2, 2, 64, p, c[0]);
        }
        // Dilation, stride and causal windows take the block-sparse kernel.
        Tensor q = VariantAssert.random(r, 1, 1, 64, 4);
        int[] g = {8, 8}, kk = {3, 3}, one = {1, 1};
        assertTrue(!ShiftedKernel2d.applies(g, kk, new int[] {2, 1}, one, new boolean[2], q, q, q));
        assertTrue(!ShiftedKernel2d.applies(g, kk, one, new int[] {1, 2}, new boolean[2], q, q, q));
        assertTrue(!ShiftedKernel2d.applies(g, kk, one, one, new boolean[] {true, false}, q, q, q));
    }

    @Test
    void shiftedKernelReadsStridedViewsAndContiguousRowsAlike() {
        // Contiguous token rows are staged through a scratch copy before the transposing gathers;
        // [B, N, H, D] buffers seen as [B, H, N, D] (token stride H·D) are gathered in place. Both
        // must match the reference, and each other up to rounding.
        SplittableRandom r = new SplittableRandom(23);
        int[] grid = {9, 21};
        int n = prod(grid), h = 2, d = 16, dv = 19;
        NeighborhoodParams p = new NeighborhoodParams(new int[] {5, 7}, null, null, null, grid, null);
        Tensor qc = VariantAssert.random(r, 1, n, h, d), kc = VariantAssert.random(r, 1, n, h, d), vc = VariantAssert.random(r, 1, n, h, dv);
        Tensor q = qc.permute(0, 2, 1, 3), k = kc.permute(0, 2, 1, 3), v = vc.permute(0, 2, 1, 3);
        assertEquals(h * d, q.stride(2));
        assertTrue(ShiftedKernel2d.applies(grid, p.kernel(), p.dilation(), p.stride(), p.causal(), q, k, v));
        Tensor expected = VariantAssert.reference(q, k, v, denseMask(grid, p.kernel(), p.dilation(), p.stride(), p.causal()), null, null);
        NeighborhoodAttention na = new NeighborhoodAttention(p);
        Tensor strided = na.run(q, k, v, 1).output();
        Tensor contiguous = na.run(copy(q), copy(k), copy(v), 2).output();
        VariantAssert.assertClose(expected, strided, 1e-5, 1e-5, "strided views");
        VariantAssert.assertClose(expected, contiguous, 1e-5, 1e-5, "contiguous copies");
    }

    /** A row-major copy of a 4-D view. */
    private static Tensor copy(Tensor t) {
        int[] s = {t.dim(0), t.dim(1), t.dim(2), t.dim(3)};
        float[] out = new float[s[0] * s[1] * s[2] * s[3]];
        int i = 0;
        for (int a = 0; a < s[0]; a++) for (int b = 0; b < s[1]; b++) for (int c = 0; c < s[2]; c++) for (int e = 0; e < s[3]; e++) {
            out[i++] = t.data()[t.offset() + a * t.stride(0) + b * t.stride(1) + c * t.stride(2) + e * t.stride(3)];
        }
        return Tensor.of(out, s);
    }

    @Test
    void plainWindowsWithoutDilationOrStride() {
        SplittableRandom r = new SplittableRandom(3);
        check(r, 1, 2, 2, 16, NeighborhoodParams.of(7, 7), new int[] {8, 8});
        check(r, 2, 1, 1, 13, new NeighborhoodParams(new int[] {3, 3, 3}, null, null, null, new int[] {3, 4, 5}, null), new int[] {3, 4, 5});
        check(r, 1, 2, 1, 13, NeighborhoodParams.of(3, 3, 3), new int[] {4, 4, 4});
        check(r, 1, 3, 1, 13, NeighborhoodParams.of(5), new int[] {37});
        // Long 1-D with a window longer than a key tile: several in-place tiles per query block.
        check(r, 1, 1, 1, 16, new NeighborhoodParams(new int[] {301}, null, null, null, new int[] {700}, null), new int[] {700});
        check(r, 1, 1, 1, 16, new NeighborhoodParams(new int[] {150}, new int[] {2}, new int[] {3}, new boolean[] {true}, new int[] {700}, null), new int[] {700});
    }

    @Test
    void wholeExtentKernelIsFullAttention() {
        SplittableRandom r = new SplittableRandom(4);
        int[][] grids = {{9}, {5, 7}, {3, 4, 5}};
        for (int[] grid : grids) {
            int n = prod(grid);
            Tensor q = VariantAssert.random(r, 2, 2, n, 13), k = VariantAssert.random(r, 2, 2, n, 13), v = VariantAssert.random(r, 2, 2, n, 13);
            Tensor full = Attention.sdpa(q, k, v, AttentionSpec.builder().kernel(KernelChoice.REFERENCE).build()).output();
            Tensor na = new NeighborhoodAttention(new NeighborhoodParams(grid, null, null, null, grid, null)).run(q, k, v, 2).output();
            VariantAssert.assertClose(full, na, 1e-5, 1e-5, "kernel = grid " + NeighborhoodParams.fmt(grid));
        }
    }

    @Test
    void everyQuerySeesExactlyProdKernelKeys() {
        SplittableRandom r = new SplittableRandom(5);
        int[][] grids = {{13}, {5, 7}, {8, 8}, {3, 4, 5}};
        for (int[] grid : grids) {
            int dims = grid.length;
            for (int trial = 0; trial < 10; trial++) {
                int[] k = new int[dims], dil = new int[dims], s = new int[dims];
                for (int a = 0; a < dims; a++) {
                    dil[a] = 1 + r.nextInt(Math.min(3, grid[a]));
                    k[a] = 1 + r.nextInt(grid[a] / dil[a]);
                    s[a] = 1 + r.nextInt(k[a]);
                }
                int n = prod(grid), want = prod(k);
                // The independent mask ...
                boolean[] m = denseMask(grid, k, dil, s, new boolean[dims]).data();
                // ... and the production pattern, counted through its block descriptions.
                NeighborhoodPattern pattern = new NeighborhoodAttention(new NeighborhoodParams(k, dil, s, null, grid, null)).pattern(n);
                int[] seen = new int[n];
                KeyBlock kb = new KeyBlock(pattern.maxBlockQueries(), pattern.maxBlockSpans());
                for (int blk = 0; blk < pattern.blocks(); blk++) {
                    kb.clear();
                    pattern.describe(blk, kb);
                    for (int c = 0; c < kb.queryCount(); c++) {
                        for (int sp = 0; sp < kb.spanCount(); sp++) seen[kb.query(c)] += Math.max(0, kb.hi(sp, c) - kb.lo(sp, c));
                    }
                }
                for (int i = 0; i < n; i++) {
                    int count = 0;
                    for (int j = 0; j < n; j++) if (m[i * n + j]) count++;
                    String what = "grid " + NeighborhoodParams.fmt(grid) + " kernel " + NeighborhoodParams.fmt(k) + " dilation "
                            + NeighborhoodParams.fmt(dil) + " stride " + NeighborhoodParams.fmt(s) + " query " + i;
                    assertEquals(want, count, what + " (reference mask)");
                    assertEquals(want, seen[i], what + " (pattern)");
                }
            }
        }
    }

    @Test
    void patternConstructorDefaultsNullDilationStrideCausal() {
        NeighborhoodPattern a = new NeighborhoodPattern(new int[] {5, 7}, new int[] {3, 3}, null, null, null, new int[] {2, 2});
        NeighborhoodPattern b = new NeighborhoodPattern(new int[] {5, 7}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new boolean[2], new int[] {2, 2});
        assertEquals(b.blocks(), a.blocks());
        SplittableRandom r = new SplittableRandom(9);
        Tensor q = VariantAssert.random(r, 1, 1, 35, 8);
        VariantAssert.assertClose(VariantAssert.reference(q, q, q, denseMask(new int[] {5, 7}, new int[] {3, 3}, new int[] {1, 1}, new int[] {1, 1}, new boolean[2]), null, null),
                org.attn4j.core.attention.SparseAttention.run(q, q, q, a, null, 1).output(), 1e-5, 1e-5, "null dilation/stride/causal");
    }

    /** The work follows the sparsity: executed FLOPs stay within a small factor of the visible pairs' (no dense fallback). */
    @Test
    void executedWorkIsProportionalToTheNeighbourhood() {
        SplittableRandom r = new SplittableRandom(7);
        int[][] grids = {{2048}, {32, 32}, {12, 12, 12}};
        int[][] kernels = {{64}, {7, 7}, {5, 5, 5}};
        double[] bound = {1.6, 2.8, 2.6};
        for (int i = 0; i < grids.length; i++) {
            int n = prod(grids[i]), d = 16;
            Tensor q = VariantAssert.random(r, 1, 2, n, d), k = VariantAssert.random(r, 1, 2, n, d), v = VariantAssert.random(r, 1, 2, n, d);
            long flops = new NeighborhoodAttention(new NeighborhoodParams(kernels[i], null, null, null, grids[i], null)).run(q, k, v, 2).flops();
            double useful = 2.0 * 2 * n * prod(kernels[i]) * (d + d);
            assertTrue(flops >= useful && flops <= bound[i] * useful, "grid " + NeighborhoodParams.fmt(grids[i]) + ": executed/useful = " + flops / useful);
        }
    }

    @Test
    void registryEntriesReadTheirSettings() {
        SplittableRandom r = new SplittableRandom(6);
        Tensor q = VariantAssert.random(r, 1, 2, 48, 16), k = VariantAssert.random(r, 1, 2, 48, 16), v = VariantAssert.random(r, 1, 2, 48, 16);
        NeighborhoodAttention na = (NeighborhoodAttention) VariantRegistry.create("neighborhood-2d",
                Settings.of("grid=6x8", "kernel=3x5", "dilation=2x1", "stride=1x2", "causal=false,true"), 7);
        assertEquals("neighborhood-2d", na.info().name());
        Tensor expected = VariantAssert.reference(q, k, v,
                denseMask(new int[] {6, 8}, new int[] {3, 5}, new int[] {2, 1}, new int[] {1, 2}, new boolean[] {false, true}), null, null);
        VariantAssert.assertClose(expected, na.run(q, k, v, 2).output(), 1e-5, 1e-5, "registry neighborhood-2d");
        assertEquals(3, VariantRegistry.create("neighborhood-3d", Settings.empty(), 1).info().name().charAt(13) - '0');
    }

    @Test
    void badParametersAreRejectedNamingTheField() {
        List<Object[]> bad = new ArrayList<>();
        bad.add(new Object[] {"kernel", (Runnable) () -> NeighborhoodParams.of(0)});
        bad.add(new Object[] {"kernel", (Runnable) () -> NeighborhoodParams.of(1, 2, 3, 4)});
        bad.add(new Object[] {"dilation", (Runnable) () -> new NeighborhoodParams(new int[] {3}, new int[] {0}, null, null, null, null)});
        bad.add(new Object[] {"stride", (Runnable) () -> new NeighborhoodParams(new int[] {3}, null, new int[] {4}, null, null, null)});
        bad.add(new Object[] {"stride", (Runnable) () -> new NeighborhoodParams(new int[] {3}, null, new int[] {0}, null, null, null)});
        bad.add(new Object[] {"causal", (Runnable) () -> new NeighborhoodParams(new int[] {3, 3}, null, null, new boolean[] {true}, null, null)});
        bad.add(new Object[] {"kernel", (Runnable) () -> new NeighborhoodParams(new int[] {5}, new int[] {2}, null, null, new int[] {9}, null)});
        bad.add(new Object[] {"grid", (Runnable) () -> new NeighborhoodParams(new int[] {3, 3}, null, null, null, new int[] {8}, null)});
        bad.add(new Object[] {"patch", (Runnable) () -> new NeighborhoodParams(new int[] {3}, null, null, null, null, new int[] {0})});
        bad.add(new Object[] {"grid", (Runnable) () -> NeighborhoodParams.of(3, 3).gridFor(50)});
        bad.add(new Object[] {"grid", (Runnable) () -> new NeighborhoodParams(new int[] {3, 3}, null, null, null, new int[] {4, 4}, null).gridFor(15)});
        bad.add(new Object[] {"kernel", (Runnable) () -> NeighborhoodParams.of(9, 9).gridFor(64)});
        bad.add(new Object[] {"causal", (Runnable) () -> VariantRegistry.create("neighborhood-2d", Settings.of("causal=maybe"), 1)});
        bad.add(new Object[] {"kernel", (Runnable) () -> VariantRegistry.create("neighborhood-2d", Settings.of("kernel=3x3x3"), 1)});
        Tensor t = Tensor.zeros(1, 1, 64, 4);
        bad.add(new Object[] {"threads", (Runnable) () -> new NeighborhoodAttention(NeighborhoodParams.of(3, 3)).run(t, t, t, -1)});
        bad.add(new Object[] {"threads", (Runnable) () -> new NeighborhoodAttention(NeighborhoodParams.of(3)).run(t, t, t, -1)});
        // The public pattern constructor checks the same fields (it divided by a zero patch, and took kernel > extent).
        int[] one = {1};
        bad.add(new Object[] {"patch", (Runnable) () -> new NeighborhoodPattern(new int[] {8}, new int[] {3}, one, one, new boolean[1], new int[] {0})});
        bad.add(new Object[] {"kernel", (Runnable) () -> new NeighborhoodPattern(new int[] {8}, new int[] {9}, one, one, new boolean[1], new int[] {4})});
        bad.add(new Object[] {"stride", (Runnable) () -> new NeighborhoodPattern(new int[] {8, 8}, new int[] {3, 3}, null, new int[] {1, 4}, null, new int[] {4, 4})});
        bad.add(new Object[] {"grid", (Runnable) () -> new NeighborhoodPattern(new int[] {8}, new int[] {3, 3}, null, null, null, new int[] {4, 4})});
        bad.add(new Object[] {"patch", (Runnable) () -> new NeighborhoodPattern(new int[] {8}, new int[] {3}, null, null, null, null)});
        for (Object[] c : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ((Runnable) c[1])::run);
            assertTrue(e.getMessage().startsWith((String) c[0] + ":"), "expected the message to name '" + c[0] + "': " + e.getMessage());
        }
    }
}
