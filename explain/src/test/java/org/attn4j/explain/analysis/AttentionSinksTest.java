package org.attn4j.explain.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AttentionSinksTest {

    // The notes' example, as two heads of one layer.
    private static final double[][][][] EXAMPLE = {{
        {{1, 0, 0}, {.5, .5, 0}, {.2, .3, .5}},
        {{1, 0, 0}, {.1, .9, 0}, {.1, .1, .8}},
    }};

    @Test
    void meanReceived() {
        // Column means: head 1 [1.7, .8, .5] / 3, head 2 [1.2, 1.0, .8] / 3.
        double[][][] alpha = AttentionSinks.meanReceived(EXAMPLE);
        assertArrayEquals(new double[] {1.7 / 3, .8 / 3, .5 / 3}, alpha[0][0], 1e-12);
        assertArrayEquals(new double[] {1.2 / 3, 1.0 / 3, .8 / 3}, alpha[0][1], 1e-12);
    }

    @Test
    void sinkRates() {
        // ε = 0.3: token 0 .5667 and .4 both above -> 1.0; token 1 .2667 no, .3333 yes -> 0.5;
        // token 2 .1667 and .2667 -> 0.
        assertArrayEquals(new double[] {1.0, 0.5, 0.0}, AttentionSinks.sinkRates(EXAMPLE), 1e-12);
        // ε = 0.5: only head 1's token 0 (.5667) -> [0.5, 0, 0].
        assertArrayEquals(new double[] {0.5, 0.0, 0.0}, AttentionSinks.sinkRates(EXAMPLE, 0.5), 1e-12);
    }

    @Test
    void pairsAcrossLayersCountTheSame() {
        // The same two heads as one head in each of two layers: same rates.
        double[][][][] twoLayers = {{EXAMPLE[0][0]}, {EXAMPLE[0][1]}};
        assertArrayEquals(new double[] {1.0, 0.5, 0.0}, AttentionSinks.sinkRates(twoLayers), 1e-12);
    }

    @Test
    void rejectsBadInput() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttentionSinks.sinkRates(EXAMPLE, 1.5));
        assertTrue(e.getMessage().startsWith("epsilon: 1.5"), e.getMessage());
        double[][][][] mismatched = {{EXAMPLE[0][0]}, {{{1}}}};
        e = assertThrows(IllegalArgumentException.class, () -> AttentionSinks.sinkRates(mismatched));
        assertTrue(e.getMessage().startsWith("attention[1]: 1 tokens (expected 3"), e.getMessage());
    }
}
