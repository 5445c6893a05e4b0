package org.attn4j.models.bert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BertEncoderTest {

    @Test
    void packedBatchOfMixedLengthsMatchesFloat64Definition() {
        // hidden 96 with 6 heads of 16 and a 200-wide FFN: big enough for every GEMM tile path.
        TinyBert tiny = new TinyBert(7, 96, 6, 200, 2, 300, 130);
        BertEncoder enc = new BertEncoder(tiny.cfg, tiny.weights);
        Random r = new Random(3);
        int[] lengths = {1, 17, 130, 64, 5};
        int[][] ids = new int[lengths.length][], types = new int[lengths.length][];
        for (int b = 0; b < lengths.length; b++) {
            ids[b] = new int[lengths[b]];
            types[b] = new int[lengths[b]];
            for (int t = 0; t < lengths[b]; t++) {
                ids[b][t] = r.nextInt(300);
                types[b][t] = t > lengths[b] / 2 ? 1 : 0;
            }
        }
        for (int threads : new int[] {1, 2}) {
            BertEncoder.Output out = enc.forward(ids, types, threads);
            assertEquals(lengths.length, out.batch());
            for (int b = 0; b < lengths.length; b++) {
                double[][] expected = tiny.forward(ids[b], types[b]);
                assertEquals(lengths[b], out.length(b));
                for (int t = 0; t < lengths[b]; t++) {
                    float[] got = out.token(b, t);
                    for (int c = 0; c < 96; c++) {
                        assertEquals(expected[t][c], got[c], 2e-5, "seq " + b + " token " + t + " dim " + c + " threads " + threads);
                    }
                }
            }
        }
    }

    @Test
    void aSequenceIsUnaffectedByItsBatchmates() {
        TinyBert tiny = new TinyBert(8, 48, 4, 64, 2, 100, 64);
        BertEncoder enc = new BertEncoder(tiny.cfg, tiny.weights);
        int[] a = {5, 9, 11, 2}, other = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        float[] alone = enc.forward(new int[][] {a}, null, 1).hidden();
        BertEncoder.Output batched = enc.forward(new int[][] {other, a, other}, null, 2);
        for (int t = 0; t < a.length; t++) {
            float[] x = batched.token(1, t);
            for (int c = 0; c < 48; c++) assertEquals(alone[t * 48 + c], x[c], 1e-6);
        }
    }

    @Test
    void badInputNamesTheArgument() {
        TinyBert tiny = new TinyBert(9, 16, 2, 32, 1, 10, 8);
        BertEncoder enc = new BertEncoder(tiny.cfg, tiny.weights);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> enc.forward(new int[][] {{1, 10}}, null, 1));
        assertTrue(e.getMessage().contains("ids[0][1]") && e.getMessage().contains("0..9"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> enc.forward(new int[][] {new int[9]}, null, 1));
        assertTrue(e.getMessage().contains("1..8") && e.getMessage().contains("9"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> enc.forward(new int[][] {{1}}, new int[][] {{3}}, 1));
        assertTrue(e.getMessage().contains("typeIds[0][0]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BertEncoder(tiny.cfg, new org.attn4j.models.weights.ModelWeights(
                java.util.Map.of(), "empty.onnx")));
        assertTrue(e.getMessage().contains("empty.onnx") && e.getMessage().contains("embeddings.word_embeddings.weight"), e.getMessage());
    }
}
