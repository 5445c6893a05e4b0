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
    /** The A×B view of a pair ({@link GradientExplainer#pairMatrix}); null for one text or under CLS pooling. */
    public double[][] pairMatrix;
    private final Options options;

    private GradientReport(GradientExplainer.Example example, double value, Options options) {
        this.example = example;
        this.value = value;
        this.options = options;
    }

    /**
     * The methods {@code attn4j explain} runs without {@code --methods}: those that together take a
     * few seconds on a short sentence (docs/explain.md gives the measured times and the rule).
     */
    public static final Set<GradientExplainer.Method> DEFAULT_METHODS = java.util.Collections.unmodifiableSet(EnumSet.of(
            GradientExplainer.Method.ATTENTION, GradientExplainer.Method.ROLLOUT, GradientExplainer.Method.FLOW, GradientExplainer.Method.GRAD_INPUT,
            GradientExplainer.Method.RELEVANCE, GradientExplainer.Method.GIM, GradientExplainer.Method.HEAD_GRAD));

    /**
     * Parses {@code --methods}: a comma-separated list of method names, {@code all}, {@code default}
     * ({@link #DEFAULT_METHODS}) or {@code none} (the empty set: no explanation by gradient).
     */
    public static Set<GradientExplainer.Method> parseMethods(String list) {
        if (list == null || list.isBlank()) throw new IllegalArgumentException("--methods: expected a comma-separated list of methods, all, default or none, got '" + list + "'");
        if (list.trim().equalsIgnoreCase("all")) return EnumSet.allOf(GradientExplainer.Method.class);
        if (list.trim().equalsIgnoreCase("none")) return EnumSet.noneOf(GradientExplainer.Method.class);
        if (list.trim().equalsIgnoreCase("default")) return EnumSet.copyOf(DEFAULT_METHODS);
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
        if (ex.objective().kind() == Objective.Kind.PAIR) {
            long t0 = System.nanoTime();
            r.pairMatrix = e.pairMatrix(ex);
            r.millis.put("pair-matrix", (System.nanoTime() - t0) / 1e6);
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

    /** Random orders averaged for the faithfulness baseline (0: faithfulness was skipped). */
    public int faithfulnessSeeds() { return options.randomSeeds(); }

    /** How the pair matrix is built, as the report and the JSON state it. */
    public static final String PAIR_MATRIX_FORMULA = "M[i][j] = a_i . b_j / (n_A n_B |p_A| |p_B|), a_i and b_j the output token states, "
            + "p_A and p_B their means (the pooled embeddings); the entries sum to the cosine";

    /** Why a pair has no matrix under CLS pooling. */
    public static final String PAIR_MATRIX_UNAVAILABLE = "the model pools the [CLS] state, so the whole cosine sits in the one cell ([CLS], [CLS]): "
            + "there is no per-token split of it (the strips still attribute it to the input tokens)";

    /** Σ_ij of the pair matrix (the objective within rounding); NaN when there is none. */
    public double pairMatrixSum() {
        if (pairMatrix == null) return Double.NaN;
        double s = 0;
        for (double[] row : pairMatrix) for (double v : row) s += v;
        return s;
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
        if (pairMatrix != null) {
            int[] best = {0, 0};
            for (int i = 0; i < pairMatrix.length; i++) for (int j = 0; j < pairMatrix[i].length; j++) if (pairMatrix[i][j] > pairMatrix[best[0]][best[1]]) best = new int[] {i, j};
            sb.append(String.format(Locale.ROOT, "A x B token matrix (%d x %d, sums to %.6f): largest cell %s x %s = %.5f%n", pairMatrix.length, pairMatrix[0].length,
                    pairMatrixSum(), example.tokens()[0][best[0]], example.tokens()[1][best[1]], pairMatrix[best[0]][best[1]]));
        } else if (example.objective().kind() == Objective.Kind.PAIR) {
            sb.append("A x B token matrix: not available: ").append(PAIR_MATRIX_UNAVAILABLE).append('\n');
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
        g.set("methods", OM.valueToTree(scores.keySet().stream().map(m -> m.id).toList()));
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
        if (example.objective().kind() != Objective.Kind.PAIR) {
            g.putNull("pair_matrix");
        } else {
            ObjectNode pm = g.putObject("pair_matrix");
            pm.set("tokens_a", OM.valueToTree(example.tokens()[0]));
            pm.set("tokens_b", OM.valueToTree(example.tokens()[1]));
            if (pairMatrix == null) {
                pm.put("available", false);
                pm.put("reason", PAIR_MATRIX_UNAVAILABLE);
                pm.putNull("matrix");
                pm.putNull("sum");
            } else {
                pm.put("available", true);
                pm.put("formula", PAIR_MATRIX_FORMULA);
                pm.set("matrix", OM.valueToTree(pairMatrix));
                pm.put("sum", pairMatrixSum());
            }
        }
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
