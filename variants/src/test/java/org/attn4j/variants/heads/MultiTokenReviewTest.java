package org.attn4j.variants.heads;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.heads.MultiTokenParams.Where;
import org.junit.jupiter.api.Test;

/** Review regression: head-mix=none must accept any H, whatever head-group says. */
class MultiTokenReviewTest {

    @Test
    void noHeadMixingAcceptsHeadCountsThatTheGroupDoesNotDivide() {
        SplittableRandom r = new SplittableRandom(8);
        Tensor q = Direct.random(r, 1, 3, 10, 8), k = Direct.random(r, 1, 3, 10, 8), v = Direct.random(r, 1, 3, 10, 8);
        MultiTokenParams p = new MultiTokenParams(true, 0, 2, 3, Where.PRE, 2, Where.NONE, false, 0.1);
        Tensor out = new MultiTokenAttention(p, 5).run(q, k, v, 1).output();
        for (float x : out.toArray()) assertTrue(Float.isFinite(x));
        // Without head mixing the group size plays no part: the output is the one with groups of 1 (and of 3).
        for (int group : new int[] {1, 3}) {
            MultiTokenParams same = new MultiTokenParams(true, 0, 2, 3, Where.PRE, group, Where.NONE, false, 0.1);
            assertArrayEquals(new MultiTokenAttention(same, 5).run(q, k, v, 1).output().toArray(), out.toArray(), "head-group " + group);
        }
    }
}
