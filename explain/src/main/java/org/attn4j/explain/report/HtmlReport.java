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

    private HtmlReport() {}

    /** The report as one HTML document. Rollout and flow are computed here (flow: n max-flows for the [CLS] row). */
    public static String render(CapturedAttention c, AttentionSummary s, ReportOptions o) {
        if (o == null) o = ReportOptions.defaults();
        String text = o.text() != null ? o.text() : String.join(" ", c.prettyTokens());
        String title = "Attention report: \u201c" + text + "\u201d" + (o.model() != null ? " \u2014 " + o.model() : "");
        String json = embeddableJson(data(c, s, o, text));
        String html = template();
        // The title marks all lie before the data mark; substituting only there leaves the text and the JSON untouched.
        int at = html.indexOf(DATA_MARK);
        if (at < 0) throw new IllegalStateException("template has no data mark");
        String head = html.substring(0, at).replace(TITLE_MARK, escapeHtml(title));
        return head + json + html.substring(at + DATA_MARK.length());
    }

    static ObjectNode data(CapturedAttention c, AttentionSummary s, ReportOptions o, String text) {
        ObjectMapper om = new ObjectMapper();
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
        root.set("attn", om.valueToTree(round(c.probs())));
        root.set("rollout", om.valueToTree(round(AttentionRollout.rolloutRow(c.probs(), AttentionRollout.HeadFusion.MEAN, 0))));
        root.set("flow", om.valueToTree(round(AttentionFlow.flowRow(c.probs(), AttentionRollout.HeadFusion.MEAN, 0))));
        ObjectNode det = root.putObject("detectors");
        for (Map.Entry<String, double[][]> e : s.detectors().entrySet()) det.set(e.getKey(), om.valueToTree(round(e.getValue())));
        root.set("entropy", om.valueToTree(round(s.entropy())));
        root.set("distance", om.valueToTree(round(s.distance())));
        root.set("sinkRates", om.valueToTree(round(s.sinkRates())));
        root.set("rankCollapse", om.valueToTree(round(s.rankCollapse())));
        if (o.importance() != null) {
            double[][] imp = o.importance();
            if (imp.length != c.layers()) throw new IllegalArgumentException("importance: " + imp.length + " layers, expected " + c.layers());
            for (double[] row : imp) {
                if (row.length != c.heads()) throw new IllegalArgumentException("importance: " + row.length + " heads, expected " + c.heads());
            }
            root.set("importance", om.valueToTree(round(imp)));
        } else {
            root.putNull("importance");
        }
        return root;
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

    // Four decimals keep a 6 × 12 × 64 × 64 report near 2 MB; non-finite values become 0 (JSON has no NaN).
    private static double round(double x) {
        return Double.isFinite(x) ? Math.round(x * 1e4) / 1e4 : 0;
    }

    private static double[] round(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = round(a[i]);
        return r;
    }

    private static double[][] round(double[][] a) {
        double[][] r = new double[a.length][];
        for (int i = 0; i < a.length; i++) r[i] = round(a[i]);
        return r;
    }

    private static double[][][][] round(double[][][][] a) {
        double[][][][] r = new double[a.length][][][];
        for (int l = 0; l < a.length; l++) {
            r[l] = new double[a[l].length][][];
            for (int h = 0; h < a[l].length; h++) r[l][h] = round(a[l][h]);
        }
        return r;
    }
}
