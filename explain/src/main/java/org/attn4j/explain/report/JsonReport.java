package org.attn4j.explain.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.attn4j.explain.analysis.AttentionFlow;
import org.attn4j.explain.analysis.AttentionRollout;
import org.attn4j.explain.capture.AttentionSummary;
import org.attn4j.explain.capture.CapturedAttention;
import org.attn4j.explain.importance.HeadAblation;

/**
 * The JSON form of an explanation, as {@code attn4j explain --json} writes it: the bertviz-compatible
 * {@code attention} views and {@code default_filter}, and under {@code attn4j} every analysis the HTML
 * report draws, at full precision (the report rounds to four decimals). The fields are documented in
 * docs/explain.md.
 */
public final class JsonReport {
    private static final ObjectMapper OM = new ObjectMapper();

    private JsonReport() {}

    /**
     * Builds the document. Rollout and flow use mean head fusion with the residual, as the report
     * does; the full flow matrix costs n² max-flows (about 4–6 s at 128 tokens × 6 layers).
     *
     * @param importance head importance by ablation, or null when it was not computed (then
     *                   {@code attn4j.importance} is null)
     */
    public static ObjectNode build(CapturedAttention c, AttentionSummary s, HeadAblation.Scores importance) {
        if (importance != null && (importance.raw().length != c.layers() || importance.raw()[0].length != c.heads())) {
            throw new IllegalArgumentException("importance: expected [" + c.layers() + "][" + c.heads() + "] scores, got ["
                    + importance.raw().length + "][" + importance.raw()[0].length + "]");
        }
        ObjectNode root = OM.createObjectNode();
        ArrayNode attention = root.putArray("attention");
        ObjectNode all = attention.addObject();
        all.putNull("name");
        all.set("attn", OM.valueToTree(c.probs()));
        all.set("left_text", OM.valueToTree(c.prettyTokens()));
        all.set("right_text", OM.valueToTree(c.prettyTokens()));
        int split = c.secondStart();
        if (split < c.length()) {
            all.put("name", "All");
            int[][] parts = {{0, split}, {split, c.length()}};
            String[] names = {"Sentence A", "Sentence B"};
            for (int[] view : new int[][] {{0, 0}, {1, 1}, {0, 1}, {1, 0}}) {
                int[] rows = parts[view[0]], cols = parts[view[1]];
                ObjectNode e = attention.addObject();
                e.put("name", names[view[0]] + " -> " + names[view[1]]);
                double[][][][] sub = new double[c.layers()][c.heads()][rows[1] - rows[0]][cols[1] - cols[0]];
                for (int l = 0; l < c.layers(); l++)
                    for (int h = 0; h < c.heads(); h++)
                        for (int i = rows[0]; i < rows[1]; i++)
                            System.arraycopy(c.probs()[l][h][i], cols[0], sub[l][h][i - rows[0]], 0, cols[1] - cols[0]);
                e.set("attn", OM.valueToTree(sub));
                e.set("left_text", OM.valueToTree(c.prettyTokens().subList(rows[0], rows[1])));
                e.set("right_text", OM.valueToTree(c.prettyTokens().subList(cols[0], cols[1])));
            }
        }
        root.put("default_filter", "0");

        ObjectNode analyses = root.putObject("attn4j");
        analyses.set("tokens", OM.valueToTree(c.tokens()));
        analyses.put("layers", c.layers());
        analyses.put("heads", c.heads());
        if (split > 0 && split < c.length()) analyses.put("second_start", split);
        else analyses.putNull("second_start");
        analyses.set("sink_rates", OM.valueToTree(s.sinkRates()));
        ObjectNode det = analyses.putObject("detectors");
        for (Map.Entry<String, double[][]> e : s.detectors().entrySet()) det.set(e.getKey(), OM.valueToTree(e.getValue()));
        analyses.set("entropy", OM.valueToTree(s.entropy()));
        analyses.set("mean_distance", OM.valueToTree(s.distance()));
        analyses.set("rank_collapse", OM.valueToTree(s.rankCollapse()));

        AttentionRollout.HeadFusion fusion = AttentionRollout.HeadFusion.MEAN;
        ObjectNode rollout = analyses.putObject("rollout");
        rollout.put("head_fusion", "mean");
        rollout.set("matrix", OM.valueToTree(AttentionRollout.rollout(c.probs(), fusion)));
        rollout.set("cls_row", OM.valueToTree(AttentionRollout.rolloutRow(c.probs(), fusion, 0)));
        rollout.set("mean_row", OM.valueToTree(AttentionRollout.rolloutMeanRow(c.probs(), fusion)));
        ObjectNode flow = analyses.putObject("flow");
        flow.put("head_fusion", "mean");
        double[][] flowMatrix = AttentionFlow.flow(c.probs(), fusion);
        flow.set("matrix", OM.valueToTree(flowMatrix));
        // The report's relevance bar for flow is the [CLS] output's row; the matrix already holds it.
        flow.set("cls_row", OM.valueToTree(flowMatrix[0]));

        if (importance == null) {
            analyses.putNull("importance");
        } else {
            ObjectNode imp = analyses.putObject("importance");
            imp.put("sentences", importance.sentences());
            imp.set("raw", OM.valueToTree(importance.raw()));
            imp.set("normalised", OM.valueToTree(importance.normalised()));
        }
        return root;
    }
}
