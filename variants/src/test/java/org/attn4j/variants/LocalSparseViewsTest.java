package org.attn4j.variants;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The neighbourhood, local, content-sparse and bias variants (defaults and non-default settings that
 * take other code paths) read strided views like contiguous tensors — [B, N, H, D] buffers permuted
 * to [B, H, N, D], and [B, H, D, N] buffers whose feature axis is not contiguous — give the same
 * output at 1 and 3 threads, and stay finite for logits of order ±1e4.
 */
class LocalSparseViewsTest {

    private static List<Object[]> cases() {
        List<Object[]> c = new ArrayList<>();
        List<VariantFactory> all = new ArrayList<>();
        all.addAll(org.attn4j.variants.neighborhood.NeighborhoodVariants.factories());
        all.addAll(org.attn4j.variants.local.LocalVariants.factories());
        all.addAll(org.attn4j.variants.contentsparse.ContentSparseVariants.factories());
        all.addAll(org.attn4j.variants.bias.BiasVariants.factories());
        for (VariantFactory f : all) c.add(new Object[] {f, new String[0]});
        String[][] extra = {
            {"neighborhood-1d", "kernel=5", "dilation=2", "stride=2", "causal=true"},
            {"neighborhood-2d", "kernel=3x5", "dilation=2x1", "causal=false,true"},
            {"neighborhood-2d", "grid=4x16", "kernel=3x7"},
            {"neighborhood-3d", "kernel=3", "stride=2x1x2"},
            {"halo", "block=3", "halo=2", "padding=zero"},
            {"halo", "dims=1", "block=5", "halo=3"},
            {"cswin", "stripe=3", "lepe=false"},
            {"sf-attn-sink", "group=10", "sinks=3", "causal=false"},
            {"luong-global", "score=concat"},
            {"luong-local-m", "score=general", "window=4"},
            {"luong-local-p", "score=dot", "window=5"},
            {"moba", "block=8", "topk=3"},
            {"dynamic-mask", "topk=20", "causal=false"},
            {"dynamic-mask", "topk=9"},
            {"routing", "clusters=5", "balanced=true", "causal=false"},
            {"tca-attention", "block=16", "topk=20", "threshold=0.8", "causal=false"},
            {"tca-attention", "block=8", "topk=12"},
            {"flashbias", "causal=false", "block=16"},
            {"flashbias", "bias=dense-svd", "rank=4"},
            {"relative-position", "causal=false", "max-distance=9", "block=20"},
        };
        for (String[] e : extra) {
            VariantFactory f = all.stream().filter(x -> x.info().name().equals(e[0])).findFirst().orElseThrow();
            c.add(new Object[] {f, java.util.Arrays.copyOfRange(e, 1, e.length)});
        }
        return c;
    }

    private static Tensor rowPermuted(Tensor t) {
        int b = t.dim(0), h = t.dim(1), n = t.dim(2), d = t.dim(3);
        Tensor buf = Tensor.zeros(b, n, h, d);
        for (int i = 0; i < b; i++) for (int j = 0; j < h; j++) for (int x = 0; x < n; x++) for (int y = 0; y < d; y++) buf.set(t.get(i, j, x, y), i, x, j, y);
        return buf.permute(0, 2, 1, 3);
    }

    private static Tensor columnStrided(Tensor t) {
        int b = t.dim(0), h = t.dim(1), n = t.dim(2), d = t.dim(3);
        Tensor buf = Tensor.zeros(b, h, d, n);
        for (int i = 0; i < b; i++) for (int j = 0; j < h; j++) for (int x = 0; x < n; x++) for (int y = 0; y < d; y++) buf.set(t.get(i, j, x, y), i, j, y, x);
        return buf.permute(0, 1, 3, 2);
    }

    private static Tensor scaled(Tensor t, float s) {
        float[] x = t.toArray();
        for (int i = 0; i < x.length; i++) x[i] *= s;
        return Tensor.of(x, t.shape());
    }

    @TestFactory
    Iterable<DynamicTest> viewsThreadsAndExtremeLogits() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Object[] c : cases()) {
            VariantFactory f = (VariantFactory) c[0];
            String[] set = (String[]) c[1];
            String name = f.info().name() + " " + String.join(" ", set);
            tests.add(DynamicTest.dynamicTest(name, () -> {
                SplittableRandom r = new SplittableRandom(41);
                int n = 64, d = 12, dv = 10;
                // FlashBias folds the bias into extra head dimensions and needs Hkv = H; the others take GQA.
                int hkv = f.info().name().equals("flashbias") ? 4 : 2;
                Tensor q = VariantAssert.random(r, 2, 4, n, d), k = VariantAssert.random(r, 2, hkv, n, d), v = VariantAssert.random(r, 2, hkv, n, dv);
                Variant var = f.create(Settings.of(set), 5);
                float[] base = var.run(q, k, v, 1).output().toArray();
                for (float x : base) assertTrue(Float.isFinite(x), name + ": " + x);
                assertArrayEquals(base, var.run(q, k, v, 3).output().toArray(), 1e-6f, name + ": 1 vs 3 threads");
                assertArrayEquals(base, var.run(rowPermuted(q), rowPermuted(k), rowPermuted(v), 2).output().toArray(), 1e-6f, name + ": [B,N,H,D] views");
                assertArrayEquals(base, var.run(columnStrided(q), columnStrided(k), columnStrided(v), 2).output().toArray(), 1e-6f, name + ": [B,H,D,N] views");
                // q, k ~ N(0, 50²): logits scale·q·k of order 1e4.
                float[] big = var.run(scaled(q, 50), scaled(k, 50), v, 2).output().toArray();
                for (float x : big) assertTrue(Float.isFinite(x), name + ": extreme logits gave " + x);
            }));
        }
        return tests;
    }
}
