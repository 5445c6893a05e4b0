package org.attn4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.attn4j.models.tokenizer.Encoding;

/** Assertions shared by the embedding tests. */
public final class EmbeddingChecks {
    private EmbeddingChecks() {}

    /** Writes {@code texts} one per line; the lines numbered in {@code badLines} get an invalid UTF-8 byte sequence instead. */
    public static Path textFile(Path dir, List<String> texts, Set<Integer> badLines) throws IOException {
        Path p = dir.resolve("corpus.txt");
        ByteBuffer buf = ByteBuffer.allocate(texts.stream().mapToInt(t -> t.getBytes(StandardCharsets.UTF_8).length + 8).sum());
        for (int i = 0; i < texts.size(); i++) {
            if (badLines.contains(i)) buf.put(new byte[] {'b', 'a', 'd', (byte) 0xC3, (byte) 0x28});
            else buf.put(texts.get(i).getBytes(StandardCharsets.UTF_8));
            buf.put((byte) '\n');
        }
        Files.write(p, java.util.Arrays.copyOf(buf.array(), buf.position()));
        return p;
    }

    /**
     * Every id 0..texts.size()-1 exactly once; rows in {@code badLines} are error rows; every other
     * row's embedding equals the offline embedder's within 1e-5, with its token count and truncation.
     */
    public static void assertMatchesOffline(List<Row> rows, List<String> texts, Set<Integer> badLines, Integer maxTokens) {
        float[][] expected = Offline.embed(texts, maxTokens);
        Map<Long, Row> byId = new HashMap<>();
        for (Row r : rows) {
            long id = ((Number) r.getAs("id")).longValue();
            if (byId.put(id, r) != null) fail("id " + id + " appears more than once");
        }
        assertEquals(texts.size(), rows.size(), "row count");
        assertEquals(texts.size(), byId.size(), "distinct ids");
        for (int i = 0; i < texts.size(); i++) {
            Row r = byId.get((long) i);
            assertNotNull(r, "id " + i + " missing");
            if (badLines.contains(i)) {
                assertNull(r.getAs("embedding"), "id " + i + ": an error row has no embedding");
                String err = r.getAs("error");
                assertNotNull(err, "id " + i + ": error column");
                assertTrue(err.contains("invalid UTF-8") || err.contains("null text"), err);
                continue;
            }
            assertNull(r.getAs("error"), "id " + i);
            assertEquals(texts.get(i), r.getAs("text"), "id " + i + " text");
            float[] got = floats(r.getAs("embedding"));
            assertEquals(expected[i].length, got.length, "id " + i + " dimension");
            for (int c = 0; c < got.length; c++) {
                if (Math.abs(got[c] - expected[i][c]) > 1e-5f) fail("id " + i + " component " + c + ": expected " + expected[i][c] + ", got " + got[c]);
            }
            Encoding enc = Offline.encode(texts.get(i), maxTokens);
            assertEquals(enc.length(), ((Number) r.getAs("tokens")).intValue(), "id " + i + " tokens");
            assertEquals(enc.truncated(), r.getAs("truncated"), "id " + i + " truncated");
        }
    }

    /** An array<float> column's value as Spark hands it back (a Scala Seq, or a Java array/list). */
    public static float[] floats(Object v) {
        if (v instanceof float[] f) return f;
        List<?> list = v instanceof scala.collection.Seq<?> s ? scala.jdk.javaapi.CollectionConverters.asJava(s) : (List<?>) v;
        float[] out = new float[list.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) list.get(i)).floatValue();
        return out;
    }
}
