package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.attn4j.train.loop.Trainer;
import org.junit.jupiter.api.Test;

/** The progress display: a bar redrawn in place on a terminal, plain lines at evaluations otherwise. */
class TrainingProgressTest {
    private static Trainer.Progress at(int step, int total, Trainer.Eval eval) {
        return new Trainer.Progress(new Trainer.Step(step, 2.5, 0.25, 1e-3f, 1.0), eval, total);
    }

    @Test
    void barRedrawsOneLineWithLossAccuracyThroughputAndEta() {
        StringWriter s = new StringWriter();
        TrainingProgress p = new TrainingProgress(new PrintWriter(s, true), "train", 100, true);
        p.update(at(0, 4, null));
        p.update(at(1, 4, new Trainer.Eval(2, 2.0, 0.5)));
        p.update(at(3, 4, null));
        p.finish();
        String out = s.toString();
        assertTrue(out.startsWith("\rtrain [######"), out);
        assertTrue(out.contains("1/4 loss 2.5000 train acc  25.0%"), out);
        assertTrue(out.contains("2/4 loss 2.5000 held-out acc  50.0%"), "after an evaluation the held-out accuracy is shown: " + out);
        assertTrue(out.contains("[########################] 4/4"), "the last step is always drawn: " + out);
        assertTrue(out.contains("tok/s ETA 0s"), out);
        assertEquals(1, out.chars().filter(c -> c == '\n').count(), "one line, ended once: " + out);
    }

    @Test
    void plainLinesOnlyAtEvaluations() {
        StringWriter s = new StringWriter();
        TrainingProgress p = new TrainingProgress(new PrintWriter(s, true), "run", 100, false);
        for (int i = 0; i < 6; i++) p.update(at(i, 6, (i + 1) % 3 == 0 ? new Trainer.Eval(i + 1, 1.5, 0.75) : null));
        p.finish();
        String[] lines = s.toString().split("\n");
        assertEquals(2, lines.length, s.toString());
        assertTrue(lines[0].startsWith("run step 3/6 loss 2.5000 held-out acc  75.0%") && lines[0].endsWith("(held-out loss 1.5000)"), lines[0]);
        assertFalse(s.toString().contains("\r"));
    }

    @Test
    void compactNumbersAndDurations() {
        assertEquals("950", TrainingProgress.compact(950));
        assertEquals("12.3k", TrainingProgress.compact(12_345));
        assertEquals("1.50M", TrainingProgress.compact(1_500_000));
        assertEquals("59s", TrainingProgress.duration(59.4));
        assertEquals("2m05s", TrainingProgress.duration(125));
        assertEquals("3h02m", TrainingProgress.duration(3 * 3600 + 125));
    }
}
