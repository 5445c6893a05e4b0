package org.attn4j.train.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Runs grouped by (mechanism, width) over their seeds: the table {@code attn4j compare} prints and
 * the accuracy-against-width chart (one line per mechanism, as in Zoology's Figure 2).
 *
 * <p>Spread is the sample standard deviation (n − 1 in the denominator; 0 for a single run).
 */
public final class Comparison {

    /**
     * One (mechanism, width) cell.
     *
     * @param runs              seeds aggregated
     * @param accuracyMean      mean final held-out accuracy
     * @param accuracySd        its sample standard deviation
     * @param lossMean          mean final held-out loss (nats)
     * @param lossSd            its sample standard deviation
     * @param reached99         runs that reached 99 % held-out accuracy
     * @param stepsTo99Mean     mean steps to 99 % over the runs that reached it (NaN if none did)
     * @param wallSecondsMean   mean wall time per run
     * @param tokensPerSecondMean mean training throughput
     * @param parameters        parameter count (the same for every seed)
     */
    public record Row(String mechanism, int width, int runs, double accuracyMean, double accuracySd, double lossMean, double lossSd, int reached99,
                      double stepsTo99Mean, double wallSecondsMean, double tokensPerSecondMean, long parameters) {}

    private final List<Row> rows;

    /** Groups {@code outcomes}; rows keep the order in which each (mechanism, width) first appears. */
    public Comparison(List<RunOutcome> outcomes) {
        Map<String, List<RunOutcome>> groups = new LinkedHashMap<>();
        for (RunOutcome o : outcomes) groups.computeIfAbsent(o.mechanism() + "\u0000" + o.width(), k -> new ArrayList<>()).add(o);
        List<Row> out = new ArrayList<>();
        for (List<RunOutcome> g : groups.values()) {
            RunOutcome first = g.get(0);
            for (RunOutcome o : g) {
                if (o.parameters() != first.parameters()) {
                    throw new IllegalArgumentException("parameters: runs of " + first.mechanism() + " at width " + first.width()
                            + " disagree (" + first.parameters() + " vs " + o.parameters() + ")");
                }
            }
            double[] acc = g.stream().mapToDouble(RunOutcome::finalAccuracy).toArray();
            double[] loss = g.stream().mapToDouble(RunOutcome::finalLoss).toArray();
            double[] steps = g.stream().filter(o -> o.stepsTo99() > 0).mapToDouble(RunOutcome::stepsTo99).toArray();
            out.add(new Row(first.mechanism(), first.width(), g.size(), mean(acc), sampleSd(acc), mean(loss), sampleSd(loss), steps.length,
                    steps.length == 0 ? Double.NaN : mean(steps),
                    mean(g.stream().mapToDouble(RunOutcome::wallSeconds).toArray()),
                    mean(g.stream().mapToDouble(RunOutcome::tokensPerSecond).toArray()), first.parameters()));
        }
        this.rows = List.copyOf(out);
    }

    public List<Row> rows() { return rows; }

    public static double mean(double[] v) {
        if (v.length == 0) throw new IllegalArgumentException("values: expected at least one, got none");
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    /** Sample standard deviation (Bessel's n − 1); 0 for one value. */
    public static double sampleSd(double[] v) {
        if (v.length < 2) return 0;
        double m = mean(v), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length - 1));
    }

    private static final String[] HEADER = {"attention", "d_model", "seeds", "accuracy (mean ± sd)", "held-out loss (mean ± sd)", "steps to 99 %", "wall s", "tokens/s", "parameters"};

    /** A GitHub-flavoured Markdown table; accuracy in percent. */
    public String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("| ").append(String.join(" | ", HEADER)).append(" |\n");
        sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.1f ± %.1f %% | %.3f ± %.3f | %s | %.1f | %.0f | %d |%n",
                    r.mechanism().replace("|", "\\|"), r.width(), r.runs(), 100 * r.accuracyMean(), 100 * r.accuracySd(),
                    r.lossMean(), r.lossSd(), steps99(r), r.wallSecondsMean(), r.tokensPerSecondMean(), r.parameters()));
        }
        return sb.toString();
    }

    private static String steps99(Row r) {
        if (r.reached99() == 0) return "never (0/" + r.runs() + ")";
        String m = String.format(Locale.ROOT, "%.0f", r.stepsTo99Mean());
        return r.reached99() == r.runs() ? m : m + " (" + r.reached99() + "/" + r.runs() + ")";
    }

    /** RFC 4180 CSV, one row per cell, numbers unformatted (accuracy as a fraction; empty when a value does not exist). */
    public String csv() {
        StringBuilder sb = new StringBuilder("attention,d_model,seeds,accuracy_mean,accuracy_sd,loss_mean,loss_sd,reached_99,steps_to_99_mean,wall_seconds_mean,tokens_per_second_mean,parameters\r\n");
        for (Row r : rows) {
            sb.append(csvField(r.mechanism())).append(',').append(r.width()).append(',').append(r.runs()).append(',')
                    .append(r.accuracyMean()).append(',').append(r.accuracySd()).append(',')
                    .append(r.lossMean()).append(',').append(r.lossSd()).append(',').append(r.reached99()).append(',')
                    .append(Double.isNaN(r.stepsTo99Mean()) ? "" : Double.toString(r.stepsTo99Mean())).append(',')
                    .append(r.wallSecondsMean()).append(',').append(r.tokensPerSecondMean()).append(',').append(r.parameters()).append("\r\n");
        }
        return sb.toString();
    }

    private static String csvField(String s) {
        return s.matches(".*[\",\r\n].*") ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }

    /** Final held-out accuracy against d_model, one line per mechanism, ±1 sd bars (log₂ width axis). */
    public Chart accuracyByWidth(String title) {
        Chart.Builder b = Chart.builder().title(title).xLabel("d_model").yLabel("held-out accuracy").logX(true).yRange(0, 1);
        TreeSet<Integer> widths = new TreeSet<>();
        Map<String, List<Row>> byMechanism = new LinkedHashMap<>();
        for (Row r : rows) {
            widths.add(r.width());
            byMechanism.computeIfAbsent(r.mechanism(), k -> new ArrayList<>()).add(r);
        }
        b.xTicks(widths.stream().mapToDouble(Integer::doubleValue).toArray());
        for (Map.Entry<String, List<Row>> e : byMechanism.entrySet()) {
            List<Row> rs = new ArrayList<>(e.getValue());
            rs.sort((p, q) -> Integer.compare(p.width(), q.width()));
            b.points(e.getKey(), rs.stream().mapToDouble(Row::width).toArray(), rs.stream().mapToDouble(Row::accuracyMean).toArray(),
                    rs.stream().mapToDouble(Row::accuracySd).toArray());
        }
        return b.build();
    }
}
