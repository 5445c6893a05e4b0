package org.attn4j.variants;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Review regression: a trailing separator is a malformed list, not a single repeated value. */
class SettingsReviewTest {

    @Test
    void trailingSeparatorIsRejected() {
        for (String bad : new String[] {"grid=64x", "grid=64,", "grid=64x32x"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Settings.of(bad).integers("grid", 2, null), bad);
            assertTrue(e.getMessage().startsWith("grid:"), e.getMessage());
        }
    }
}
