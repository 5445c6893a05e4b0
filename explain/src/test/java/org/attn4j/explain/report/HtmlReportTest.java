package org.attn4j.explain.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Random;
import org.attn4j.explain.capture.AttentionSummary;
import org.attn4j.explain.capture.CapturedAttention;
import org.junit.jupiter.api.Test;

class HtmlReportTest {
    static CapturedAttention synthetic(String[] tokens, int layers, int heads) {
        int n = tokens.length;
        Random rnd = new Random(7);
        double[][][][] p = new double[layers][heads][n][n];
        for (double[][][] l : p) for (double[][] h : l) for (double[] row : h) {
            double s = 0;
            for (int j = 0; j < n; j++) s += row[j] = rnd.nextDouble();
            for (int j = 0; j < n; j++) row[j] /= s;
        }
        double[][][] hidden = new double[layers + 1][n][8];
        for (double[][] m : hidden) for (double[] r : m) for (int c = 0; c < r.length; c++) r[c] = rnd.nextGaussian();
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = 100 + i;
        return new CapturedAttention(tokens, ids, new int[n], p, hidden);
    }

    @Test
    void scriptClosingTextCannotBreakOutOfTheDataElement() throws Exception {
        String[] tokens = {"[CLS]", "</script>", "<!--", "&", "[SEP]"};
        CapturedAttention c = synthetic(tokens, 2, 3);
        String html = HtmlReport.render(c, AttentionSummary.of(c),
                ReportOptions.defaults().text("a </script><script>alert(1)</script> b").model("m<x>"));
        int start = html.indexOf("<script id=\"report-data\" type=\"application/json\">");
        assertTrue(start > 0);
        int bodyStart = html.indexOf('>', start) + 1, end = html.indexOf("</script>", bodyStart);
        String json = html.substring(bodyStart, end);
        assertFalse(json.contains("<"), json);
        JsonNode d = new ObjectMapper().readTree(json);
        assertEquals("</script>", d.get("tokens").get(1).asText());
        assertEquals("a </script><script>alert(1)</script> b", d.get("text").asText());
        assertEquals(2, d.get("attn").size());
        assertEquals(3, d.get("attn").get(0).size());
        assertTrue(d.get("importance").isNull());
        assertTrue(html.contains("<title>Attention report: \u201ca &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; b\u201d \u2014 m&lt;x&gt;</title>"));
        // each of the n values is rounded to 4 decimals, so the sums are off by at most n·0.5e-4
        assertEquals(1.0, sum(d.get("rollout")), tokens.length * 0.5e-4 + 1e-12);
        assertEquals(1.0, sum(d.get("flow")), tokens.length * 0.5e-4 + 1e-12);
        assertEquals(3, d.get("rankCollapse").size());
    }

    @Test
    void importanceHookIsEmbeddedAndChecked() throws Exception {
        CapturedAttention c = synthetic(new String[] {"[CLS]", "a", "b", "[SEP]"}, 2, 2);
        AttentionSummary s = AttentionSummary.of(c);
        String html = HtmlReport.render(c, s, ReportOptions.defaults().importance(new double[][] {{0.5, 0.25}, {0.125, 1}}));
        int bodyStart = html.indexOf('>', html.indexOf("id=\"report-data\"")) + 1;
        JsonNode d = new ObjectMapper().readTree(html.substring(bodyStart, html.indexOf("</script>", bodyStart)));
        assertEquals(0.125, d.get("importance").get(1).get(0).asDouble());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HtmlReport.render(c, s, ReportOptions.defaults().importance(new double[][] {{1, 2}})));
        assertTrue(e.getMessage().startsWith("importance: 1 layers, expected 2"), e.getMessage());
    }

    @Test
    void pairStartIsEmbeddedOnlyForAPair() throws Exception {
        String[] tokens = {"[CLS]", "where", "cat", "[SEP]", "mat", "[SEP]"};
        CapturedAttention one = synthetic(tokens, 2, 2);
        CapturedAttention pair = new CapturedAttention(tokens, one.ids(), new int[] {0, 0, 0, 0, 1, 1}, one.probs(), one.hidden());
        JsonNode d = data(HtmlReport.render(pair, AttentionSummary.of(pair), ReportOptions.defaults()));
        assertEquals(4, d.get("secondStart").asInt());
        assertTrue(d.get("secondStart").isInt());
        JsonNode single = data(HtmlReport.render(one, AttentionSummary.of(one), ReportOptions.defaults()));
        assertFalse(single.has("secondStart"), single.toString().substring(0, 200));
    }

    @Test
    void nonFiniteValuesAreMissingNotZeroAndThePageSaysSo() throws Exception {
        CapturedAttention c = synthetic(new String[] {"[CLS]", "a", "b", "[SEP]"}, 2, 2);
        AttentionSummary s = AttentionSummary.of(c);
        s.rankCollapse()[1] = Double.NaN; // a summary computed elsewhere, or an importance by ablation, may hold NaN or ±Inf
        String html = HtmlReport.render(c, s,
                ReportOptions.defaults().model("m").importance(new double[][] {{0.5, Double.POSITIVE_INFINITY}, {Double.NEGATIVE_INFINITY, 1}}));
        JsonNode d = data(html);
        assertTrue(d.get("rankCollapse").get(1).isNull(), "rank collapse: " + d.get("rankCollapse"));
        assertTrue(d.get("rankCollapse").get(0).isNumber());
        assertTrue(d.get("importance").get(0).get(1).isNull());
        assertTrue(d.get("importance").get(1).get(0).isNull());
        assertEquals(0.5, d.get("importance").get(0).get(0).asDouble());
        int nulls = countNulls(d); // every null in the data is a replaced value (model and importance are given)
        assertTrue(nulls >= 3, "nulls " + nulls);
        assertEquals(nulls, d.get("missing").asInt(), "missing counts every replaced value");
        String note = "<p class=\"missing-note\" id=\"missing-note\">" + nulls + " values were NaN or \u00b1Inf, shown as missing";
        assertTrue(html.contains(note), html.substring(0, Math.min(html.length(), 4000)));
        assertFalse(html.contains("@MISSING@"));

        CapturedAttention clean = synthetic(new String[] {"[CLS]", "a", "[SEP]"}, 1, 2);
        String cleanHtml = HtmlReport.render(clean, AttentionSummary.of(clean), ReportOptions.defaults());
        assertEquals(0, data(cleanHtml).get("missing").asInt());
        assertFalse(cleanHtml.contains("missing-note\""), "no note when every value is finite");
        assertFalse(cleanHtml.contains("@MISSING@"));
    }

    static int countNulls(JsonNode n) {
        if (n.isNull()) return 1;
        int c = 0;
        for (JsonNode child : n) c += countNulls(child);
        return c;
    }

    static JsonNode data(String html) throws Exception {
        int bodyStart = html.indexOf('>', html.indexOf("id=\"report-data\"")) + 1;
        return new ObjectMapper().readTree(html.substring(bodyStart, html.indexOf("</script>", bodyStart)));
    }

    static double sum(JsonNode a) {
        double s = 0;
        for (JsonNode v : a) s += v.asDouble();
        return s;
    }
}
