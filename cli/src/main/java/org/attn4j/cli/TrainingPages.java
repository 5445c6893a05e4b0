package org.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.attn4j.train.loop.Trainer;
import org.attn4j.train.report.Comparison;
import org.attn4j.train.report.Figure;

/** The self-contained web pages of a training run and of a comparison: inline CSS and SVG, no scripts, nothing fetched. */
final class TrainingPages {
    private TrainingPages() {}

    private static final String STYLE = "body{font-family:sans-serif;margin:2em;max-width:60em;color:#222}"
            + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
            + "th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.note{color:#a40}";

    private static StringBuilder head(String title) {
        return new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(Figure.escape(title))
                .append("</title><style>").append(STYLE).append("</style></head><body>\n<h1>").append(Figure.escape(title)).append("</h1>\n");
    }

    /** A run's page: its summary (or, while it has none, {@code note}: in progress or interrupted), the curves, the evaluations and every option. */
    static String run(JsonNode config, JsonNode summary, String note, Figure curves, List<Trainer.Eval> evals) {
        String title = "attn4j train: " + config.path("task").path("name").asText() + ", " + config.path("attention").path("spec").asText()
                + ", d_model " + config.path("model").path("d_model").asInt();
        StringBuilder sb = head(title);
        if (summary == null) {
            sb.append("<p class=\"note\">").append(Figure.escape(note)).append("</p>\n");
        } else {
            sb.append(String.format(Locale.ROOT, "<p>Held-out accuracy %.2f %% (loss %.4f) after %d steps; %s; %.1f s, %s tokens/s, %d parameters.</p>%n",
                    100 * summary.path("final_accuracy").asDouble(), summary.path("final_loss").asDouble(), summary.path("steps").asInt(),
                    summary.path("steps_to_99").isNumber() ? "99 % first reached after " + summary.path("steps_to_99").asInt() + " steps" : "99 % not reached",
                    summary.path("wall_seconds").asDouble(), TrainingProgress.compact(summary.path("tokens_per_second").asDouble()),
                    summary.path("parameters").asLong()));
        }
        sb.append(curves.svg()).append('\n');
        sb.append("<h2>Held-out evaluations</h2>\n<table><tr><th>step</th><th>loss</th><th>accuracy</th></tr>\n");
        for (Trainer.Eval e : evals) {
            sb.append(String.format(Locale.ROOT, "<tr><td>%d</td><td>%.4f</td><td>%.2f %%</td></tr>%n", e.step(), e.loss(), 100 * e.accuracy()));
        }
        sb.append("</table>\n<h2>Options</h2>\n<table><tr><th>option</th><th>value</th></tr>\n");
        options(sb, "", config);
        return sb.append("</table>\n</body></html>\n").toString();
    }

    private static void options(StringBuilder sb, String prefix, JsonNode n) {
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
            if (e.getValue().isObject()) options(sb, key, e.getValue());
            else sb.append("<tr><td>").append(Figure.escape(key)).append("</td><td>").append(Figure.escape(e.getValue().asText())).append("</td></tr>\n");
        }
    }

    /** A comparison's page: the table and accuracy against width. */
    static String comparison(String title, Comparison c, Figure chart) {
        StringBuilder sb = head(title);
        sb.append(chart.svg()).append('\n');
        sb.append("<table><tr><th>attention</th><th>d_model</th><th>seeds</th><th>accuracy (mean ± sd)</th><th>held-out loss (mean ± sd)</th>"
                + "<th>steps to 99 %</th>"
                + "<th>wall s</th><th>tokens/s</th><th>parameters</th></tr>\n");
        for (Comparison.Row r : c.rows()) {
            String steps = r.reached99() == 0 ? "never" : String.format(Locale.ROOT, "%.0f", r.stepsTo99Mean())
                    + (r.reached99() < r.runs() ? " (" + r.reached99() + "/" + r.runs() + ")" : "");
            sb.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%.1f ± %.1f %%</td><td>%.3f ± %.3f</td><td>%s</td><td>%.1f</td><td>%.0f</td><td>%d</td></tr>%n",
                    Figure.escape(r.mechanism()), r.width(), r.runs(), 100 * r.accuracyMean(), 100 * r.accuracySd(), r.lossMean(), r.lossSd(), steps,
                    r.wallSecondsMean(), r.tokensPerSecondMean(), r.parameters()));
        }
        return sb.append("</table>\n<p>Accuracy is the final held-out accuracy; ± is the sample standard deviation over seeds; "
                + "steps to 99 % is the mean over the seeds that reached it, checked at evaluations.</p>\n</body></html>\n").toString();
    }
}
