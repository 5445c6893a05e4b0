package org.attn4j.train.probe;

import java.util.List;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.embed.Embedder;

/**
 * The frozen encoder's last hidden states of every text, computed once and kept in memory: per
 * text a row-major {@code [len, hidden]} array, {@code len} counting {@code [CLS]} (row 0) and
 * {@code [SEP]} and capped at the embedder's {@link Embedder#maxTokens()}.
 */
public final class TokenStates {
    private TokenStates() {}

    /** Encodes {@code texts} in forward passes of {@code batch} texts each. */
    public static float[][] encode(Embedder embedder, List<String> texts, int batch) {
        if (batch < 1) throw new IllegalArgumentException("batch: expected >= 1, got " + batch);
        int h = embedder.dimension();
        float[][] out = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += batch) {
            BertEncoder.Output o = embedder.run(texts.subList(from, Math.min(texts.size(), from + batch))).hidden();
            for (int b = 0; b < o.batch(); b++) {
                int start = o.offsets()[b] * h, len = o.length(b);
                float[] x = new float[len * h];
                System.arraycopy(o.hidden(), start, x, 0, len * h);
                out[from + b] = x;
            }
        }
        return out;
    }

    /** Mean over each text's tokens: {@code [texts][hidden]}. */
    public static float[][] mean(float[][] states, int hidden) {
        float[][] out = new float[states.length][hidden];
        for (int i = 0; i < states.length; i++) {
            int len = states[i].length / hidden;
            double[] acc = new double[hidden];
            for (int t = 0; t < len; t++) for (int c = 0; c < hidden; c++) acc[c] += states[i][t * hidden + c];
            for (int c = 0; c < hidden; c++) out[i][c] = (float) (acc[c] / len);
        }
        return out;
    }

    /** The first token's ({@code [CLS]}) state of each text: {@code [texts][hidden]}. */
    public static float[][] cls(float[][] states, int hidden) {
        float[][] out = new float[states.length][];
        for (int i = 0; i < states.length; i++) out[i] = java.util.Arrays.copyOf(states[i], hidden);
        return out;
    }
}
