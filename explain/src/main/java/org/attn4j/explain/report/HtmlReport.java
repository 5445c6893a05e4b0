package org.attn4j.explain.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.attn4j.explain.analysis.AttentionFlow;
import org.attn4j.explain.analysis.AttentionRollout;
import org.attn4j.explain.capture.AttentionSummary;
import org.attn4j.explain.capture.CapturedAttention;

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

    /**
     * One strip per token method: each token's background is red for a positive score and blue for a
     * negative one, its strength |score| / max |score| of that method; the exact score is the token's
     * tooltip. Then the faithfulness table.
     */
    static String gradientSection(org.attn4j.explain.gradient.GradientReport g) {
        StringBuilder sb = new StringBuilder("<section class=\"card wide\" id=\"gradient\">\n  <h2>Token relevance by method</h2>\n  <p>");
        sb.append(escapeHtml(String.format(java.util.Locale.ROOT, "Objective: %s = %.4f", g.example.objective().describe(), g.value)));
        sb.append(". Red supports it, blue works against it; hover a token for its score.</p>\n  <table class=\"strips\">\n");
        String[] tokens = g.example.flatTokens();
        for (var e : g.scores.entrySet()) {
            double max = 0;
            for (double v : e.getValue()) if (Double.isFinite(v)) max = Math.max(max, Math.abs(v));
            sb.append("    <tr><th>").append(escapeHtml(e.getKey().id)).append("</th><td>");
            for (int i = 0; i < tokens.length; i++) {
                double v = e.getValue()[i], a = max == 0 || !Double.isFinite(v) ? 0 : Math.abs(v) / max;
                String rgb = v >= 0 ? "220,50,47" : "38,139,210";
                sb.append(String.format(java.util.Locale.ROOT, "<span class=\"tok\" style=\"background:rgba(%s,%.3f)\" title=\"%s\">", rgb, a,
                        escapeHtml(String.format(java.util.Locale.ROOT, "%.5g", v)))).append(escapeHtml(tokens[i])).append("</span> ");
            }
            sb.append("</td></tr>\n");
        }
        sb.append("  </table>\n");
        if (!g.faithfulness.isEmpty()) {
            sb.append("  <h2>Faithfulness</h2>\n  <p>f as tokens are replaced by [PAD] in each method's order (deletion) or restored (insertion); ")
                    .append("area over the fraction of tokens. Lower deletion and higher insertion areas are more faithful.</p>\n")
                    .append("  <table class=\"faithfulness\"><tr><th>method</th><th>deletion AUC</th><th>insertion AUC</th></tr>\n");
            for (var f : g.faithfulness.entrySet()) {
                sb.append(String.format(java.util.Locale.ROOT, "    <tr><td>%s</td><td>%.4f</td><td>%.4f</td></tr>%n", escapeHtml(f.getKey()),
                        f.getValue().deletionAuc(), f.getValue().insertionAuc()));
            }
            sb.append("  </table>\n");
        }
        return sb.append("</section>").toString();
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
