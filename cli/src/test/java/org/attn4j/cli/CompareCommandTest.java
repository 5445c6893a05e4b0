package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attn4j compare}: the table from the runs' summaries, and re-running skips finished runs. */
class CompareCommandTest {
    @TempDir Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] MECHANISMS = {"full", "full:window=3"};

    static CliTest.Run compare(Path out, String... more) {
        List<String> a = new ArrayList<>(List.of("compare"));
        // Sequence 8 with vocabulary 10 (values drawn from 5 tokens) and a high rate, so that a dozen steps
        // give accuracies well above zero that differ between seeds: the spread has something to measure.
        a.addAll(TrainCommandTest.tiny("--attention", String.join(",", MECHANISMS), "--d-model", "16", "--seeds", "2",
                "--seq-len", "8", "--vocab", "10", "--steps", "12", "--lr", "1e-2", "--eval-every", "4", "--eval-batches", "4",
                "--out", out.toString()));
        a.addAll(List.of(more));
        return CliTest.run(a.toArray(String[]::new));
    }

    @Test
    void twoMechanismsTwoSeedsGiveMeanAndSdFromTheRunsAndRerunsSkipFinishedOnes() throws IOException {
        Path out = dir.resolve("cmp");
        CliTest.Run r = compare(out);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("4 runs: 4 trained, 0 finished earlier"), r.out());

        // the expected cells, computed here from the four runs' own summary files
        Map<String, double[]> accuracies = new HashMap<>(), losses = new HashMap<>();
        Map<Path, FileTime> stamps = new HashMap<>();
        for (String m : MECHANISMS) {
            double[] acc = new double[2], loss = new double[2];
            for (int seed = 0; seed < 2; seed++) {
                Path summary = out.resolve(m.replace(':', '_').replace('=', '-') + "-d16-s" + seed).resolve("summary.json");
                assertTrue(Files.exists(summary), summary + " missing");
                JsonNode s = JSON.readTree(summary.toFile());
                assertEquals(m, s.path("attention").asText());
                assertEquals(seed, s.path("seed").asInt());
                acc[seed] = s.path("final_accuracy").asDouble();
                loss[seed] = s.path("final_loss").asDouble();
                stamps.put(summary, Files.getLastModifiedTime(summary));
            }
            accuracies.put(m, acc);
            losses.put(m, loss);
        }
        assertTrue(accuracies.values().stream().anyMatch(acc -> acc[0] != acc[1]) && accuracies.values().stream().allMatch(acc -> acc[0] + acc[1] > 0),
                "the runs should differ, else the spread is not tested: " + accuracies.values().stream().map(java.util.Arrays::toString).toList());

        List<String> csv = Files.readAllLines(out.resolve("table.csv"));
        assertEquals(3, csv.size(), String.join("\n", csv));
        assertTrue(csv.get(0).startsWith("attention,d_model,seeds,accuracy_mean,accuracy_sd,loss_mean,loss_sd,"), csv.get(0));
        JsonNode table = JSON.readTree(out.resolve("table.json").toFile());
        assertEquals(2, table.path("rows").size());
        for (int i = 0; i < 2; i++) {
            String m = MECHANISMS[i];
            double a = accuracies.get(m)[0], b = accuracies.get(m)[1];
            double mean = (a + b) / 2, sd = Math.abs(a - b) / Math.sqrt(2); // sample sd of two values
            String[] cells = csv.get(i + 1).split(",");
            assertEquals(m, cells[0]);
            assertEquals("16", cells[1]);
            assertEquals("2", cells[2]);
            assertEquals(mean, Double.parseDouble(cells[3]), 1e-12, m + " mean");
            assertEquals(sd, Double.parseDouble(cells[4]), 1e-12, m + " sd");
            double la = losses.get(m)[0], lb = losses.get(m)[1];
            assertTrue(la > 0 && lb > 0 && la != lb, "the two seeds' held-out losses: " + la + ", " + lb);
            assertEquals((la + lb) / 2, Double.parseDouble(cells[5]), 1e-12, m + " loss mean");
            assertEquals(Math.abs(la - lb) / Math.sqrt(2), Double.parseDouble(cells[6]), 1e-12, m + " loss sd");
            JsonNode row = table.path("rows").get(i);
            assertEquals(m, row.path("attention").asText());
            assertEquals(mean, row.path("accuracy_mean").asDouble(), 1e-12);
            assertEquals(sd, row.path("accuracy_sd").asDouble(), 1e-12);
            assertEquals((la + lb) / 2, row.path("loss_mean").asDouble(), 1e-12);
            String md = String.format(java.util.Locale.ROOT, "| %s | 16 | 2 | %.1f ± %.1f %% | %.3f ± %.3f |", m, 100 * mean, 100 * sd,
                    (la + lb) / 2, Math.abs(la - lb) / Math.sqrt(2));
            assertTrue(r.out().contains(md), "printed table lacks " + md + ":\n" + r.out());
        }
        assertTrue(Files.readString(out.resolve("table.md")).equals(r.out().substring(0, r.out().indexOf("4 runs:"))));
        BufferedImage png = ImageIO.read(out.resolve("accuracy-vs-width.png").toFile());
        assertNotNull(png);
        assertTrue(TrainCommandTest.countColour(png, 0x0072B2) > 10 && TrainCommandTest.countColour(png, 0xD55E00) > 10, "both mechanisms drawn");
        String html = Files.readString(out.resolve("accuracy-vs-width.html"));
        assertTrue(html.contains("<svg") && html.contains("full:window=3") && !html.contains("<script"), html);

        // again: nothing retrained, the summaries untouched, the same table
        String csvBefore = Files.readString(out.resolve("table.csv"));
        List<String> accuracyColumns = accuracyColumns(out);
        CliTest.Run again = compare(out);
        assertEquals(0, again.code(), again.err());
        assertTrue(again.out().contains("4 runs: 0 trained, 4 finished earlier and reused"), again.out());
        for (Map.Entry<Path, FileTime> e : stamps.entrySet()) assertEquals(e.getValue(), Files.getLastModifiedTime(e.getKey()), e.getKey().toString());
        assertEquals(csvBefore, Files.readString(out.resolve("table.csv")));

        // other options do not reuse runs trained with these: refused before anything trains
        CliTest.Run other = compare(out, "--weight-decay", "0.01");
        assertEquals(2, other.code(), other.err());
        assertTrue(other.err().contains("--out") && other.err().contains("training.weight_decay"), other.err());
        for (Map.Entry<Path, FileTime> e : stamps.entrySet()) assertEquals(e.getValue(), Files.getLastModifiedTime(e.getKey()), e.getKey().toString());

        // an unfinished run (no summary, as after an interruption) is trained again, and only it
        Path unfinished = out.resolve("full-d16-s1");
        Files.delete(unfinished.resolve("summary.json"));
        CliTest.Run third = compare(out);
        assertEquals(0, third.code(), third.err());
        assertTrue(third.out().contains("4 runs: 1 trained, 3 finished earlier"), third.out());
        assertTrue(Files.exists(unfinished.resolve("summary.json")));
        assertEquals(accuracyColumns, accuracyColumns(out), "training is deterministic: the same seed gives the same accuracy");
    }

    /** Mechanism, width, seeds, accuracy mean and sd, runs reaching 99 %, steps to 99 %: the columns that do not depend on timing. */
    private static List<String> accuracyColumns(Path out) throws IOException {
        return Files.readAllLines(out.resolve("table.csv")).stream().map(l -> String.join(",", java.util.Arrays.copyOf(l.split(",", -1), 7))).toList();
    }

    @Test
    void everyCombinationIsCheckedBeforeAnyTrains() {
        Path out = dir.resolve("cmp");
        List<String> a = new ArrayList<>(List.of("compare"));
        a.addAll(TrainCommandTest.tiny("--attention", "full,nope", "--d-model", "16", "--seeds", "1", "--out", out.toString()));
        CliTest.Run r = CliTest.run(a.toArray(String[]::new));
        assertEquals(2, r.code());
        assertTrue(r.err().strip().startsWith("attn4j: error: --attention") && r.err().contains("nope"), r.err());
        assertFalse(Files.exists(out), "nothing trained or written");

        List<String> b = new ArrayList<>(List.of("compare"));
        b.addAll(TrainCommandTest.tiny("--attention", "full", "--d-model", "16,17", "--seeds", "1", "--out", out.toString()));
        CliTest.Run w = CliTest.run(b.toArray(String[]::new));
        assertEquals(2, w.code());
        assertTrue(w.err().contains("--heads") && w.err().contains("17"), w.err());
        assertFalse(Files.exists(out));
    }
}
