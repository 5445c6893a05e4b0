package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A training run stopped from outside (SIGTERM, as Ctrl-C's SIGINT) leaves valid metrics and no summary. */
class TrainInterruptTest {
    @TempDir Path dir;

    @Test
    void anInterruptedRunLeavesValidMetricsAPageAndNoSummary() throws Exception {
        Path out = dir.resolve("run");
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "org.attn4j.cli.Main", "train"));
        cmd.addAll(TrainCommandTest.tiny("--steps", "1000000", "--eval-every", "5", "--out", out.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile()).start();
        try {
            Path metrics = out.resolve("metrics.jsonl");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!(Files.exists(metrics) && Files.readAllLines(metrics).size() > 12) && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(50);
            assertTrue(p.isAlive(), "training ended early: " + Files.readString(dir.resolve("log.txt")));
            assertTrue(Files.exists(metrics), "no metrics after 60 s");
        } finally {
            p.destroy(); // SIGTERM: the JVM runs its shutdown hooks, as on Ctrl-C
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the run did not stop");
        }

        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        int step = 0;
        for (String l : lines) {
            JsonNode n = json.readTree(l); // every line whole
            if (n.path("type").asText().equals("step")) assertEquals(++step, n.path("step").asInt(), "steps in order, none missing");
        }
        assertTrue(step > 5, "steps recorded: " + step);
        assertFalse(Files.exists(out.resolve("summary.json")), "an interrupted run is not finished");
        assertTrue(Files.readString(out.resolve("report.html")).contains("Interrupted"));
        assertNotNull(ImageIO.read(out.resolve("curves.png").toFile()));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of("checkpoints", "config.json", "curves.png", "metrics.jsonl", "report.html"),
                    files.map(f -> f.getFileName().toString()).sorted().toList(), "no temporary files left");
        }
    }
}
