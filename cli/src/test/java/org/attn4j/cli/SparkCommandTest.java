package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `attn4j spark` rejects bad arguments by name before any Spark session starts (and writes nothing). */
class SparkCommandTest {
    private static String run(int expectedExit, String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(expectedExit, Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        return err.toString();
    }

    @Test
    void embedArgumentsAreCheckedFirst(@TempDir Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("in.txt"), "a\n");
        String out = dir.resolve("out").toString();
        assertTrue(run(2, "spark", "embed", "--input", in.toString(), "--output", out, "--batch", "0").contains("--batch: expected >= 1, got 0"));
        assertTrue(run(2, "spark", "embed", "--input", in.toString(), "--output", out, "--format", "csv")
                .contains("--format: expected parquet or jsonl, got 'csv'"));
        assertTrue(run(2, "spark", "embed", "--input", in.toString(), "--output", out, "--input-format", "xml")
                .contains("--input-format: expected text, jsonl or parquet, got 'xml'"));
        assertTrue(run(2, "spark", "embed", "--input", dir.resolve("missing.txt").toString(), "--output", out).contains("--input: "));
        assertTrue(run(2, "spark", "embed", "--input", in.toString(), "--output", dir.toString()).contains("already exists (nothing was written)"));
        assertTrue(!Files.exists(dir.resolve("out")));
    }

    @Test
    void sdpaNamesAMissingFile(@TempDir Path dir) {
        String err = run(2, "spark", "sdpa", "--q", dir.resolve("q.npy").toString(), "--k", "k.npy", "--v", "v.npy", "--out", dir.resolve("o.npy").toString());
        assertTrue(err.contains("--q"), err);
    }
}
