package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.attn4j.core.io.Npy;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbedCommandTest {
    @TempDir Path dir;
    static Embedder model;

    @BeforeAll
    static void load() throws IOException {
        model = Embedder.load(Embedder.MINILM);
    }

    // The in-process runner every command test shares.
    static CliTest.Run run(String... args) {
        return CliTest.run(args);
    }

    @Test
    void jsonlRowsInInputOrderEqualTheLibrary() throws IOException {
        String longLine = "token ".repeat(700);
        List<String> lines = List.of("A cat sits on the mat.", "", "Ångström and 東京", longLine, "last line");
        Path in = dir.resolve("in.txt");
        Files.writeString(in, String.join("\r\n", lines) + "\n");
        Path out = dir.resolve("out.jsonl");
        CliTest.Run r = run("embed", "--input", in.toString(), "--out", out.toString(), "--batch", "2", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("1 line(s) longer than 512 tokens were truncated"), r.err());
        List<String> rows = Files.readAllLines(out);
        assertEquals(lines.size(), rows.size());
        float[][] expected = model.embed(lines);
        ObjectMapper om = new ObjectMapper();
        for (int i = 0; i < rows.size(); i++) {
            JsonNode n = om.readTree(rows.get(i));
            assertEquals(i, n.get("index").asInt());
            assertEquals(384, n.get("embedding").size());
            for (int c = 0; c < 384; c++) assertEquals(expected[i][c], (float) n.get("embedding").get(c).asDouble(), 1e-6);
        }
        CliTest.Run t256 = run("embed", "--input", in.toString(), "--out", dir.resolve("o2.jsonl").toString(), "--max-tokens", "256");
        assertTrue(t256.err().contains("longer than 256 tokens"), t256.err());
    }

    @Test
    void npyOutputIsLinesByDim() throws IOException {
        Path in = dir.resolve("in.txt");
        Files.writeString(in, "one\ntwo\nthree\n");
        Path out = dir.resolve("e.npy");
        assertEquals(0, run("embed", "--input", in.toString(), "--out", out.toString()).code());
        Tensor t = Npy.readFloat(out);
        assertEquals(3, t.dim(0));
        assertEquals(384, t.dim(1));
        float[] row1 = model.embed(List.of("two"))[0];
        for (int c = 0; c < 384; c++) assertEquals(row1[c], t.get(1, c), 1e-6);
    }

    @Test
    void invalidUtf8FailsWithTheLineNumberAndWritesNothing() throws IOException {
        Path in = dir.resolve("bad.txt");
        byte[] good = "fine\nalso fine\n".getBytes(StandardCharsets.UTF_8);
        byte[] bytes = new byte[good.length + 4];
        System.arraycopy(good, 0, bytes, 0, good.length);
        bytes[good.length] = 'x';
        bytes[good.length + 1] = (byte) 0xC3; // a lead byte followed by ASCII: malformed
        bytes[good.length + 2] = 'y';
        bytes[good.length + 3] = '\n';
        Files.write(in, bytes);
        Path out = dir.resolve("out.jsonl");
        CliTest.Run r = run("embed", "--input", in.toString(), "--out", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("invalid UTF-8 on line 3"), r.err());
        assertFalse(Files.exists(out));
        assertEquals(2, run("embed", "--input", in.toString(), "--format", "npy").code());
        assertEquals(2, run("embed", "--input", dir.resolve("missing.txt").toString()).code());
        assertEquals(2, run("embed", "--model", "no-such-model", "--input", in.toString()).code());
        assertEquals(2, run("embed", "--input", in.toString(), "--max-tokens", "1").code());
    }

    @Test
    void withoutInputItShowsTheExampleSimilarities() {
        CliTest.Run r = run("embed");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("cosine similarity") && r.out().contains("closest to [0]: [1]"), r.out());
    }
}
