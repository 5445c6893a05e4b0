package org.attn4j.explain.capture;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.attn4j.explain.analysis.AttentionSinks;
import org.attn4j.explain.analysis.AttentionStats;
import org.attn4j.explain.analysis.HeadDetectors;
import org.attn4j.explain.analysis.RankCollapse;

/**
 * The analyses of one captured text: sink rates per token, detector scores per head, mean entropy
 * and distance per head, rank-collapse ratio per layer; and a short text summary of them.
 */
public record AttentionSummary(double[] sinkRates, Map<String, double[][]> detectors, double[][] entropy, double[][] distance,
                               double[] rankCollapse) {

    /** Computes every analysis on {@code c}. Sink-like tokens are [CLS], [SEP] and punctuation. */
    public static AttentionSummary of(CapturedAttention c) {
        int n = c.length();
        int[] ids = c.ids();
        List<Integer> sinkPositions = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String t = c.tokens()[i];
            if (t.equals("[CLS]") || t.equals("[SEP]") || (t.length() == 1 && !Character.isLetterOrDigit(t.codePointAt(0)))) sinkPositions.add(i);
        }
        Map<String, double[][]> det = new LinkedHashMap<>();
        det.put("previous-token", HeadDetectors.scores(c.probs(), HeadDetectors.previousToken(n), false, false));
        det.put("next-token", HeadDetectors.scores(c.probs(), HeadDetectors.nextToken(n), false, false));
        det.put("duplicate-token", HeadDetectors.scores(c.probs(), HeadDetectors.duplicateToken(ids), true, true));
        det.put("sink", HeadDetectors.scores(c.probs(), HeadDetectors.sink(n, sinkPositions.stream().mapToInt(Integer::intValue).toArray()), false, false));
        return new AttentionSummary(AttentionSinks.sinkRates(c.probs()), det, AttentionStats.meanEntropy(c.probs(), n),
                AttentionStats.meanDistance(c.probs(), n), RankCollapse.ratios(c.hidden()));
    }

    /** Human-readable summary: tokens, top sinks, the strongest heads of each type, per-layer entropy and rank collapse. */
    public String text(CapturedAttention c) {
        StringBuilder sb = new StringBuilder();
        List<String> tok = c.prettyTokens();
        sb.append(String.format(Locale.ROOT, "%d tokens: %s%n", tok.size(), String.join(" ", tok)));
        sb.append("attention sinks (share of layer×head pairs whose mean attention to the token exceeds 0.3):\n");
        Integer[] order = new Integer[sinkRates.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(sinkRates[b], sinkRates[a]));
        for (int r = 0; r < Math.min(3, order.length); r++) {
            if (sinkRates[order[r]] == 0) break;
            sb.append(String.format(Locale.ROOT, "  %-12s (position %d): %.2f%n", tok.get(order[r]), order[r], sinkRates[order[r]]));
        }
        sb.append("strongest heads by type (score = attention mass on the pattern):\n");
        for (Map.Entry<String, double[][]> e : detectors.entrySet()) {
            double[][] s = e.getValue();
            int bl = 0, bh = 0;
            for (int l = 0; l < s.length; l++) for (int h = 0; h < s[l].length; h++) if (s[l][h] > s[bl][bh]) { bl = l; bh = h; }
            sb.append(String.format(Locale.ROOT, "  %-16s layer %d head %2d: %.2f%n", e.getKey(), bl, bh, s[bl][bh]));
        }
        sb.append("per layer: mean entropy (nats) | mean distance (tokens) | rank-collapse ratio after the layer\n");
        for (int l = 0; l < entropy.length; l++) {
            double ent = 0, dist = 0;
            for (int h = 0; h < entropy[l].length; h++) {
                ent += entropy[l][h] / entropy[l].length;
                dist += distance[l][h] / distance[l].length;
            }
            sb.append(String.format(Locale.ROOT, "  layer %d: %.3f | %.2f | %.4f%n", l, ent, dist, rankCollapse[l + 1]));
        }
        sb.append(String.format(Locale.ROOT, "  embeddings rank-collapse ratio: %.4f%n", rankCollapse[0]));
        return sb.toString();
    }
}
