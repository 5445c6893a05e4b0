package org.attn4j.variants.recurrent;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantAssert;
import org.junit.jupiter.api.Test;

/** Review regressions: bad (b, h) and an N×N map too large for one array are clear errors. */
class MambaReviewTest {

    @Test
    void implicitAttentionRejectsOutOfRangeBatchAndHead() {
        // a view on the first batch entry of a larger buffer: b = 1 would silently read the next entry
        Tensor big = VariantAssert.random(new SplittableRandom(1), 2, 2, 5, 3);
        Tensor v = Tensor.view(big.toArray(), 0, new int[] {1, 2, 5, 3}, big.strides());
        MambaImplicitAttention m = new MambaImplicitAttention(new SelectiveSsmParams(2), 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.implicitAttention(v, 1, 0));
        assertTrue(e.getMessage().startsWith("b:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.implicitAttention(v, 0, 2));
        assertTrue(e.getMessage().startsWith("h:"), e.getMessage());
    }

    @Test
    void implicitAttentionTooLargeForOneArrayIsAClearError() {
        // C·N·N = 8·16384² = 2^31 floats: int arithmetic would overflow
        Tensor v = Tensor.view(new float[8], 0, new int[] {1, 1, 16384, 8}, new int[] {0, 0, 0, 1});
        MambaImplicitAttention m = new MambaImplicitAttention(new SelectiveSsmParams(1), 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.implicitAttention(v, 0, 0));
        assertTrue(e.getMessage().startsWith("v:"), e.getMessage());
    }
}
