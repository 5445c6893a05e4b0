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
    void probeCapturesProbabilitiesAndHiddenStatesWithoutChangingTheOutput() {
        TinyBert tiny = new TinyBert(11, 48, 4, 64, 3, 100, 70);
        BertEncoder enc = new BertEncoder(tiny.cfg, tiny.weights);
        int[][] ids = {{1, 5, 9, 33, 2}, new int[70]};
        for (int t = 0; t < 70; t++) ids[1][t] = (t * 7) % 100;
        float[] plain = enc.forward(ids, null, 2).hidden();
        java.util.Map<String, float[]> seen = new java.util.HashMap<>();
        BertEncoder.Output captured = enc.forward(ids, null, 2, new BertEncoder.Probe() {
            @Override public boolean wantsProbabilities(int layer) { return true; }
            @Override public void probabilities(int layer, int seq, float[] p, int n) { seen.put("layer." + layer + ".attn.probs/" + seq, p); }
            @Override public void hidden(int layer, int seq, float[] h, int n) { seen.put("layer." + layer + ".resid_post/" + seq, h); }
        });
        // probabilities come from the reference kernel: the output must equal the fast path's
        for (int i = 0; i < plain.length; i++) assertEquals(plain[i], captured.hidden()[i], 2e-5);
        for (int l = 0; l < 3; l++) {
            for (int seq = 0; seq < 2; seq++) {
                int n = ids[seq].length;
                float[] p = seen.get("layer." + l + ".attn.probs/" + seq);
                assertEquals(4 * n * n, p.length);
                for (int row = 0; row < 4 * n; row++) {
                    double sum = 0;
                    for (int j = 0; j < n; j++) sum += p[row * n + j];
                    assertEquals(1.0, sum, 1e-6, "layer " + l + " seq " + seq + " row " + row);
                }
            }
        }
        assertEquals(4 * 2, seen.keySet().stream().filter(k -> k.contains("resid_post")).count());
        float[] last = seen.get("layer.3.resid_post/1");
        for (int c = 0; c < last.length; c++) assertEquals(captured.hidden()[5 * 48 + c], last[c]);
    }

    @Test
    void readHooksAgreeWithEachOtherAndEditHooksTakeEffect() {
        TinyBert tiny = new TinyBert(13, 48, 4, 64, 2, 100, 30);
        BertEncoder enc = new BertEncoder(tiny.cfg, tiny.weights);
        int[][] ids = {{7, 1, 4, 1, 5, 9, 2}};
        int n = 7, heads = 4, hd = 12;
        java.util.Map<String, float[]> got = new java.util.HashMap<>();
        BertEncoder.Probe reader = new BertEncoder.Probe() {
            @Override public boolean wantsProbabilities(int l) { return l == 0; }
            @Override public void probabilities(int l, int s, float[] p, int len) { got.put("probs", p); }
            @Override public boolean wantsScores(int l) { return l == 0; }
            @Override public void scores(int l, int s, float[] x, int len) { got.put("scores", x); }
            @Override public boolean wantsQkv(int l) { return l == 0; }
            @Override public void qkv(int l, int s, float[] q, float[] k, float[] v, int len) { got.put("q", q); got.put("k", k); got.put("v", v); }
            @Override public boolean wantsContext(int l) { return l == 0; }
            @Override public void context(int l, int s, float[] c, int len) { got.put("ctx", c); }
        };
        float[] plain = enc.forward(ids, null, 1).hidden();
        enc.forward(ids, null, 1, reader);
        float[] probs = got.get("probs"), scores = got.get("scores"), q = got.get("q"), k = got.get("k"), v = got.get("v"), ctx = got.get("ctx");
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY, z = 0;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) dot += q[(h * n + i) * hd + d] * k[(h * n + j) * hd + d];
                    assertEquals(dot / Math.sqrt(hd), scores[(h * n + i) * n + j], 1e-4, "scores = q.k/sqrt(d)");
                    max = Math.max(max, scores[(h * n + i) * n + j]);
                }
                for (int j = 0; j < n; j++) z += Math.exp(scores[(h * n + i) * n + j] - max);
                for (int j = 0; j < n; j++) {
                    assertEquals(Math.exp(scores[(h * n + i) * n + j] - max) / z, probs[(h * n + i) * n + j], 1e-5, "probs = softmax(scores)");
                }
                for (int d = 0; d < hd; d++) {
                    double c = 0;
                    for (int j = 0; j < n; j++) c += probs[(h * n + i) * n + j] * v[(h * n + j) * hd + d];
                    assertEquals(c, ctx[i * 48 + h * hd + d], 1e-4, "ctx = probs . v");
                }
            }
        // replacing layer 0's maps by the model's own maps changes nothing; uniform maps change the output
        float[] own = probs.clone();
        float[] same = enc.forward(ids, null, 1, new BertEncoder.Probe() {
            @Override public float[] replaceProbabilities(int l, int s, int len) { return l == 0 ? own : null; }
        }).hidden();
        for (int i = 0; i < plain.length; i++) assertEquals(plain[i], same[i], 2e-5);
        float[] uniform = new float[heads * n * n];
        java.util.Arrays.fill(uniform, 1f / n);
        float[] flat = enc.forward(ids, null, 1, new BertEncoder.Probe() {
            @Override public float[] replaceProbabilities(int l, int s, int len) { return l == 0 ? uniform : null; }
        }).hidden();
        double diff = 0;
        for (int i = 0; i < plain.length; i++) diff = Math.max(diff, Math.abs(plain[i] - flat[i]));
        assertTrue(diff > 1e-3, "uniform attention must change the output");
        // a -inf bias on key 0 removes it from every query's attention in that layer
        float[] bias = new float[heads * n * n];
        for (int h = 0; h < heads; h++) for (int i = 0; i < n; i++) bias[(h * n + i) * n] = Float.NEGATIVE_INFINITY;
        enc.forward(ids, null, 1, new BertEncoder.Probe() {
            @Override public float[] attentionBias(int l, int s, int len) { return l == 0 ? bias : null; }
            @Override public boolean wantsProbabilities(int l) { return l == 0; }
            @Override public void probabilities(int l, int s, float[] p, int len) { got.put("biased", p); }
        });
        float[] biased = got.get("biased");
        for (int h = 0; h < heads; h++) for (int i = 0; i < n; i++) assertEquals(0f, biased[(h * n + i) * n], "key 0 masked");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> enc.forward(ids, null, 1, new BertEncoder.Probe() {
            @Override public float[] attentionBias(int l, int s, int len) { return new float[3]; }
        }));
        assertTrue(e.getMessage().contains("attentionBias") && e.getMessage().contains("196"), e.getMessage());
    }

    @Test
    void headScaleAblatesHeads() {
        TinyBert tiny = new TinyBert(12, 48, 4, 64, 2, 100, 30);
        BertEncoder enc = new BertEncoder(tiny.cfg, tiny.weights);
        int[][] ids = {{3, 1, 4, 1, 5, 9, 2, 6}};
        float[] plain = enc.forward(ids, null, 1).hidden();
        float[] same = enc.forward(ids, null, 1, new BertEncoder.Probe() {}).hidden();
        assertEquals(0, java.util.Arrays.compare(plain, same), "a probe that asks for nothing changes nothing");
        float[] ablated = enc.forward(ids, null, 1, new BertEncoder.Probe() {
            @Override public float headScale(int layer, int head) { return layer == 0 ? 0f : 1f; }
        }).hidden();
        double diff = 0;
        for (int i = 0; i < plain.length; i++) diff = Math.max(diff, Math.abs(plain[i] - ablated[i]));
        assertTrue(diff > 1e-3, "zeroing every head of layer 0 must change the output, max diff " + diff);
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
