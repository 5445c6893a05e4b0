package org.attn4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.attn4j.explain.capture.AttentionSummary;
import org.attn4j.explain.capture.CapturedAttention;
import org.attn4j.explain.report.Explanation;
import org.attn4j.explain.report.PngHeatmaps;
import org.attn4j.models.embed.Embedder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j explain}: what the model's attention does on one text. */
@Command(name = "explain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs one text through the model with attention captured and summarises it: sink tokens, the strongest",
                "heads of each type, entropy and distance per layer, rank collapse. Writes a self-contained HTML report",
                "(report.html unless --out or --no-report); --json writes a bertviz-compatible file."})
final class ExplainCommand implements Callable<Integer> {
    static final String DEFAULT_TEXT = "The cat sat on the mat because the cat was tired.";

    @Spec CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "TEXT", description = "the text (default: an example sentence)") String text;
    @Option(names = "--model", paramLabel = "NAME|PATH", defaultValue = Embedder.MINILM, description = "as for attn4j embed (default: ${DEFAULT-VALUE})") String model;
    @Option(names = "--json", paramLabel = "FILE", description = "write {attention: [{name, attn: [L][H][n][n], left_text, right_text}], ...} plus the analyses") Path json;
    @Option(names = "--out", paramLabel = "FILE", description = "the HTML report (default: report.html in the current directory)") Path out;
    @Option(names = "--no-report", description = "do not write the HTML report") boolean noReport;
    @Option(names = "--pair", paramLabel = "TEXT2", description = "a second sentence: the pair is encoded [CLS] TEXT [SEP] TEXT2 [SEP], and --json adds the A->A, B->B, A->B, B->A views") String pair;
    @Option(names = "--png", paramLabel = "DIR", description = "also write PNG heatmaps: grid.png and layerL_headH.png") Path png;
    @Option(names = "--importance", description = "instead: head importance by ablation and a head-pruning curve on the shipped paraphrase set (about a minute on 2 cores)") boolean importance;
    @Option(names = "--quick", description = "with --importance: fewer sentences and 25 % of heads per pruning step") boolean quick;
    @Option(names = "--methods", paramLabel = "LIST", split = ",",
            description = "explain by gradient with these methods: comma-separated among attention, rollout, flow, grad-input, ig, relevance, gim, head-grad, "
                    + "or all, default (all but ig: those that take a few seconds on a short sentence) or none (default: default)") java.util.List<String> methods;
    @Option(names = "--target", paramLabel = "TEXT", description = "with one text: explain the cosine to this text's embedding") String target;
    @Option(names = "--ig-steps", paramLabel = "N", defaultValue = "20", description = "integrated gradients' steps (default: ${DEFAULT-VALUE})") int igSteps;
    @Option(names = "--faithfulness-seeds", paramLabel = "N", defaultValue = "5",
            description = "random orders averaged as the faithfulness baseline (default: ${DEFAULT-VALUE}; 0 = no faithfulness)") int faithfulnessSeeds;
    @Option(names = "--faithfulness-pairs", paramLabel = "N",
            description = "instead: the faithfulness table of the methods over the first N shipped paraphrase pairs") Integer faithfulnessPairs;
    @Option(names = "--importance-sentences", paramLabel = "N", defaultValue = "8",
            description = "head importance in the report and summary: ablate each head over TEXT and N-1 shipped sentences (default: ${DEFAULT-VALUE}; 0 = skip)") int importanceSentences;

    @Override
    public Integer call() throws IOException {
        if (importance) return importance();
        var gradientMethods = methods == null ? org.attn4j.explain.gradient.GradientReport.DEFAULT_METHODS
                : org.attn4j.explain.gradient.GradientReport.parseMethods(String.join(",", methods));
        // checks --ig-steps and --faithfulness-seeds before anything is loaded
        var gradientOptions = new Explanation.GradientOptions(gradientMethods, target, igSteps, faithfulnessSeeds);
        if (target != null && pair != null) throw new IllegalArgumentException("--target: not with --pair (the pair's cosine is the objective)");
        if ((target != null || faithfulnessPairs != null) && gradientMethods.isEmpty()) {
            throw new IllegalArgumentException((target != null ? "--target" : "--faithfulness-pairs") + ": needs gradient methods, got --methods none");
        }
        if (faithfulnessPairs != null) return faithfulnessTable(gradientMethods);
        String input = text == null ? DEFAULT_TEXT : text;
        if (importanceSentences < 0) throw new IllegalArgumentException("--importance-sentences: expected >= 0, got " + importanceSentences);
        Embedder embedder = Embedder.load(model);
        CapturedAttention c = pair == null ? CapturedAttention.of(embedder, input) : CapturedAttention.ofPair(embedder, input, pair);
        AttentionSummary s = AttentionSummary.of(c);
        spec.commandLine().getOut().print(s.text(c));
        org.attn4j.explain.importance.HeadAblation.Scores importanceResult = null;
        if (importanceSentences > 0) {
            var set = Explanation.importanceSet(pair == null ? input : input + " " + pair, importanceSentences);
            importanceResult = org.attn4j.explain.importance.HeadAblation.score(embedder, set);
            spec.commandLine().getOut().printf("most important heads (mean 1 - cosine of the embedding with the head zeroed, %d sentences):%n", set.size());
            for (var h : importanceResult.top(5)) {
                spec.commandLine().getOut().printf(java.util.Locale.ROOT, "  %s: %.4f%n", h, importanceResult.raw()[h.layer()][h.head()]);
            }
        }
        Explanation explanation = new Explanation(c, s, importanceResult, pair == null ? input : input + " | " + pair);
        var gradient = Explanation.gradient(embedder, input, pair, importanceSentences, importanceResult, gradientOptions);
        if (gradient != null) {
            spec.commandLine().getOut().print(gradient.text());
            explanation = explanation.withGradient(gradient);
        }
        spec.commandLine().getOut().flush();
        if (json != null) write(json, explanation);
        if (png != null) {
            PngHeatmaps.write(c, png);
            spec.commandLine().getErr().println("attn4j: PNG heatmaps written to " + png.toAbsolutePath());
        }
        if (!noReport) {
            Path html = (out != null ? out : Path.of("report.html")).toAbsolutePath();
            String page = explanation.html(model);
            AtomicFiles.write(html, os -> os.write(page.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            spec.commandLine().getErr().println("attn4j: report written to " + html);
            spec.commandLine().getErr().flush();
        }
        return 0;
    }

    /** Writes the explanation's JSON document ({@link Explanation#json}) atomically. */
    static void write(Path file, Explanation explanation) throws IOException {
        ObjectNode root = explanation.json();
        AtomicFiles.write(file, os -> new ObjectMapper().writeValue(os, root));
    }

    /** {@code --faithfulness-pairs N}: the faithfulness table over the first N shipped pairs. */
    private Integer faithfulnessTable(java.util.Set<org.attn4j.explain.gradient.GradientExplainer.Method> gradientMethods) throws IOException {
        var all = org.attn4j.explain.importance.Paraphrases.load();
        if (faithfulnessPairs < 1 || faithfulnessPairs > all.size()) {
            throw new IllegalArgumentException("--faithfulness-pairs: expected 1.." + all.size() + ", got " + faithfulnessPairs);
        }
        int seeds = Math.max(1, faithfulnessSeeds);
        var explainer = new org.attn4j.explain.gradient.GradientExplainer(Embedder.load(model), 0);
        java.util.List<String[]> pairs = new java.util.ArrayList<>();
        for (var p : all.subList(0, faithfulnessPairs)) pairs.add(new String[] {p.sentence(), p.paraphrase()});
        var rows = org.attn4j.explain.gradient.GradientReport.table(explainer, pairs, gradientMethods, igSteps, seeds);
        spec.commandLine().getOut().print(org.attn4j.explain.gradient.GradientReport.tableText(rows, pairs.size(), seeds));
        spec.commandLine().getOut().flush();
        return 0;
    }

    /** {@code --importance}: the five most important heads and the pruning curve, as text. */
    private Integer importance() throws IOException {
        Embedder m = Embedder.load(model);
        var pairs = org.attn4j.explain.importance.Paraphrases.load();
        var options = quick ? org.attn4j.explain.importance.HeadAblation.Options.quick() : org.attn4j.explain.importance.HeadAblation.Options.defaults();
        int n = Math.min(pairs.size(), quick ? 8 : 24);
        var scores = org.attn4j.explain.importance.HeadAblation.score(m, org.attn4j.explain.importance.Paraphrases.sentences(pairs).subList(0, n), null, 0);
        var out = spec.commandLine().getOut();
        out.printf("Head importance (mean 1 - cosine to the full model's embedding when the head is zeroed, %d sentences)%n", n);
        out.printf("  %-6s %10s %11s%n", "head", "raw", "layer-norm");
        for (var h : scores.top(5)) {
            out.printf("  %-6s %10.5f %11.3f%n", h, scores.raw()[h.layer()][h.head()], scores.normalised()[h.layer()][h.head()]);
        }
        out.printf("%nPruning (lowest-importance heads first, importance recomputed each step; %d paraphrase pairs)%n", pairs.size());
        out.printf("  %8s %6s %9s %11s  %s%n", "pruned", "heads", "accuracy", "mean cosine", "removed this step");
        int before = 0;
        for (var st : org.attn4j.explain.importance.HeadAblation.prune(m, pairs, options)) {
            var removed = st.pruned().subList(before, st.pruned().size());
            before = st.pruned().size();
            out.printf("  %7.1f%% %6d %9.3f %11.4f  %s%n", 100 * st.fractionPruned(), st.pruned().size(), st.accuracy(), st.meanCosine(),
                    removed.isEmpty() ? "-" : removed.toString());
        }
        out.flush();
        return 0;
    }
}
