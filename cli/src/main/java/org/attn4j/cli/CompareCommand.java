package org.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.attn4j.train.report.Comparison;
import org.attn4j.train.report.Figure;
import org.attn4j.train.report.RunOutcome;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attn4j compare}: every (attention, width, seed) combination trained in its own directory under
 * {@code --out}, then the table and the accuracy-against-width chart. A run whose {@code summary.json}
 * exists is finished and is read, not retrained, so an interrupted comparison continues where it stopped.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Trains every combination of --attention, --d-model and seed, then writes table.md, table.csv, table.json, "
                + "accuracy-vs-width.png and accuracy-vs-width.html into --out. Finished runs are skipped when run again."})
final class CompareCommand implements Callable<Integer>, Main.OneLineErrors {
    static final String TABLE_MD = "table.md", TABLE_CSV = "table.csv", TABLE_JSON = "table.json",
            PLOT = "accuracy-vs-width.png", PAGE = "accuracy-vs-width.html";

    @Spec CommandSpec spec;

    @Mixin TrainingOptions options;

    @Option(names = "--attention", paramLabel = "MECHANISM", split = ",", required = true,
            description = "mechanisms to compare, comma-separated, each NAME or NAME:key=value[:key=value], e.g. full,full:window=16")
    List<String> attentions;

    @Option(names = "--d-model", paramLabel = "C", split = ",", defaultValue = "64", splitSynopsisLabel = ",", description = "widths, comma-separated (default: ${DEFAULT-VALUE})")
    List<Integer> widths;

    @Option(names = "--seeds", paramLabel = "N", defaultValue = "3", description = "seeds per combination: --seed, --seed+1, ... (default: ${DEFAULT-VALUE})")
    int seeds;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "0", description = "first seed (default: ${DEFAULT-VALUE})")
    long firstSeed;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "comparison directory (created); one run directory per combination inside")
    Path out;

    @Override
    public Integer call() throws IOException {
        PrintWriter err = spec.commandLine().getErr(), stdout = spec.commandLine().getOut();
        if (seeds <= 0) throw new IllegalArgumentException("--seeds: expected > 0, got " + seeds);
        if (new LinkedHashSet<>(attentions).size() != attentions.size()) throw new IllegalArgumentException("--attention: a mechanism is listed twice in " + attentions);
        if (new LinkedHashSet<>(widths).size() != widths.size()) throw new IllegalArgumentException("--d-model: a width is listed twice in " + widths);

        // Every run is planned (and so every option checked) before the first one trains.
        List<TrainingRun.Plan> plans = new ArrayList<>();
        for (String a : attentions) {
            for (int w : widths) {
                for (int s = 0; s < seeds; s++) plans.add(TrainingRun.plan(options, a, w, firstSeed + s));
            }
        }
        // A finished run is reused only if it was trained with these options.
        for (TrainingRun.Plan p : plans) {
            Path dir = out.resolve(p.dirName());
            if (Files.exists(dir.resolve(TrainingRun.SUMMARY))) TrainingRun.checkSameOptions(p, dir, "--out");
        }
        Files.createDirectories(out);

        List<RunOutcome> outcomes = new ArrayList<>();
        ArrayNode runs = TrainingRun.JSON.createArrayNode();
        int trained = 0, reused = 0;
        boolean bar = TrainingProgress.interactive();
        for (int i = 0; i < plans.size(); i++) {
            TrainingRun.Plan p = plans.get(i);
            Path dir = out.resolve(p.dirName());
            Path summaryFile = dir.resolve(TrainingRun.SUMMARY);
            String label = String.format(Locale.ROOT, "[%d/%d] %s d%d s%d", i + 1, plans.size(), p.attention(), p.dModel(), p.seed());
            JsonNode summary;
            if (Files.exists(summaryFile)) {
                summary = TrainingRun.JSON.readTree(summaryFile.toFile());
                reused++;
                err.println(label + ": finished earlier, reusing " + summaryFile);
            } else {
                // An unfinished run of these same options continues from its last checkpoint; anything else starts afresh.
                boolean resume = Files.exists(dir.resolve(TrainingRun.CONFIG)) && TrainingRun.sameOptions(p, dir);
                err.println(label + ": training into " + dir);
                err.flush();
                summary = TrainingRun.execute(p, dir, err, label, bar, resume, null);
                trained++;
            }
            err.flush();
            outcomes.add(TrainingRun.outcome(summary));
            ObjectNode r = runs.addObject();
            r.put("dir", out.relativize(dir).toString());
            r.set("summary", summary);
        }

        Comparison c = new Comparison(outcomes);
        String title = String.format(Locale.ROOT, "%s, sequence %d, %d key-value pairs, %d layers: held-out accuracy by width",
                options.task, plans.get(0).task().seqLen(), options.kvPairs, options.layers);
        Figure fig = new Figure(List.of(c.accuracyByWidth(title)), 760, 420);
        String markdown = c.markdown();
        ObjectNode json = TrainingRun.JSON.createObjectNode();
        json.put("task", options.task).put("seq_len", plans.get(0).task().seqLen()).put("kv_pairs", options.kvPairs)
                .put("layers", options.layers).put("steps", options.steps).put("seeds", seeds);
        ArrayNode rows = json.putArray("rows");
        for (Comparison.Row r : c.rows()) {
            ObjectNode n = rows.addObject();
            n.put("attention", r.mechanism()).put("d_model", r.width()).put("seeds", r.runs()).put("accuracy_mean", r.accuracyMean())
                    .put("accuracy_sd", r.accuracySd()).put("loss_mean", r.lossMean()).put("loss_sd", r.lossSd())
                    .put("reached_99", r.reached99());
            if (Double.isNaN(r.stepsTo99Mean())) n.putNull("steps_to_99_mean");
            else n.put("steps_to_99_mean", r.stepsTo99Mean());
            n.put("wall_seconds_mean", r.wallSecondsMean()).put("tokens_per_second_mean", r.tokensPerSecondMean()).put("parameters", r.parameters());
        }
        json.set("runs", runs);
        String page = TrainingPages.comparison(title, c, fig);
        Map<Path, AtomicFiles.Content> files = new LinkedHashMap<>();
        files.put(out.resolve(TABLE_MD), o -> o.write(markdown.getBytes(StandardCharsets.UTF_8)));
        files.put(out.resolve(TABLE_CSV), o -> o.write(c.csv().getBytes(StandardCharsets.UTF_8)));
        files.put(out.resolve(TABLE_JSON), o -> TrainingRun.JSON.writeValue(o, json));
        files.put(out.resolve(PLOT), fig::writePng);
        files.put(out.resolve(PAGE), o -> o.write(page.getBytes(StandardCharsets.UTF_8)));
        AtomicFiles.writeAll(files);

        stdout.print(markdown);
        stdout.printf(Locale.ROOT, "%d runs: %d trained, %d finished earlier and reused. Table and chart in %s%n", plans.size(), trained, reused, out);
        stdout.flush();
        return 0;
    }
}
