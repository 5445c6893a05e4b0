package org.attn4j.variants.latent;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantAssert;
import org.junit.jupiter.api.Test;

/** Review regressions: logits(q, k, b, h) rejects an out-of-range (b, h) instead of reading past the view. */
class LowRankReviewTest {

    @Test
    void logitsRejectOutOfRangeBatchAndHead() {
        Tensor big = VariantAssert.random(new SplittableRandom(1), 2, 2, 5, 4);
        Tensor q = Tensor.view(big.toArray(), 0, new int[] {1, 2, 5, 4}, big.strides());
        LowRankHeads m = new LowRankHeads(new LowRankParams(2, null, false), 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.logits(q, q, 1, 0));
        assertTrue(e.getMessage().startsWith("b:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.logits(q, q, 0, -1));
        assertTrue(e.getMessage().startsWith("h:"), e.getMessage());
    }
}
