package org.attn4j.explain.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Capture and analyses on the real all-MiniLM-L6-v2. */
class CapturedAttentionTest {
    static Embedder model;

    @BeforeAll
    static void load() throws IOException {
        model = Embedder.load(Embedder.MINILM);
    }

    @Test
    void capturedProbabilitiesAreDistributionsAndAnalysesAreInRange() {
        CapturedAttention c = CapturedAttention.of(model, "The cat sat on the mat. The cat slept.");
        assertEquals(6, c.layers());
        assertEquals(12, c.heads());
        assertEquals("[CLS]", c.tokens()[0]);
        assertEquals(7, c.hidden().length);
        for (double[][][] layer : c.probs())
            for (double[][] head : layer)
                for (double[] row : head) {
                    double s = 0;
                    for (double p : row) {
                        assertTrue(p >= 0 && p <= 1);
                        s += p;
                    }
                    assertEquals(1.0, s, 1e-6);
                }
        AttentionSummary sum = AttentionSummary.of(c);
        for (double[][] scores : sum.detectors().values())
            for (double[] l : scores) for (double s : l) assertTrue(s >= 0 && s <= 1, "detector score " + s);
        for (double r : sum.sinkRates()) assertTrue(r >= 0 && r <= 1);
        for (double r : sum.rankCollapse()) assertTrue(r >= 0 && r <= 1.0 + 1e-9, "rank collapse " + r);
        String text = sum.text(c);
        assertTrue(text.contains("previous-token") && text.contains("layer 5"), text);
    }

    @Test
    void pairsCarryTokenTypes() {
        CapturedAttention c = CapturedAttention.ofPair(model, "Where is the cat?", "The cat is on the mat.");
        int second = c.secondStart();
        assertEquals("[SEP]", c.tokens()[second - 1]);
        assertEquals("the", c.tokens()[second]);
        assertEquals(1, c.typeIds()[c.length() - 1]);
        assertEquals(0, c.typeIds()[0]);
        assertEquals(c.length(), c.probs()[0][0].length);
    }

    @Test
    void ablatingEveryHeadOfALayerChangesTheEmbedding() {
        int[][] ids = {model.tokenizer().encode("Attention is all you need.", 512).ids()};
        BertEncoder enc = model.encoder();
        float[] plain = Embedder.pool(enc.forward(ids, null, 1), 0, enc.config().pooling());
        for (int layer = 0; layer < 6; layer++) {
            final int ablate = layer;
            float[] cut = Embedder.pool(enc.forward(ids, null, 1, new BertEncoder.Probe() {
                @Override
                public float headScale(int l, int head) { return l == ablate ? 0f : 1f; }
            }), 0, enc.config().pooling());
            double cos = 0;
            for (int i = 0; i < plain.length; i++) cos += plain[i] * cut[i];
            assertTrue(cos < 0.9999, "layer " + layer + " ablated: cosine to the full model " + cos);
        }
    }
}
