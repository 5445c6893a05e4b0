package org.attn4j.explain.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import org.attn4j.explain.analysis.AttentionFlow;
import org.attn4j.explain.analysis.AttentionRollout;
import org.attn4j.explain.capture.AttentionSummary;
import org.attn4j.explain.capture.CapturedAttention;
import org.attn4j.explain.gradient.GradientReport;

/**
 * A self-contained HTML report of one captured text: a layers × heads grid of attention heatmaps, a zoomed
 * head view with token labels, rollout and flow of the [CLS] row, a sortable head table and the rank-collapse
 * curve. The page needs no network: CSS and JavaScript are inline and the data is an embedded JSON literal.
 *
 * <p>The page selects a head from the URL hash {@code #head=L,H} on load (0-based layer and head), and
 * writes any script error into {@code <pre id="errors">}. For a sentence pair the data carries {@code secondStart}
 * (the index of sentence B's first token) and the page shows a filter select ({@code #pair-filter}: All, A→A, B→B,
 * A→B, B→A) that restricts the head view and the grid to the source sentence's rows and the target's columns;
 * {@code #head=L,H&filter=AB} selects one on load.
 */
public final class HtmlReport {
    private static final String TEMPLATE_RESOURCE = "report-template.html";
    private static final String DATA_MARK = "/*@DATA@*/";
    private static final String TITLE_MARK = "@TITLE@";
    private static final String MISSING_MARK = "@MISSING@";
    private static final String GRADIENT_MARK = "@GRADIENT@";

    private HtmlReport() {}

    /** The report as one HTML document. Rollout and flow are computed here (flow: n max-flows for the [CLS] row). */
    public static String render(CapturedAttention c, AttentionSummary s, ReportOptions o) {
        if (o == null) o = ReportOptions.defaults();
        String text = o.text() != null ? o.text() : String.join(" ", c.prettyTokens());
        String title = "Attention report: \u201c" + text + "\u201d" + (o.model() != null ? " \u2014 " + o.model() : "");
        ObjectNode data = data(c, s, o, text);
        String json = embeddableJson(data);
        int missing = data.get("missing").asInt();
        String missingNote = missing == 0 ? "" : "<p class=\"missing-note\" id=\"missing-note\">" + missing
                + (missing == 1 ? " value was" : " values were") + " NaN or \u00b1Inf, "
                + "shown as missing: grey cells in the heatmaps, \u2014 in the tables and read-outs, gaps in the chart.</p>";
        String html = template();
        // The title and missing marks all lie before the data mark; substituting only there leaves the text and the JSON untouched.
        int at = html.indexOf(DATA_MARK);
        if (at < 0) throw new IllegalStateException("template has no data mark");
        // The gradient section (static HTML, no script) goes in first, so a title that happens to contain a mark is left alone.
        String head = html.substring(0, at).replace(GRADIENT_MARK, o.gradient() == null ? "" : gradientSection(o.gradient()))
                .replace(TITLE_MARK, escapeHtml(title)).replace(MISSING_MARK, missingNote);
        return head + json + html.substring(at + DATA_MARK.length());
    }

    /**
     * The page's data. Every number is rounded to four decimals; NaN and ±Inf (which JSON cannot hold)
     * become {@code null}, and {@code missing} counts them, so the page can show them as missing and say so.
     */
    static ObjectNode data(CapturedAttention c, AttentionSummary s, ReportOptions o, String text) {
        ObjectMapper om = new ObjectMapper();
        Rounding r = new Rounding();
        ObjectNode root = om.createObjectNode();
        root.put("text", text);
        if (o.model() != null) root.put("model", o.model());
        else root.putNull("model");
        root.set("tokens", om.valueToTree(c.prettyTokens()));
        root.set("rawTokens", om.valueToTree(c.tokens()));
        root.put("layers", c.layers());
        root.put("heads", c.heads());
        // Sentence B's first token, only for a pair: the page then offers the A→A, B→B, A→B, B→A filters.
        int second = c.secondStart();
        if (second > 0 && second < c.length()) root.put("secondStart", second);
        root.set("attn", om.valueToTree(r.round(c.probs())));
        root.set("rollout", om.valueToTree(r.round(AttentionRollout.rolloutRow(c.probs(), AttentionRollout.HeadFusion.MEAN, 0))));
        root.set("flow", om.valueToTree(r.round(AttentionFlow.flowRow(c.probs(), AttentionRollout.HeadFusion.MEAN, 0))));
        ObjectNode det = root.putObject("detectors");
        for (Map.Entry<String, double[][]> e : s.detectors().entrySet()) det.set(e.getKey(), om.valueToTree(r.round(e.getValue())));
        root.set("entropy", om.valueToTree(r.round(s.entropy())));
        root.set("distance", om.valueToTree(r.round(s.distance())));
        root.set("sinkRates", om.valueToTree(r.round(s.sinkRates())));
        root.set("rankCollapse", om.valueToTree(r.round(s.rankCollapse())));
        if (o.importance() != null) {
            double[][] imp = o.importance();
            if (imp.length != c.layers()) throw new IllegalArgumentException("importance: " + imp.length + " layers, expected " + c.layers());
            for (double[] row : imp) {
                if (row.length != c.heads()) throw new IllegalArgumentException("importance: " + row.length + " heads, expected " + c.heads());
            }
            root.set("importance", om.valueToTree(r.round(imp)));
        } else {
            root.putNull("importance");
        }
        root.put("missing", r.missing);
        return root;
    }

    /** Line colours of the faithfulness curves, by method; random orders are drawn dashed in grey. */
    private static final Map<String, String> CURVE_COLOURS = Map.of("attention", "#7f7f7f", "rollout", "#2f6fde", "flow", "#d9822b",
            "grad-input", "#2ca02c", "ig", "#9467bd", "relevance", "#d62728", "gim", "#17becf", "random", "#444444");

    /**
     * The sections of the explanations by gradient, as static HTML (no script): one token strip per
     * method, the A×B matrix of a pair, and the faithfulness table with the deletion and insertion
     * curves as inline SVG.
     */
    static String gradientSection(GradientReport g) {
        StringBuilder sb = new StringBuilder();
        strips(sb, g);
        if (g.example.objective().kind() == org.attn4j.explain.gradient.Objective.Kind.PAIR) pairView(sb, g);
        if (!g.faithfulness.isEmpty()) faithfulness(sb, g);
        return sb.toString();
    }

    /**
     * One strip per token method: a token's background is red for a positive score and blue for a
     * negative one, its strength |score| / max |score| of that method (each strip is normalised on its
     * own, so strips compare orders, not magnitudes); the score is the token's tooltip.
     */
    private static void strips(StringBuilder sb, GradientReport g) {
        sb.append("<section class=\"card wide\" id=\"gradient\">\n  <h2>Token relevance by method</h2>\n  <p>");
        sb.append(escapeHtml(String.format(Locale.ROOT, "Objective: %s = %.4f", g.example.objective().describe(), g.value)));
        sb.append(".</p>\n  <p class=\"note\">Red: the token supports f; blue: it works against f. Each strip is scaled by its own largest |score| "
                + "(right column): full colour is that score, white is 0, so the strips compare orders and signs, not magnitudes across methods. "
                + "Hover a token for its score. For a pair the tokens of A come first, then those of B.</p>\n");
        sb.append("  <div class=\"legend\"><span>\u2212max</span><span class=\"scale\"></span><span>+max</span></div>\n");
        sb.append("  <table class=\"strips\" id=\"strips\">\n");
        String[] tokens = g.example.flatTokens();
        for (var e : g.scores.entrySet()) {
            double max = 0;
            for (double v : e.getValue()) if (Double.isFinite(v)) max = Math.max(max, Math.abs(v));
            sb.append("    <tr class=\"strip\" id=\"strip-").append(escapeHtml(e.getKey().id)).append("\"><th>").append(escapeHtml(e.getKey().id)).append("</th><td>");
            for (int i = 0; i < tokens.length; i++) {
                double v = e.getValue()[i];
                sb.append("<span class=\"tok\" style=\"background:").append(diverging(v, max)).append("\" title=\"")
                        .append(escapeHtml(String.format(Locale.ROOT, "%.5g", v))).append("\">").append(escapeHtml(tokens[i])).append("</span> ");
            }
            sb.append(String.format(Locale.ROOT, "</td><td class=\"strip-max\">%.4g</td></tr>%n", max));
        }
        sb.append("  </table>\n</section>\n");
    }

    /** The A×B matrix of a pair, with row and column sums and the total (= f), or why it is not available. */
    private static void pairView(StringBuilder sb, GradientReport g) {
        sb.append("<section class=\"card wide\" id=\"pair-view\">\n  <h2>A \u00d7 B token attribution</h2>\n");
        if (g.pairMatrix == null) {
            sb.append("  <p class=\"note\">Not available: ").append(escapeHtml(GradientReport.PAIR_MATRIX_UNAVAILABLE)).append(".</p>\n</section>\n");
            return;
        }
        double[][] m = g.pairMatrix;
        String[] a = g.example.tokens()[0], b = g.example.tokens()[1];
        double max = 0;
        for (double[] row : m) for (double v : row) if (Double.isFinite(v)) max = Math.max(max, Math.abs(v));
        sb.append(String.format(Locale.ROOT, "  <p>Entry (i, j) is what the pair (token i of A, token j of B) adds to the cosine: "
                + "a<sub>i</sub>\u00b7b<sub>j</sub> / (n<sub>A</sub> n<sub>B</sub> \u2016p<sub>A</sub>\u2016 \u2016p<sub>B</sub>\u2016), with a<sub>i</sub>, b<sub>j</sub> the "
                + "encoder's output token states and p<sub>A</sub>, p<sub>B</sub> their means (the pooled embeddings). The entries add up to f = %.4f "
                + "(sum shown: %.4f). The states are contextual: a cell says which output positions carry the agreement, not which input word causes it.</p>%n",
                g.value, g.pairMatrixSum()));
        sb.append(String.format(Locale.ROOT, "  <p class=\"note\">Colour as in the strips, scaled by the largest |entry| (%.4g).</p>%n", max));
        sb.append("  <div class=\"pmwrap\"><table class=\"pair-matrix\" id=\"pair-matrix\">\n    <thead><tr><th class=\"corner\">A \\ B</th>");
        for (String t : b) sb.append("<th class=\"pm-col\">").append(escapeHtml(t)).append("</th>");
        sb.append("<th class=\"pm-sum\">row sum</th></tr></thead>\n    <tbody>\n");
        double[] colSums = new double[b.length];
        for (int i = 0; i < a.length; i++) {
            sb.append("      <tr><th class=\"pm-row\">").append(escapeHtml(a[i])).append("</th>");
            double rowSum = 0;
            for (int j = 0; j < b.length; j++) {
                double v = m[i][j];
                rowSum += v;
                colSums[j] += v;
                sb.append("<td class=\"pm\" style=\"background:").append(diverging(v, max)).append("\" title=\"")
                        .append(escapeHtml(String.format(Locale.ROOT, "%s \u00d7 %s: %.5g", a[i], b[j], v))).append("\">")
                        .append(String.format(Locale.ROOT, "%.3f", v)).append("</td>");
            }
            sb.append(String.format(Locale.ROOT, "<td class=\"pm-sum\">%.3f</td></tr>%n", rowSum));
        }
        sb.append("      <tr><th class=\"pm-row\">column sum</th>");
        for (double c : colSums) sb.append(String.format(Locale.ROOT, "<td class=\"pm-sum\">%.3f</td>", c));
        sb.append(String.format(Locale.ROOT, "<td class=\"pm-total\">%.4f</td></tr>%n    </tbody>\n  </table></div>%n</section>%n", g.pairMatrixSum()));
    }

    /** The faithfulness table and the two curves (f against the fraction of tokens replaced or restored). */
    private static void faithfulness(StringBuilder sb, GradientReport g) {
        sb.append("<section class=\"card wide\" id=\"faithfulness\">\n  <h2>Faithfulness</h2>\n  <p>f as tokens are replaced by [PAD] in each method's order (deletion) or restored (insertion); ")
                .append("area over the fraction of tokens. Lower deletion and higher insertion areas are more faithful. ")
                .append("Random: the mean of the curves of ").append(g.faithfulnessSeeds()).append(" random orders.</p>\n")
                .append("  <table class=\"faithfulness\"><tr><th>method</th><th>deletion AUC</th><th>insertion AUC</th></tr>\n");
        for (var f : g.faithfulness.entrySet()) {
            sb.append(String.format(Locale.ROOT, "    <tr><td>%s</td><td>%.4f</td><td>%.4f</td></tr>%n", escapeHtml(f.getKey()),
                    f.getValue().deletionAuc(), f.getValue().insertionAuc()));
        }
        sb.append("  </table>\n  <div class=\"curves\">\n");
        curve(sb, g, true);
        curve(sb, g, false);
        sb.append("  </div>\n  <div class=\"curve-legend\">");
        for (String name : g.faithfulness.keySet()) {
            sb.append("<span><i style=\"border-top:2px ").append(name.equals("random") ? "dashed " : "solid ").append(colour(name)).append("\"></i>")
                    .append(escapeHtml(name)).append("</span> ");
        }
        sb.append("</div>\n</section>\n");
    }

    private static void curve(StringBuilder sb, GradientReport g, boolean deletion) {
        int w = 440, h = 240, left = 52, right = 10, top = 22, bottom = 34;
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (var c : g.faithfulness.values()) {
            for (double v : deletion ? c.deletion() : c.insertion()) {
                if (!Double.isFinite(v)) continue;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
        }
        if (!(hi > lo)) {
            lo = Double.isFinite(lo) ? lo - 0.5 : 0;
            hi = lo + 1;
        }
        String id = deletion ? "deletion" : "insertion";
        sb.append(String.format(Locale.ROOT, "    <svg class=\"curve-chart\" id=\"curve-%s\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">%n", id, w, h, w, h));
        sb.append(String.format(Locale.ROOT, "      <text x=\"%d\" y=\"14\" class=\"ct\">%s: f as tokens are %s</text>%n", left, deletion ? "Deletion" : "Insertion",
                deletion ? "replaced by [PAD]" : "restored"));
        sb.append(String.format(Locale.ROOT, "      <line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>%n",
                left, top, left, h - bottom, left, h - bottom, w - right, h - bottom));
        for (double[] tick : new double[][] {{lo, h - bottom}, {hi, top}}) {
            sb.append(String.format(Locale.ROOT, "      <text x=\"%d\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%.3g</text>%n", left - 4, tick[1] + 4, tick[0]));
        }
        sb.append(String.format(Locale.ROOT, "      <text x=\"%d\" y=\"%d\" class=\"tick\">0</text><text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"end\">1</text>"
                + "<text x=\"%d\" y=\"%d\" class=\"tick\" text-anchor=\"middle\">fraction of tokens %s</text>%n",
                left, h - bottom + 14, w - right, h - bottom + 14, (left + w - right) / 2, h - 6, deletion ? "replaced" : "restored"));
        for (var e : g.faithfulness.entrySet()) {
            double[] y = deletion ? e.getValue().deletion() : e.getValue().insertion();
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < y.length; i++) {
                if (!Double.isFinite(y[i])) continue;
                double px = left + (w - left - right) * (y.length == 1 ? 0 : (double) i / (y.length - 1));
                double py = h - bottom - (h - top - bottom) * (y[i] - lo) / (hi - lo);
                pts.append(String.format(Locale.ROOT, "%s%.1f,%.1f", pts.isEmpty() ? "" : " ", px, py));
            }
            sb.append(String.format(Locale.ROOT, "      <polyline class=\"curve\" data-method=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.6\"%s points=\"%s\"><title>%s</title></polyline>%n",
                    escapeHtml(e.getKey()), colour(e.getKey()), e.getKey().equals("random") ? " stroke-dasharray=\"4 3\"" : "", pts, escapeHtml(e.getKey())));
        }
        sb.append("    </svg>\n");
    }

    private static String colour(String method) {
        return CURVE_COLOURS.getOrDefault(method, "#000000");
    }

    /** A diverging background: red (positive) or blue (negative) with opacity |v| / max; white for 0 or a non-finite value. */
    private static String diverging(double v, double max) {
        double a = max == 0 || !Double.isFinite(v) ? 0 : Math.min(1, Math.abs(v) / max);
        return String.format(Locale.ROOT, "rgba(%s,%.3f)", v >= 0 ? "220,50,47" : "38,139,210", a);
    }

    /**
     * JSON text safe inside a {@code <script>} element: every {@code <}, {@code >} and {@code &} (which in JSON
     * can only occur inside strings) becomes a {@code \\uXXXX} escape, so neither {@code </script>} nor
     * {@code <!--} can appear; U+2028/U+2029 are escaped too.
     */
    static String embeddableJson(ObjectNode node) {
        String json;
        try {
            json = new ObjectMapper().writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        StringBuilder sb = new StringBuilder(json.length() + 64);
        for (int i = 0; i < json.length(); i++) {
            char ch = json.charAt(i);
            switch (ch) {
                case '<' -> sb.append("\\u003c");
                case '>' -> sb.append("\\u003e");
                case '&' -> sb.append("\\u0026");
                case '\u2028' -> sb.append("\\u2028");
                case '\u2029' -> sb.append("\\u2029");
                default -> sb.append(ch);
            }
        }
        return sb.toString();
    }

    static String escapeHtml(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(ch);
            }
        }
        return sb.toString();
    }

    private static String template() {
        try (InputStream in = HtmlReport.class.getResourceAsStream(TEMPLATE_RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing resource " + TEMPLATE_RESOURCE);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Four decimals keep a 6 × 12 × 64 × 64 report near 2 MB. A non-finite value becomes null (JSON has no
     * NaN; 0 would pass for a real weight) and is counted.
     */
    private static final class Rounding {
        int missing;

        Double round(double x) {
            if (Double.isFinite(x)) return Math.round(x * 1e4) / 1e4;
            missing++;
            return null;
        }

        Double[] round(double[] a) {
            Double[] r = new Double[a.length];
            for (int i = 0; i < a.length; i++) r[i] = round(a[i]);
            return r;
        }

        Double[][] round(double[][] a) {
            Double[][] r = new Double[a.length][];
            for (int i = 0; i < a.length; i++) r[i] = round(a[i]);
            return r;
        }

        Double[][][][] round(double[][][][] a) {
            Double[][][][] r = new Double[a.length][][][];
            for (int l = 0; l < a.length; l++) {
                r[l] = new Double[a[l].length][][];
                for (int h = 0; h < a[l].length; h++) r[l][h] = round(a[l][h]);
            }
            return r;
        }
    }
}
