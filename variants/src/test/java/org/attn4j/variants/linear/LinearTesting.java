package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantAssert;

/** Shared checks of the linear family tests. */
final class LinearTesting {
    private LinearTesting() {}

    /** Random shapes the tests sweep: {B, H, Hkv, N, D, Dv}; includes odd N, D = 13, N = 1, GQA. */
    static final int[][] SHAPES = {
            {1, 1, 1, 1, 13, 13},
            {2, 3, 3, 37, 13, 13},
            {1, 2, 2, 64, 16, 16},
            {2, 3, 1, 29, 13, 7},
            {1, 2, 2, 131, 8, 5},
    };

    static Tensor[] qkv(long seed, int b, int h, int hkv, int nq, int nk, int d, int dv) {
        SplittableRandom r = new SplittableRandom(seed);
        return new Tensor[] {VariantAssert.random(r, b, h, nq, d), VariantAssert.random(r, b, hkv, nk, d), VariantAssert.random(r, b, hkv, nk, dv)};
    }

    /**
     * Changing token j (its q, k and v) leaves every output row i &lt; j bit-for-bit unchanged,
     * for several j, in every head.
     */
    static void assertNoFutureLeak(Variant variant, Tensor q, Tensor k, Tensor v, String what) {
        int n = q.dim(2);
        float[] base = variant.run(q, k, v, 1).output().toArray();
        SplittableRandom r = new SplittableRandom(99);
        for (int j : new int[] {n - 1, n / 2, 1}) {
            if (j <= 0 || j >= n) continue;
            Tensor q2 = perturb(q, j, r), k2 = perturb(k, j, r), v2 = perturb(v, j, r);
            float[] changed = variant.run(q2, k2, v2, 1).output().toArray();
            int heads = q.dim(0) * q.dim(1), dv = v.dim(3);
            for (int hh = 0; hh < heads; hh++) {
                int from = hh * n * dv;
                float[] a = java.util.Arrays.copyOfRange(base, from, from + j * dv);
                float[] b = java.util.Arrays.copyOfRange(changed, from, from + j * dv);
                assertArrayEquals(a, b, what + ": token " + j + " leaked into earlier outputs of head " + hh);
            }
            // and the change is visible from j on (the test could otherwise pass vacuously)
            boolean differs = false;
            for (int hh = 0; hh < heads && !differs; hh++) {
                int at = (hh * n + j) * dv;
                for (int c = 0; c < dv; c++) differs |= base[at + c] != changed[at + c];
            }
            if (!differs) throw new AssertionError(what + ": changing token " + j + " did not change output " + j);
        }
    }

    /** A copy of t with token j of every (b, h) replaced by fresh N(0, 2²) values. */
    static Tensor perturb(Tensor t, int j, SplittableRandom r) {
        float[] x = t.contiguous().toArray().clone();
        int bh = t.dim(0) * t.dim(1), n = t.dim(2), d = t.dim(3);
        for (int i = 0; i < bh; i++) for (int c = 0; c < d; c++) x[(i * n + j) * d + c] = (float) (2 * VariantAssert.gaussian(r));
        return Tensor.of(x, t.shape());
    }

    /** Kv head read by query head h. */
    static int kvHead(Tensor q, Tensor k, int h) { return h / (q.dim(1) / k.dim(1)); }
}
