package org.attn4j.variants.heads;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantFactory;
import org.junit.jupiter.api.Test;

/** Every head variant reads strided views ([B, N, H, D] buffers permuted) like contiguous tensors. */
class HeadVariantsViewTest {

    private static Tensor asView(Tensor x) {
        int b = x.dim(0), h = x.dim(1), n = x.dim(2), d = x.dim(3);
        float[] buf = new float[b * n * h * d];
        for (int bi = 0; bi < b; bi++) for (int hi = 0; hi < h; hi++) for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) {
            buf[((bi * n + i) * h + hi) * d + c] = x.get(bi, hi, i, c);
        }
        return Tensor.of(buf, b, n, h, d).permute(0, 2, 1, 3);
    }

    @Test
    void stridedViewsGiveTheSameOutput() {
        SplittableRandom r = new SplittableRandom(71);
        Tensor q = Direct.random(r, 2, 4, 21, 13), k = Direct.random(r, 2, 4, 21, 13), v = Direct.random(r, 2, 4, 21, 9);
        int seen = 0;
        for (VariantFactory f : HeadVariants.factories()) {
            Tensor a = f.create(Settings.of("causal=true"), 4).run(q, k, v, 2).output();
            Tensor b = f.create(Settings.of("causal=true"), 4).run(asView(q), asView(k), asView(v), 1).output();
            assertArrayEquals(a.toArray(), b.toArray(), 1e-6f, f.info().name());
            seen++;
        }
        assertEquals(7, seen);
    }
}
