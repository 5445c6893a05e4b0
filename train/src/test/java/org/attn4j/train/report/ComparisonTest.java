package org.attn4j.train.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Grouping, mean ± sample sd, steps to 99 %, and the Markdown/CSV renderings, on hand-worked numbers. */
class ComparisonTest {
    private static RunOutcome run(String m, int w, long seed, double acc, int steps99, double wall) {
        return run(m, w, seed, acc, 2.0 + seed, steps99, wall);
    }

    private static RunOutcome run(String m, int w, long seed, double acc, double loss, int steps99, double wall) {
        return new RunOutcome(m, w, seed, acc, loss, steps99, wall, 1000 * (seed + 1), w * 10L);
    }

    @Test
    void groupsBySeedsAndComputesMeanAndSampleSd() {
        Comparison c = new Comparison(List.of(
                run("full", 64, 0, 1.00, 300, 10), run("full", 64, 1, 0.98, -1, 12), run("full", 64, 2, 0.99, 500, 14),
                run("linear", 64, 0, 0.50, -1, 5), run("linear", 64, 1, 0.70, -1, 7),
                run("full", 128, 0, 1.00, 200, 20)));
        assertEquals(3, c.rows().size());
        Comparison.Row full = c.rows().get(0);
        assertEquals("full", full.mechanism());
        assertEquals(64, full.width());
        assertEquals(3, full.runs());
        assertEquals(0.99, full.accuracyMean(), 1e-12);
        // deviations 0.01, -0.01, 0: sum of squares 2e-4, over n-1 = 2: variance 1e-4, sd 0.01
        assertEquals(0.01, full.accuracySd(), 1e-12);
        assertEquals(2, full.reached99());
        assertEquals(400, full.stepsTo99Mean(), 1e-12, "mean over the seeds that reached 99 % only");
        assertEquals(12, full.wallSecondsMean(), 1e-12);
        assertEquals(2000, full.tokensPerSecondMean(), 1e-9);
        assertEquals(640, full.parameters());
        assertEquals(3.0, full.lossMean(), 1e-12, "losses 2, 3, 4");
        assertEquals(1.0, full.lossSd(), 1e-12, "deviations -1, 0, 1: 2 / (3 - 1)");

        Comparison.Row linear = c.rows().get(1);
        assertEquals(0.6, linear.accuracyMean(), 1e-12);
        assertEquals(Math.sqrt(0.02), linear.accuracySd(), 1e-12); // deviations ±0.1: 0.02 / 1
        assertEquals(0, linear.reached99());
        assertTrue(Double.isNaN(linear.stepsTo99Mean()));

        Comparison.Row wide = c.rows().get(2);
        assertEquals(128, wide.width());
        assertEquals(0, wide.accuracySd(), "one seed: no spread");

        String md = c.markdown();
        assertTrue(md.contains("| full | 64 | 3 | 99.0 ± 1.0 % | 3.000 ± 1.000 | 400 (2/3) | 12.0 | 2000 | 640 |"), md);
        assertTrue(md.contains("| linear | 64 | 2 | 60.0 ± 14.1 % | 2.500 ± 0.707 | never (0/2) |"), md);
        assertTrue(md.contains("| full | 128 | 1 | 100.0 ± 0.0 % | 2.000 ± 0.000 | 200 | 20.0 |"), md);
        String[] csv = c.csv().split("\r\n");
        assertEquals(4, csv.length);
        assertTrue(csv[2].startsWith("linear,64,2,0.6,0.1414213562373"), csv[2]);
        assertTrue(csv[2].contains(",2.5,0.7071067811865"), "loss mean and sd: " + csv[2]);
        assertTrue(csv[2].contains(",0,,"), "no steps-to-99 value is an empty cell: " + csv[2]);
    }

    @Test
    void csvQuotesNamesWithCommasAndParameterCountsMustAgree() {
        Comparison c = new Comparison(List.of(run("a,\"b\"", 8, 0, 0.5, -1, 1)));
        assertTrue(c.csv().split("\r\n")[1].startsWith("\"a,\"\"b\"\"\",8,"), c.csv());
        assertThrows(IllegalArgumentException.class, () -> new Comparison(List.of(
                new RunOutcome("x", 8, 0, 0.5, 1, -1, 1, 1, 100), new RunOutcome("x", 8, 1, 0.5, 1, -1, 1, 1, 101))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new RunOutcome("x", 8, 0, 1.5, 1, -1, 1, 1, 1));
        assertTrue(e.getMessage().startsWith("finalAccuracy:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new RunOutcome("x", 8, 0, 0.5, Double.NaN, -1, 1, 1, 1));
        assertTrue(e.getMessage().startsWith("finalLoss:"), e.getMessage());
    }

    @Test
    void accuracyChartHasOneSeriesPerMechanismOrderedByWidth() {
        Comparison c = new Comparison(List.of(run("full", 128, 0, 1.0, 10, 1), run("full", 64, 0, 0.9, -1, 1), run("moba", 64, 0, 0.5, -1, 1)));
        Chart chart = c.accuracyByWidth("t");
        assertEquals(2, chart.series().size());
        Chart.Series full = chart.series().get(0);
        assertEquals("full", full.name());
        assertEquals(List.of(64.0, 128.0), java.util.Arrays.stream(full.x()).boxed().toList());
        assertEquals(List.of(0.9, 1.0), java.util.Arrays.stream(full.y()).boxed().toList());
    }
}
