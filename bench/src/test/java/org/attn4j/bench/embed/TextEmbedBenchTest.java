package org.attn4j.bench.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextEmbedBenchTest {

    @Test
    void minCosineIsTheWorstRow() {
        float[][] a = {{1, 0}, {0, 2}, {3, 4}};
        assertEquals(1.0, TextEmbedBench.minCosine(a, a), 1e-12);
        float[][] b = {{2, 0}, {1, 1}, {3, 4}};            // row 1 at 45 degrees, the others parallel
        assertEquals(Math.sqrt(0.5), TextEmbedBench.minCosine(a, b), 1e-7);
        float[][] c = {{0, 1}, {0, 2}, {3, 4}};             // row 0 orthogonal
        assertEquals(0.0, TextEmbedBench.minCosine(a, c), 1e-12);
        assertThrows(IllegalStateException.class, () -> TextEmbedBench.minCosine(a, new float[2][2]));
    }

    @Test
    void attn4jAloneGivesOneRowPerThreadCount() throws IOException {
        var o = new TextEmbedBench.Options(new int[] {1}, 2, false, 0, 0.05, 1);
        List<TextEmbedBench.Row> rows = new TextEmbedBench(m -> {}).run(List.of("A cat.", "A dog runs in the park.", "Hi"), o);
        assertEquals(1, rows.size());
        TextEmbedBench.Row r = rows.get(0);
        assertEquals(3, r.texts());
        assertTrue(r.medianMs() > 0 && Math.abs(r.textsPerSecond() - 3000 / r.medianMs()) < 1e-9, r.toString());
        assertTrue(TextEmbedBench.table(rows).contains("attn4j all-minilm-l6-v2"), TextEmbedBench.table(rows));
    }

    @Test
    void badOptionsNameTheOption() {
        var e = assertThrows(IllegalArgumentException.class, () -> new TextEmbedBench.Options(new int[] {0}, 32, false, 1, 1, 1));
        assertEquals("threads: expected counts >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TextEmbedBench.Options(new int[] {1}, 0, false, 1, 1, 1));
        assertEquals("batch: expected >= 1, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new TextEmbedBench(m -> {}).run(List.of(), new TextEmbedBench.Options(new int[] {1}, 1, false, 0, 1, 1)));
        assertEquals("texts: expected at least one text", e.getMessage());
    }
}
