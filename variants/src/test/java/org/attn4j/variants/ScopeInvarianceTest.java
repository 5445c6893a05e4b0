package org.attn4j.variants;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Cross-cutting contract checks for the linear, recurrent, latent, heads, efficient and conv
 * packages: a strided view ([B, N, H, D] buffer with an offset, permuted) gives the same output as
 * the contiguous tensor at another thread count; large logits stay finite; grouped kv heads either
 * give [B, H, Nq, Dv] or an IllegalArgumentException.
 */
class ScopeInvarianceTest {

    private static List<VariantFactory> factories() {
        List<VariantFactory> l = new ArrayList<>();
        l.addAll(org.attn4j.variants.linear.LinearVariants.factories());
        l.addAll(org.attn4j.variants.recurrent.RecurrentVariants.factories());
        l.addAll(org.attn4j.variants.latent.LatentVariants.factories());
        l.addAll(org.attn4j.variants.heads.HeadVariants.factories());
        l.addAll(org.attn4j.variants.better.BetterAttentionVariants.factories());
        l.addAll(org.attn4j.variants.conv.ConvVariants.factories());
        return l;
    }

    private static Tensor asView(Tensor x) {
        int b = x.dim(0), h = x.dim(1), n = x.dim(2), d = x.dim(3);
        float[] buf = new float[b * n * h * d + 7];
        for (int bi = 0; bi < b; bi++) for (int hi = 0; hi < h; hi++) for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) {
            buf[7 + ((bi * n + i) * h + hi) * d + c] = x.get(bi, hi, i, c);
        }
        return Tensor.view(buf, 7, new int[] {b, h, n, d}, new int[] {n * h * d, d, h * d, 1});
    }

    private static Tensor scaled(Tensor x, float s) {
        float[] a = x.toArray();
        for (int i = 0; i < a.length; i++) a[i] *= s;
        return Tensor.of(a, x.shape());
    }

    /** causal=c when the variant takes it; null when it has no causal setting. */
    private static Settings settings(VariantFactory f, boolean causal) {
        try {
            f.create(Settings.of("causal=" + causal), 1);
            return Settings.of("causal=" + causal);
        } catch (IllegalArgumentException e) {
            return causal ? null : Settings.empty();
        }
    }

    @Test
    void viewsThreadsLargeLogitsAndGroupedHeads() {
        SplittableRandom r = new SplittableRandom(5);
        int seen = 0;
        for (VariantFactory f : factories()) {
            for (boolean causal : new boolean[] {false, true}) {
                if (settings(f, causal) == null) continue;
                String what = f.info().name() + " causal=" + causal;
                Tensor q = VariantAssert.random(r, 2, 4, 70, 12), k = VariantAssert.random(r, 2, 4, 70, 12), v = VariantAssert.random(r, 2, 4, 70, 12);
                float[] a = f.create(settings(f, causal), 3).run(q, k, v, 1).output().toArray();
                float[] b = f.create(settings(f, causal), 3).run(asView(q), asView(k), asView(v), 3).output().toArray();
                assertArrayEquals(a, b, 1e-5f, what + ": strided view at 3 threads vs contiguous at 1");
                for (float x : f.create(settings(f, causal), 3).run(scaled(q, 100), scaled(k, 100), v, 2).output().toArray()) {
                    assertTrue(Float.isFinite(x), what + ": non-finite output for |q|, |k| ~ 100");
                }
                Tensor kg = VariantAssert.random(r, 2, 2, 70, 12), vg = VariantAssert.random(r, 2, 2, 70, 12);
                try {
                    Tensor out = f.create(settings(f, causal), 3).run(q, kg, vg, 2).output();
                    assertArrayEquals(new int[] {2, 4, 70, 12}, out.shape(), what + ": grouped kv heads must still give [B, H, Nq, Dv]");
                } catch (IllegalArgumentException expected) {
                    // rejecting grouped kv heads is allowed
                }
                seen++;
            }
        }
        assertTrue(seen >= 30, "variants checked: " + seen);
    }
}
