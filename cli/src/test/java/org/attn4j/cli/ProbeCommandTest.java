package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeCommandTest {
    @TempDir Path dir;

    // The in-process runner every command test shares.
    static CliTest.Run run(String... args) {
        return CliTest.run(args);
    }

    Path jsonl(String name, int n, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        String[] filler = {"the", "meeting", "report", "today", "list", "again", "note", "project"};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            boolean pos = r.nextBoolean();
            StringBuilder t = new StringBuilder();
            for (int k = 0; k < 5; k++) t.append(filler[r.nextInt(filler.length)]).append(' ');
            t.append(pos ? "prize" : "agenda");
            sb.append("{\"text\": \"").append(t).append("\", \"label\": \"").append(pos ? "spam" : "ham").append("\"}\n");
        }
        Path p = dir.resolve(name);
        Files.writeString(p, sb);
        return p;
    }

    @Test
    void bagOfWordsOnJsonlNeedsNoEncoder() throws Exception {
        Path tr = jsonl("train.jsonl", 120, 1), ev = jsonl("eval.jsonl", 60, 2);
        CliTest.Run r = run("probe", "--train", tr.toString(), "--eval", ev.toString(), "--pooling", "bow", "--seeds", "2", "--steps", "150", "--lr", "0.05");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("| bow | 1.000 ± 0.000 |"), r.out());
    }

    @Test
    void badOptionsExit2WithOneLineNamingTheOption() throws Exception {
        Path tr = jsonl("train.jsonl", 10, 1);
        String[][] cases = {
            {"--pooling", "max", "--train", tr.toString(), "--eval", tr.toString()},
            {"--seeds", "0", "--train", tr.toString(), "--eval", tr.toString()},
            {"--lr", "-1", "--train", tr.toString(), "--eval", tr.toString()},
            {"--steps", "abc", "--train", tr.toString(), "--eval", tr.toString()},
            {"--train", tr.toString()},
            {"--dataset", "mnist", "--data", dir.toString()},
            {"--dataset", "spam-assassin", "--data", dir.toString()},
            {"--train", dir.resolve("missing.jsonl").toString(), "--eval", tr.toString()},
        };
        String[] named = {"--pooling", "--seeds", "--lr", "--steps", "--eval", "--dataset", "--data", "--train"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 1];
            args[0] = "probe";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            CliTest.Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains(named[i]), named[i] + " not named in: " + r.err());
        }
    }
}
