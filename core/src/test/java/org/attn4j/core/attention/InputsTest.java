package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The comparison every kernel test relies on must not pass what it cannot compare. */
class InputsTest {

    @Test
    void aNaNOnEitherSideFails() {
        AssertionError expectedNaN = assertThrows(AssertionError.class,
                () -> Inputs.assertClose("out", new float[] {1f, Float.NaN}, new float[] {1f, 2f}, 1e-3, 1e-3));
        assertTrue(expectedNaN.getMessage().contains("out") && expectedNaN.getMessage().contains("NaN"), expectedNaN.getMessage());
        assertThrows(AssertionError.class, () -> Inputs.assertClose("out", new float[] {1f, 2f}, new float[] {1f, Float.NaN}, 1e-3, 1e-3));
        assertThrows(AssertionError.class, () -> Inputs.assertClose("out", new float[] {Float.NaN}, new float[] {Float.NaN}, 1e-3, 1e-3));
    }

    @Test
    void infinitiesMustMatchExactlyAndFiniteValuesWithinTolerance() {
        assertDoesNotThrow(() -> Inputs.assertClose("lse", new float[] {Float.NEGATIVE_INFINITY, 1f}, new float[] {Float.NEGATIVE_INFINITY, 1.0005f}, 1e-3, 0));
        assertThrows(AssertionError.class, () -> Inputs.assertClose("lse", new float[] {Float.NEGATIVE_INFINITY}, new float[] {-1e30f}, 1e-3, 0));
        assertThrows(AssertionError.class, () -> Inputs.assertClose("out", new float[] {1f}, new float[] {1.01f}, 1e-3, 1e-3));
        assertThrows(AssertionError.class, () -> Inputs.assertClose("out", new float[] {1f, 2f}, new float[] {1f}, 1e-3, 1e-3));
    }
}
