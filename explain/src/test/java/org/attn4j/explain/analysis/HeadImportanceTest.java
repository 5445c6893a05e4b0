package org.attn4j.explain.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HeadImportanceTest {

    @Test
    void notesExample() {
        // [3, 4] / 5 = [.6, .8]; [1, 1] / √2 = [.70711, .70711].
        double[][] out = HeadImportance.normalisePerLayer(new double[][] {{3, 4}, {1, 1}});
        assertArrayEquals(new double[] {.6, .8}, out[0], 1e-12);
        assertArrayEquals(new double[] {.70711, .70711}, out[1], 1e-5);
    }

    @Test
    void zeroLayerStaysZeroAndInputIsUntouched() {
        double[][] raw = {{0, 0, 0}, {2}};
        double[][] out = HeadImportance.normalisePerLayer(raw);
        assertArrayEquals(new double[] {0, 0, 0}, out[0], 0);
        assertArrayEquals(new double[] {1}, out[1], 0);
        assertArrayEquals(new double[] {2}, raw[1], 0);
    }

    @Test
    void rejectsNonFinite() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HeadImportance.normalisePerLayer(new double[][] {{1, Double.NaN}}));
        assertTrue(e.getMessage().startsWith("raw[0][1]: NaN"), e.getMessage());
    }
}
