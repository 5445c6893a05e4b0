package org.attn4j.cli;

import java.io.PrintWriter;
import java.util.Locale;
import org.attn4j.train.loop.Trainer;

/**
 * Progress of a training run on stderr: on a terminal, one bar redrawn in place (at most ten times a
 * second) with loss, accuracy, tokens/s and the time left; otherwise a plain line after every
 * evaluation, so logs stay readable.
 */
final class TrainingProgress {
    private final PrintWriter err;
    private final String label;
    private final long tokensPerStep;
    private final boolean bar;
    private final long start = System.nanoTime();
    private long lastDraw;
    private double lastEvalAccuracy = Double.NaN;

    TrainingProgress(PrintWriter err, String label, long tokensPerStep, boolean bar) {
        this.err = err;
        this.label = label;
        this.tokensPerStep = tokensPerStep;
        this.bar = bar;
    }

    /** Whether stderr is probably a terminal: the JVM has a console and it is interactive. */
    static boolean interactive() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    void update(Trainer.Progress p) {
        int done = p.step().step() + 1, total = p.totalSteps();
        if (p.eval() != null) lastEvalAccuracy = p.eval().accuracy();
        long now = System.nanoTime();
        double seconds = (now - start) / 1e9;
        double tokensPerSecond = done * tokensPerStep / Math.max(seconds, 1e-9);
        double eta = seconds / done * (total - done);
        String acc = Double.isNaN(lastEvalAccuracy)
                ? String.format(Locale.ROOT, "train acc %5.1f%%", 100 * p.step().accuracy())
                : String.format(Locale.ROOT, "held-out acc %5.1f%%", 100 * lastEvalAccuracy);
        String stats = String.format(Locale.ROOT, "%d/%d loss %.4f %s %s tok/s ETA %s", done, total, p.step().loss(), acc,
                compact(tokensPerSecond), duration(eta));
        if (bar) {
            if (now - lastDraw < 100_000_000L && done < total && p.eval() == null) return;
            lastDraw = now;
            int width = 24, filled = (int) ((long) width * done / total);
            err.print("\r" + label + " [" + "#".repeat(filled) + "-".repeat(width - filled) + "] " + stats + "\u001b[K");
            err.flush();
        } else if (p.eval() != null) {
            err.println(label + " step " + stats + String.format(Locale.ROOT, " (held-out loss %.4f)", p.eval().loss()));
            err.flush();
        }
    }

    /** Ends the bar's line. */
    void finish() {
        if (bar) {
            err.println();
            err.flush();
        }
    }

    static String compact(double v) {
        if (v >= 1e6) return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        if (v >= 1e3) return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        return String.format(Locale.ROOT, "%.0f", v);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60);
        if (s >= 60) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return s + "s";
    }
}
