package org.attn4j.bench.variants;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

class VariantBenchTest {

    private static VariantBench.Row row(String name, int n, double speedup) {
        return new VariantBench.Row(name, "L", false, false, n, 1, 1, speedup, speedup, 1, 1, 0, "");
    }

    @Test
    void crossoverTextMatchesTheMeasuredSpeedups() {
        var out = VariantBench.crossovers(List.of(
                row("up", 1024, 0.5), row("up", 4096, 2.0),
                row("always", 1024, 1.5), row("always", 4096, 3.0),
                row("never", 1024, 0.5), row("never", 4096, 0.9),
                row("drops", 1024, 1.5), row("drops", 4096, 0.5)), 1);
        assertTrue(out.get("up").startsWith("overtakes exact attention at N ≈ 2048"), out.get("up"));
        assertTrue(out.get("always").startsWith("faster than exact attention at every N"), out.get("always"));
        assertTrue(out.get("never").startsWith("slower than exact attention at every N"), out.get("never"));
        // faster at 1024 but slower at 4096: neither "every N" claim may be made
        assertFalse(out.get("drops").contains("every N"), out.get("drops"));
    }

    @Test
    void relativeErrorIsTheL2Ratio() {
        Tensor e = Tensor.of(new float[] {3, 4}, 1, 1, 1, 2), a = Tensor.of(new float[] {3, 5}, 1, 1, 1, 2);
        assertEquals(0.2, VariantBench.relativeError(e, a), 1e-12);
        assertTrue(Double.isNaN(VariantBench.relativeError(e, Tensor.of(new float[] {3}, 1, 1, 1, 1))));
    }
}
