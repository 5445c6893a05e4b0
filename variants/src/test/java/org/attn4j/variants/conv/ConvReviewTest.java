package org.attn4j.variants.conv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantFactory;
import org.junit.jupiter.api.Test;

/** Review regression: grouped kv heads must not silently shrink the output to [B, Hkv, N, Dv]. */
class ConvReviewTest {

    @Test
    void groupedKvHeadsAreRejectedNotReturnedWithTheWrongShape() {
        SplittableRandom r = new SplittableRandom(3);
        Tensor q = VariantAssert.random(r, 1, 4, 9, 8), k = VariantAssert.random(r, 1, 2, 9, 8), v = VariantAssert.random(r, 1, 2, 9, 8);
        for (VariantFactory f : ConvVariants.factories()) {
            Variant var = f.create(Settings.empty(), 1);
            try {
                Tensor out = var.run(q, k, v, 1).output();
                assertArrayEquals(new int[] {1, 4, 9, 8}, out.shape(), f.info().name() + ": output must be [B, H, N, Dv]");
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().contains("kv heads"), e.getMessage());
            }
        }
        VariantAssert.assertRejects("k: this variant needs as many kv heads", () -> new LightweightConv(new ConvParams(3, 0, false), 1).run(q, k, v, 1));
    }
}
