package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Review regression: a causal chunk whose C × C block overflows int is a clear error naming chunk. */
class ChunkReviewTest {

    @Test
    void hugeChunkIsRejectedByName() {
        int n = 46341; // 46341² > 2^31 − 1
        Tensor x = Tensor.view(new float[1], 0, new int[] {1, 1, n, 1}, new int[] {0, 0, 0, 0});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LinearAttention(new LinearParams("elu1", true, n)).run(x, x, x, 1));
        assertTrue(e.getMessage().startsWith("chunk:"), e.getMessage());
    }
}
