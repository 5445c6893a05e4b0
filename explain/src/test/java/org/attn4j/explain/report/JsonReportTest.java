package org.attn4j.explain.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.attn4j.explain.analysis.AttentionFlow;
import org.attn4j.explain.analysis.AttentionRollout;
import org.attn4j.explain.analysis.HeadImportance;
import org.attn4j.explain.capture.AttentionSummary;
import org.attn4j.explain.capture.CapturedAttention;
import org.attn4j.explain.importance.HeadAblation;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JSON carries every analysis the HTML report draws: each field equals the analysis computed
 * here through the explain API, and every data key of the report has its JSON counterpart.
 */
class JsonReportTest {
    static Embedder model;
    static CapturedAttention pair;
    static AttentionSummary summary;
    static HeadAblation.Scores importance;

    @BeforeAll
    static void load() throws IOException {
        model = Embedder.load(Embedder.MINILM);
        pair = CapturedAttention.ofPair(model, "Where is the cat?", "It sleeps on the mat.");
        summary = AttentionSummary.of(pair);
        importance = HeadAblation.score(model, List.of("Where is the cat? It sleeps on the mat.", "A dog runs."));
    }

    static void assertMatrix(double[][] want, JsonNode got, double tol, String what) {
        assertEquals(want.length, got.size(), what + " rows");
        for (int i = 0; i < want.length; i++) assertRow(want[i], got.get(i), tol, what + "[" + i + "]");
    }

    static void assertRow(double[] want, JsonNode got, double tol, String what) {
        assertEquals(want.length, got.size(), what + " length");
        for (int j = 0; j < want.length; j++) assertEquals(want[j], got.get(j).asDouble(), tol, what + "[" + j + "]");
    }

    @Test
    void rolloutFlowAndImportanceEqualTheAnalyses() {
        JsonNode a = JsonReport.build(pair, summary, importance).get("attn4j");
        int n = pair.length();
        double[][][][] p = pair.probs();
        var mean = AttentionRollout.HeadFusion.MEAN;

        double[][] rollout = AttentionRollout.rollout(p, mean);
        assertEquals("mean", a.get("rollout").get("head_fusion").asText());
        assertMatrix(rollout, a.get("rollout").get("matrix"), 0, "rollout.matrix");
        assertRow(AttentionRollout.rolloutRow(p, mean, 0), a.get("rollout").get("cls_row"), 1e-12, "rollout.cls_row");
        assertRow(AttentionRollout.rolloutMeanRow(p, mean), a.get("rollout").get("mean_row"), 1e-12, "rollout.mean_row");
        // The row and mean-row forms are other computations (vector × matrices); they must agree with the matrix.
        double[] colMean = new double[n];
        for (double[] row : rollout) for (int j = 0; j < n; j++) colMean[j] += row[j] / n;
        assertRow(rollout[0], a.get("rollout").get("cls_row"), 1e-12, "rollout.cls_row vs matrix row 0");
        assertRow(colMean, a.get("rollout").get("mean_row"), 1e-12, "rollout.mean_row vs the matrix's mean row");

        assertMatrix(AttentionFlow.flow(p, mean), a.get("flow").get("matrix"), 0, "flow.matrix");
        // The report computes its flow bar with n max-flows for the [CLS] output alone.
        assertRow(AttentionFlow.flowRow(p, mean, 0), a.get("flow").get("cls_row"), 1e-12, "flow.cls_row");
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (JsonNode v : a.get("flow").get("matrix").get(i)) s += v.asDouble();
            assertEquals(1.0, s, 1e-9, "flow row " + i + " sums to 1");
        }

        JsonNode imp = a.get("importance");
        assertEquals(2, imp.get("sentences").asInt());
        assertMatrix(importance.raw(), imp.get("raw"), 0, "importance.raw");
        assertMatrix(HeadImportance.normalisePerLayer(importance.raw()), imp.get("normalised"), 1e-12, "importance.normalised");
        assertEquals(pair.layers(), a.get("layers").asInt());
        assertEquals(pair.heads(), a.get("heads").asInt());
        assertEquals(pair.secondStart(), a.get("second_start").asInt());
    }

    @Test
    void theSummaryFieldsEqualTheSummary() {
        CapturedAttention single = CapturedAttention.of(model, "Dogs chase cats.");
        AttentionSummary s = AttentionSummary.of(single);
        JsonNode a = JsonReport.build(single, s, null).get("attn4j");
        assertTrue(a.get("importance").isNull(), "no importance computed: null");
        assertTrue(a.get("second_start").isNull(), "a single text has no sentence B");
        assertRow(s.sinkRates(), a.get("sink_rates"), 0, "sink_rates");
        assertEquals(s.detectors().keySet(), iterable(a.get("detectors").fieldNames()));
        for (Map.Entry<String, double[][]> e : s.detectors().entrySet()) assertMatrix(e.getValue(), a.get("detectors").get(e.getKey()), 0, e.getKey());
        assertMatrix(s.entropy(), a.get("entropy"), 0, "entropy");
        assertMatrix(s.distance(), a.get("mean_distance"), 0, "mean_distance");
        assertRow(s.rankCollapse(), a.get("rank_collapse"), 0, "rank_collapse");
        for (int i = 0; i < single.length(); i++) assertEquals(single.tokens()[i], a.get("tokens").get(i).asText());
    }

    static java.util.Set<String> iterable(java.util.Iterator<String> it) {
        java.util.Set<String> s = new java.util.LinkedHashSet<>();
        it.forEachRemaining(s::add);
        return s;
    }

    /** Where each data key of the HTML report lives in the JSON (presentational keys map to null). */
    static final Map<String, String> REPORT_TO_JSON = Map.ofEntries(
            Map.entry("text", ""), Map.entry("model", ""), Map.entry("missing", ""),
            Map.entry("tokens", "/attention/0/left_text"), Map.entry("rawTokens", "/attn4j/tokens"),
            Map.entry("layers", "/attn4j/layers"), Map.entry("heads", "/attn4j/heads"),
            Map.entry("secondStart", "/attn4j/second_start"), Map.entry("attn", "/attention/0/attn"),
            Map.entry("rollout", "/attn4j/rollout/cls_row"), Map.entry("flow", "/attn4j/flow/cls_row"),
            Map.entry("detectors", "/attn4j/detectors"), Map.entry("entropy", "/attn4j/entropy"),
            Map.entry("distance", "/attn4j/mean_distance"), Map.entry("sinkRates", "/attn4j/sink_rates"),
            Map.entry("rankCollapse", "/attn4j/rank_collapse"), Map.entry("importance", "/attn4j/importance/normalised"));

    @Test
    void everythingTheReportDrawsIsInTheJson() {
        ObjectNode html = HtmlReport.data(pair, summary, ReportOptions.defaults().importance(importance.normalised()), "t");
        JsonNode json = JsonReport.build(pair, summary, importance);
        html.fieldNames().forEachRemaining(key -> {
            assertTrue(REPORT_TO_JSON.containsKey(key), "the report draws '" + key + "', which the JSON does not map: add it to JsonReport and docs/explain.md");
            String ptr = REPORT_TO_JSON.get(key);
            if (ptr.isEmpty()) return;
            JsonNode got = json.at(ptr);
            assertTrue(!got.isMissingNode(), "JSON lacks " + ptr + " for the report's '" + key + "'");
            assertSameNumbers(html.get(key), got, key);
        });
    }

    /** Equal structure; numbers equal to the report's four-decimal rounding. */
    static void assertSameNumbers(JsonNode report, JsonNode json, String where) {
        if (report.isNumber()) {
            assertEquals(report.asDouble(), json.asDouble(), 0.5e-4 + 1e-12, where);
        } else if (report.isArray()) {
            assertEquals(report.size(), json.size(), where + " size");
            for (int i = 0; i < report.size(); i++) assertSameNumbers(report.get(i), json.get(i), where + "[" + i + "]");
        } else if (report.isObject()) {
            report.fieldNames().forEachRemaining(f -> assertSameNumbers(report.get(f), json.get(f), where + "." + f));
        } else {
            assertEquals(report.asText(), json.asText(), where);
        }
    }

    @Test
    void importanceOfTheWrongShapeIsRefused() {
        var wrong = new HeadAblation.Scores(new double[2][12], new double[2][12], 1);
        var e = assertThrows(IllegalArgumentException.class, () -> JsonReport.build(pair, summary, wrong));
        assertTrue(e.getMessage().contains("importance: expected [6][12]"), e.getMessage());
    }

    @Test
    void theDocumentIsValidJson() throws IOException {
        ObjectMapper om = new ObjectMapper();
        JsonNode back = om.readTree(om.writeValueAsString(JsonReport.build(pair, summary, importance)));
        assertEquals(5, back.get("attention").size(), "All plus the four sentence views");
    }
}
