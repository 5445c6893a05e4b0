package org.attn4j.explain.capture;

import java.util.ArrayList;
import java.util.List;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.embed.Embedder;
import org.attn4j.models.tokenizer.Encoding;

/**
 * One text run through a model with its attention captured.
 *
 * @param tokens the word pieces, [CLS] and [SEP] included
 * @param ids    their ids
 * @param typeIds 0 for the first sentence (and [CLS]), 1 for the second of a pair
 * @param probs  attention probabilities {@code [layer][head][query][key]} (rows sum to 1)
 * @param hidden hidden states {@code [layer + 1][token][hidden]}: index 0 is the embeddings' output
 */
public record CapturedAttention(String[] tokens, int[] ids, int[] typeIds, double[][][][] probs, double[][][] hidden) {

    public int layers() { return probs.length; }
    public int heads() { return probs[0].length; }
    public int length() { return tokens.length; }

    /** Runs {@code text} through {@code model}'s encoder with every layer's probabilities captured. */
    public static CapturedAttention of(Embedder model, String text) {
        return capture(model, model.tokenizer().encode(text, model.maxTokens()));
    }

    /** A sentence pair ([CLS] a [SEP] b [SEP], token types 0 and 1), as for bertviz's A→B filters. */
    public static CapturedAttention ofPair(Embedder model, String a, String b) {
        return capture(model, model.tokenizer().encodePair(a, b, model.maxTokens()));
    }

    /** Index of the first token of the second sentence, or the length when there is none. */
    public int secondStart() {
        for (int i = 0; i < typeIds.length; i++) if (typeIds[i] == 1) return i;
        return typeIds.length;
    }

    private static CapturedAttention capture(Embedder model, Encoding enc) {
        int layers = model.encoder().config().layers(), heads = model.encoder().config().heads(), n = enc.length();
        double[][][][] probs = new double[layers][heads][n][n];
        List<double[][]> hidden = new ArrayList<>();
        for (int l = 0; l <= layers; l++) hidden.add(null);
        int h = model.dimension();
        model.encoder().forward(new int[][] {enc.ids()}, new int[][] {enc.typeIds()}, 0, new BertEncoder.Probe() {
            @Override
            public boolean wantsProbabilities(int layer) { return true; }

            @Override
            public void probabilities(int layer, int sequence, float[] p, int len) {
                for (int hh = 0; hh < heads; hh++)
                    for (int i = 0; i < len; i++)
                        for (int j = 0; j < len; j++) probs[layer][hh][i][j] = p[(hh * len + i) * len + j];
            }

            @Override
            public void hidden(int layer, int sequence, float[] states, int len) {
                double[][] m = new double[len][h];
                for (int t = 0; t < len; t++) for (int c = 0; c < h; c++) m[t][c] = states[t * h + c];
                hidden.set(layer, m);
            }
        });
        return new CapturedAttention(enc.tokens(), enc.ids(), enc.typeIds(), probs, hidden.toArray(new double[0][][]));
    }

    /** Tokens without WordPiece continuation marks, as attention viewers show them. */
    public List<String> prettyTokens() {
        List<String> out = new ArrayList<>();
        for (String t : tokens) out.add(t.startsWith("##") ? t.substring(2) : t);
        return out;
    }
}
