package org.attn4j.explain.gradient;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The gradient explanations of one example: every selected method's token scores with its time,
 * the objective's value, integrated gradients' baseline value and completeness gap, gradient head
 * importance (with the ablation comparison when sentences are given) and the faithfulness curves of
 * each token method against random orders. {@link #text} is the stdout summary, {@link #json} the
 * {@code attn4j.gradient} object of {@code attn4j explain --json} (fields in docs/explain.md).
 */
public final class GradientReport {
    private static final ObjectMapper OM = new ObjectMapper();

    /**
     * @param igSteps         integrated gradients' trapezoid intervals
     * @param randomSeeds     random orders averaged for the faithfulness baseline; 0 skips faithfulness
     * @param headSentences   sentences for the head-importance comparison with ablation, or null to skip it
     * @param ablation        ablation importance (per-layer normalised) already computed on headSentences, or null
     */
    public record Options(int igSteps, int randomSeeds, List<String> headSentences, double[][] ablation) {
        public Options {
            if (igSteps < 1) throw new IllegalArgumentException("--ig-steps: expected >= 1, got " + igSteps);
            if (randomSeeds < 0) throw new IllegalArgumentException("--faithfulness-seeds: expected >= 0, got " + randomSeeds);
        }
    }

    public final GradientExplainer.Example example;
    public final double value;
    public final Map<GradientExplainer.Method, double[]> scores = new LinkedHashMap<>();
    public final Map<String, Double> millis = new LinkedHashMap<>();
    public final Map<String, GradientExplainer.Curves> faithfulness = new LinkedHashMap<>();
    public GradientExplainer.IgResult ig;
    public double[][] headGradient;
    public GradientExplainer.HeadComparison heads;
    private final Options options;

    private GradientReport(GradientExplainer.Example example, double value, Options options) {
        this.example = example;
        this.value = value;
        this.options = options;
    }

    /** Parses {@code --methods}: a comma-separated list of method names, or {@code all}. */
    public static Set<GradientExplainer.Method> parseMethods(String list) {
        if (list == null || list.isBlank()) throw new IllegalArgumentException("--methods: expected a comma-separated list of methods or all, got '" + list + "'");
        if (list.trim().equalsIgnoreCase("all")) return EnumSet.allOf(GradientExplainer.Method.class);
        Set<GradientExplainer.Method> s = EnumSet.noneOf(GradientExplainer.Method.class);
        for (String part : list.split(",")) s.add(GradientExplainer.Method.parse(part));
        return s;
    }

    /** Runs the methods on the example, timing each (token scores only; faithfulness separately). */
    public static GradientReport run(GradientExplainer e, GradientExplainer.Example ex, Set<GradientExplainer.Method> methods, Options options) {
        GradientReport r = new GradientReport(ex, e.value(ex), options);
        for (GradientExplainer.Method m : methods) {
            long t0 = System.nanoTime();
            switch (m) {
                case IG -> {
                    r.ig = e.integratedGradients(ex, options.igSteps());
                    r.scores.put(m, r.ig.scores());
                }
                case HEAD_GRAD -> r.headGradient = e.headGradient(ex);
                default -> r.scores.put(m, e.scores(ex, m, options.igSteps()));
            }
            r.millis.put(m.id, (System.nanoTime() - t0) / 1e6);
        }
        if (methods.contains(GradientExplainer.Method.HEAD_GRAD) && options.headSentences() != null && !options.headSentences().isEmpty()) {
            long t0 = System.nanoTime();
            r.heads = e.headImportance(options.headSentences(), options.ablation());
            r.millis.put("head-grad vs ablation", (System.nanoTime() - t0) / 1e6);
        }
        if (options.randomSeeds() > 0 && !r.scores.isEmpty()) {
            long t0 = System.nanoTime();
            for (var s : r.scores.entrySet()) r.faithfulness.put(s.getKey().id, e.curves(ex, s.getValue()));
            r.faithfulness.put("random", e.randomCurves(ex, options.randomSeeds()));
            r.millis.put("faithfulness", (System.nanoTime() - t0) / 1e6);
        }
        return r;
    }

    /** The stdout summary. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%nExplanations by gradient. Objective: %s = %.6f%n", example.objective().describe(), value));
        String[] tokens = example.flatTokens();
        if (!scores.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "  %-12s", "token"));
            for (var m : scores.keySet()) sb.append(String.format(Locale.ROOT, " %11s", m.id));
            sb.append('\n');
            for (int i = 0; i < tokens.length; i++) {
                sb.append(String.format(Locale.ROOT, "  %-12s", tokens[i]));
                for (double[] s : scores.values()) sb.append(String.format(Locale.ROOT, " %11.5f", s[i]));
                sb.append('\n');
            }
        }
        if (ig != null) {
            sb.append(String.format(Locale.ROOT, "integrated gradients (%d steps): f(x) = %.6f, f(baseline) = %.6f, sum of attributions = %.6f, completeness gap %.3f %%%n",
                    ig.steps(), ig.value(), ig.baselineValue(), java.util.Arrays.stream(ig.scores()).sum(), 100 * ig.completenessGap()));
        }
        if (headGradient != null) {
            sb.append("gradient head importance |df/dxi| on this input, top 5:");
            for (int[] lh : top(headGradient, 5)) sb.append(String.format(Locale.ROOT, " L%dH%d %.5f", lh[0], lh[1], headGradient[lh[0]][lh[1]]));
            sb.append('\n');
        }
        if (heads != null) {
            sb.append(String.format(Locale.ROOT, "gradient head importance over %d sentences vs ablation importance: Spearman %.3f (per-layer normalised, %d heads)%n",
                    heads.sentences(), heads.spearman(), heads.raw().length * heads.raw()[0].length));
        }
        if (!faithfulness.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "faithfulness (f as tokens are replaced by [PAD] in each method's order; area over the fraction of tokens; random = mean of %d orders)%n",
                    options.randomSeeds()));
            sb.append(String.format(Locale.ROOT, "  %-12s %14s %15s%n", "method", "deletion AUC", "insertion AUC"));
            for (var f : faithfulness.entrySet()) {
                sb.append(String.format(Locale.ROOT, "  %-12s %14.4f %15.4f%n", f.getKey(), f.getValue().deletionAuc(), f.getValue().insertionAuc()));
            }
            sb.append("  (lower deletion and higher insertion areas are more faithful)\n");
        }
        sb.append("time per method:");
        for (var t : millis.entrySet()) sb.append(String.format(Locale.ROOT, " %s %.0f ms;", t.getKey(), t.getValue()));
        sb.append('\n');
        return sb.toString();
    }

    private static List<int[]> top(double[][] a, int k) {
        List<int[]> all = new ArrayList<>();
        for (int l = 0; l < a.length; l++) for (int h = 0; h < a[l].length; h++) all.add(new int[] {l, h});
        all.sort((x, y) -> Double.compare(a[y[0]][y[1]], a[x[0]][x[1]]));
        return all.subList(0, Math.min(k, all.size()));
    }

    /** The {@code attn4j.gradient} object. */
    public ObjectNode json() {
        ObjectNode g = OM.createObjectNode();
        ObjectNode obj = g.putObject("objective");
        obj.put("kind", example.objective().kind().name().toLowerCase(Locale.ROOT));
        obj.put("description", example.objective().describe());
        obj.put("value", value);
        g.set("tokens", OM.valueToTree(example.flatTokens()));
        List<Integer> starts = new ArrayList<>();
        int at = 0;
        for (int[] s : example.ids()) {
            starts.add(at);
            at += s.length;
        }
        g.set("sequence_starts", OM.valueToTree(starts));
        ObjectNode sc = g.putObject("scores");
        scores.forEach((m, s) -> sc.set(m.id, OM.valueToTree(s)));
        if (ig != null) {
            ObjectNode i = g.putObject("integrated_gradients");
            i.put("steps", ig.steps());
            i.put("value", ig.value());
            i.put("baseline_value", ig.baselineValue());
            i.put("completeness_gap", ig.completenessGap());
        } else {
            g.putNull("integrated_gradients");
        }
        if (headGradient != null) g.set("head_gradient", OM.valueToTree(headGradient));
        else g.putNull("head_gradient");
        if (heads != null) {
            ObjectNode h = g.putObject("head_importance");
            h.put("sentences", heads.sentences());
            h.set("raw", OM.valueToTree(heads.raw()));
            h.set("normalised", OM.valueToTree(heads.normalised()));
            h.set("ablation_normalised", OM.valueToTree(heads.ablation()));
            h.put("spearman", heads.spearman());
        } else {
            g.putNull("head_importance");
        }
        ObjectNode f = g.putObject("faithfulness");
        f.put("random_seeds", options.randomSeeds());
        ObjectNode methods = f.putObject("methods");
        faithfulness.forEach((name, c) -> {
            ObjectNode n = methods.putObject(name);
            n.put("deletion_auc", c.deletionAuc());
            n.put("insertion_auc", c.insertionAuc());
            n.set("deletion", OM.valueToTree(c.deletion()));
            n.set("insertion", OM.valueToTree(c.insertion()));
        });
        ObjectNode t = g.putObject("millis");
        millis.forEach(t::put);
        return g;
    }

    /** Mean faithfulness areas of each method over a set of pairs, and how often each beat random. */
    public record TableRow(String method, double deletionAuc, double insertionAuc, double beatsRandomDeletion, double beatsRandomInsertion, double millisPerPair) {}

    /**
     * The faithfulness table over sentence pairs (pair objective): for each token method and for
     * random orders, the mean deletion and insertion areas, the share of pairs on which the method's
     * area is better than the random orders' mean, and the method's mean time per pair.
     */
    public static List<TableRow> table(GradientExplainer e, List<String[]> pairs, Set<GradientExplainer.Method> methods, int igSteps, int seeds) {
        if (pairs.isEmpty()) throw new IllegalArgumentException("pairs: expected at least one");
        if (seeds < 1) throw new IllegalArgumentException("--faithfulness-seeds: expected >= 1 for the table, got " + seeds);
        List<GradientExplainer.Method> ms = methods.stream().filter(GradientExplainer.Method::scoresTokens).toList();
        double[][] sums = new double[ms.size() + 1][5];
        for (String[] p : pairs) {
            GradientExplainer.Example ex = e.example(p[0], p[1], null);
            GradientExplainer.Curves random = e.randomCurves(ex, seeds);
            sums[ms.size()][0] += random.deletionAuc();
            sums[ms.size()][1] += random.insertionAuc();
            for (int i = 0; i < ms.size(); i++) {
                long t0 = System.nanoTime();
                double[] sc = e.scores(ex, ms.get(i), igSteps);
                sums[i][4] += (System.nanoTime() - t0) / 1e6;
                GradientExplainer.Curves c = e.curves(ex, sc);
                sums[i][0] += c.deletionAuc();
                sums[i][1] += c.insertionAuc();
                if (c.deletionAuc() < random.deletionAuc()) sums[i][2]++;
                if (c.insertionAuc() > random.insertionAuc()) sums[i][3]++;
            }
        }
        List<TableRow> rows = new ArrayList<>();
        int n = pairs.size();
        for (int i = 0; i <= ms.size(); i++) {
            String name = i < ms.size() ? ms.get(i).id : "random";
            rows.add(new TableRow(name, sums[i][0] / n, sums[i][1] / n, i < ms.size() ? sums[i][2] / n : Double.NaN,
                    i < ms.size() ? sums[i][3] / n : Double.NaN, sums[i][4] / n));
        }
        return rows;
    }

    /** The table as text. */
    public static String tableText(List<TableRow> rows, int pairs, int seeds) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "Faithfulness on %d shipped pairs (objective: cosine of the two embeddings; tokens replaced by [PAD]; random = mean of %d orders)%n", pairs, seeds));
        sb.append(String.format(Locale.ROOT, "  %-12s %13s %14s %17s %18s %10s%n", "method", "deletion AUC", "insertion AUC", "del. beats random", "ins. beats random", "ms/pair"));
        for (TableRow r : rows) {
            if (r.method().equals("random")) {
                sb.append(String.format(Locale.ROOT, "  %-12s %13.4f %14.4f %17s %18s %10s%n", r.method(), r.deletionAuc(), r.insertionAuc(), "-", "-", "-"));
            } else {
                sb.append(String.format(Locale.ROOT, "  %-12s %13.4f %14.4f %16.0f%% %17.0f%% %10.0f%n", r.method(), r.deletionAuc(), r.insertionAuc(),
                        100 * r.beatsRandomDeletion(), 100 * r.beatsRandomInsertion(), r.millisPerPair()));
            }
        }
        sb.append("  (lower deletion and higher insertion areas are more faithful)\n");
        return sb.toString();
    }
}
