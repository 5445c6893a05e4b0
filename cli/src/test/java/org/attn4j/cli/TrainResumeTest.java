package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code attn4j train --resume} continues an interrupted run from its last checkpoint, and the curve
 * it records is the uninterrupted run's, bit for bit. Runs are separate JVMs stopped from outside
 * (SIGTERM, as Ctrl-C); the run is long ({@code --steps 100000}) so that it is always stopped mid-way
 * and the same learning-rate schedule applies to both, and the two curves are compared over the
 * steps both recorded.
 */
class TrainResumeTest {
    @TempDir Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();

    private static List<String> options(Path out) {
        return TrainCommandTest.tiny("--d-model", "16", "--steps", "100000", "--eval-every", "10", "--seed", "5", "--out", out.toString());
    }

    @Test
    void aResumedRunRecordsTheUninterruptedCurve() throws Exception {
        Path straight = dir.resolve("straight"), resumed = dir.resolve("resumed");
        runUntil(options(straight), straight, 70, false);

        runUntil(options(resumed), resumed, 25, true);
        assertFalse(Files.exists(resumed.resolve("summary.json")));
        List<String> again = new ArrayList<>(options(resumed));
        again.add("--resume");
        String log = runUntil(again, resumed, 70, false);
        assertTrue(log.contains("resuming"), log);

        List<JsonNode> a = lines(straight), b = lines(resumed);
        int n = Math.min(steps(a), steps(b));
        assertTrue(n >= 70, "steps compared: " + n);
        List<String> ca = curve(a, n), cb = curve(b, n);
        assertEquals(ca, cb, "the resumed run's losses, accuracies, rates and gradient norms equal the uninterrupted run's");
        for (int i = 0; i < steps(b); i++) {
            assertEquals(i + 1, b.stream().filter(x -> x.path("type").asText().equals("step")).toList().get(i).path("step").asInt(),
                    "every step once, in order, across the resume");
        }
    }

    @Test
    void resumeRefusesChangedOptionsNamingThem() throws Exception {
        Path run = dir.resolve("run");
        runUntil(options(run), run, 15, true);
        List<String> changed = new ArrayList<>(options(run));
        changed.addAll(List.of("--lr", "5e-3", "--resume"));
        CliTest.Run r = TrainCommandTest.train(changed);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--resume") && r.err().contains("training.lr"), r.err());
    }

    /**
     * Starts {@code attn4j train args} in its own JVM and stops it (SIGTERM) once {@code out} records
     * at least {@code steps} steps (and, with {@code checkpoint}, holds a checkpoint); returns its output.
     */
    private String runUntil(List<String> args, Path out, int steps, boolean checkpoint) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "org.attn4j.cli.Main", "train"));
        cmd.addAll(args);
        Path log = Files.createTempFile(dir, "log", ".txt");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (p.isAlive() && System.nanoTime() < deadline) {
                boolean enough = Files.exists(out.resolve("metrics.jsonl")) && steps(readQuietly(out)) >= steps;
                if (enough && (!checkpoint || Files.exists(out.resolve("checkpoints/latest")))) break;
                Thread.sleep(20);
            }
            assertTrue(p.isAlive(), "the run ended by itself: " + Files.readString(log));
        } finally {
            p.destroy();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the run did not stop");
        }
        return Files.readString(log);
    }

    private static List<JsonNode> readQuietly(Path run) {
        try {
            return lines(run);
        } catch (IOException e) {
            return List.of(); // being replaced at this moment
        }
    }

    private static List<JsonNode> lines(Path run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(run.resolve("metrics.jsonl"))) out.add(JSON.readTree(l));
        return out;
    }

    private static int steps(List<JsonNode> lines) {
        return (int) lines.stream().filter(n -> n.path("type").asText().equals("step")).count();
    }

    /** Steps 1..n and the evaluations among them, as text of everything but the wall-clock seconds. */
    private static List<String> curve(List<JsonNode> lines, int n) {
        List<String> out = new ArrayList<>();
        for (JsonNode l : lines) {
            if (l.path("step").asInt() > n) continue;
            out.add(l.path("type").asText() + " " + l.path("step").asInt() + " " + l.path("loss").asText() + " " + l.path("accuracy").asText()
                    + " " + l.path("lr").asText() + " " + l.path("grad_norm").asText() + " " + l.path("tokens").asText());
        }
        return out;
    }
}
