package org.attn4j.models.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer against the module's own reader, and the header it writes. */
class SafetensorsWriterTest {

    @Test
    void writesWhatTheReaderReadsBack(@TempDir Path dir) throws IOException {
        Random r = new Random(2);
        Map<String, SafetensorsWriter.Entry> t = new LinkedHashMap<>();
        int[][] shapes = {{3, 5}, {7}, {2, 3, 4}, {1}, {1, 1}};
        for (int i = 0; i < shapes.length; i++) {
            int n = 1;
            for (int d : shapes[i]) n *= d;
            float[] v = new float[n];
            for (int k = 0; k < n; k++) v[k] = (float) r.nextGaussian();
            if (i == 0) v[0] = Float.MIN_VALUE; // a subnormal survives the trip bit for bit
            t.put("t" + i, new SafetensorsWriter.Entry(v, shapes[i]));
        }
        Path f = dir.resolve("x.safetensors");
        SafetensorsWriter.write(f, t, Map.of("format", "pt"));
        ModelWeights w = SafetensorsWeights.readTensors(f);
        assertEquals(t.keySet(), w.names());
        for (var e : t.entrySet()) {
            assertArrayEquals(e.getValue().values(), w.get(e.getKey(), e.getValue().shape()).toArray(), e.getKey());
        }
        String header = SafetensorsWriter.header(f);
        JsonNode h = new ObjectMapper().readTree(header);
        assertEquals("pt", h.get("__metadata__").get("format").asText());
        assertEquals(0, (8 + header.length()) % 8, "data 8-byte aligned");
        assertEquals(0, h.get("t0").get("data_offsets").get(0).asInt());
        assertEquals(60, h.get("t0").get("data_offsets").get(1).asInt());
        assertEquals(60, h.get("t1").get("data_offsets").get(0).asInt());
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temporary file left behind");
        }
    }

    @Test
    void slicesOfOneArrayAreWrittenFromWhereTheyLie(@TempDir Path dir) throws IOException {
        // All parameters in one array, as training keeps them: each tensor is a slice at its offset.
        float[] all = new float[40];
        for (int i = 0; i < all.length; i++) all[i] = i * 0.5f - 7f;
        Map<String, SafetensorsWriter.Entry> t = new LinkedHashMap<>();
        t.put("a", new SafetensorsWriter.Entry(all, 0, new int[] {2, 3}));
        t.put("b", new SafetensorsWriter.Entry(all, 6, new int[] {10}));
        t.put("c", new SafetensorsWriter.Entry(all, 31, new int[] {3, 3}));
        Path f = dir.resolve("slices.safetensors");
        SafetensorsWriter.write(f, t, Map.of());
        ModelWeights w = SafetensorsWeights.readTensors(f);
        assertArrayEquals(java.util.Arrays.copyOfRange(all, 0, 6), w.get("a", new int[] {2, 3}).toArray());
        assertArrayEquals(java.util.Arrays.copyOfRange(all, 6, 16), w.get("b", new int[] {10}).toArray());
        assertArrayEquals(java.util.Arrays.copyOfRange(all, 31, 40), w.get("c", new int[] {3, 3}).toArray());
        assertEquals(4L * (6 + 10 + 9), Files.size(f) - 8 - SafetensorsWriter.header(f).length(), "only the slices' bytes are written");

        var past = assertThrows(IllegalArgumentException.class, () -> new SafetensorsWriter.Entry(all, 35, new int[] {2, 3}));
        assertEquals("values: shape [2, 3] from offset 35 needs elements [35, 41), the array has 40", past.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SafetensorsWriter.Entry(all, -1, new int[] {1}));
    }

    @Test
    void badEntriesAreNamed(@TempDir Path dir) {
        var e = assertThrows(IllegalArgumentException.class, () -> new SafetensorsWriter.Entry(new float[5], new int[] {2, 3}));
        assertTrue(e.getMessage().startsWith("shape:"), e.getMessage());
        var n = assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.write(dir.resolve("y"),
                Map.of("__metadata__", new SafetensorsWriter.Entry(new float[1], new int[] {1})), Map.of()));
        assertTrue(n.getMessage().startsWith("tensors:"), n.getMessage());
        assertFalse(Files.exists(dir.resolve("y")));
    }
}
