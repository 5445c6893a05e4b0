package org.attn4j.models.bert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link BertGrad}'s float32 backward against central differences of {@link Bert64}, a float64
 * BERT written from the definitions: every entry of every parameter tensor of a 2-layer random
 * BERT, the word-embedding inputs, the head gates and the attention probabilities, on a batch of
 * three sequences of different lengths (so the padded attention problem has padding).
 *
 * <p>Tolerance, as in the training stack's checks: {@code |analytic − numeric| ≤ ABS·max|numeric of
 * the tensor| + REL·|numeric|}. The float64 differences with step 1e-5 are exact to ~1e-9 relative,
 * so the bound measures the float32 side (rounding of order 1e-7 times the terms summed, over a
 * dozen chained steps).
 */
class BertGradTest {
    static final double ABS = 4e-6, REL = 4e-5, STEP = 1e-5;
    static final int[][] IDS = {{1, 5, 9, 3, 2}, {1, 7, 2}, {1, 4, 4, 8, 11, 6, 2}};
    static final int[][] TYPES = {{0, 0, 0, 1, 1}, {0, 1, 1}, {0, 0, 0, 0, 1, 1, 1}};

    /** The objective of the checks: Σ_b ⟨normalise(pool_b), r_b⟩ + 0.3·Σ ⟨hidden, u⟩, touching pooling, normalisation and every token. */
    record Objective(BertConfig.Pooling pooling, double[][] r, double[][][] u) {
        static Objective random(BertConfig.Pooling pooling, int h, long seed) {
            Random rnd = new Random(seed);
            double[][] r = new double[IDS.length][h];
            double[][][] u = new double[IDS.length][][];
            for (int b = 0; b < IDS.length; b++) {
                for (int c = 0; c < h; c++) r[b][c] = rnd.nextGaussian();
                u[b] = new double[IDS[b].length][h];
                for (double[] row : u[b]) for (int c = 0; c < h; c++) row[c] = rnd.nextGaussian();
            }
            return new Objective(pooling, r, u);
        }

        double value(Bert64 m, double[][][] words, double[][] gates, Bert64.ProbsEdit edit) {
            double f = 0;
            for (int b = 0; b < IDS.length; b++) {
                double[][] x = m.forward(b, words[b], TYPES[b], gates, edit);
                f += Bert64.dot(Bert64.normalise(Bert64.pool(x, pooling)), r[b]);
                for (int t = 0; t < x.length; t++) f += 0.3 * Bert64.dot(x[t], u[b][t]);
            }
            return f;
        }

        /** ∂f/∂hidden for the analytic pass. */
        float[] dHidden(BertGrad.Pass pass, int h) {
            int[] off = pass.offsets();
            float[] d = new float[off[IDS.length] * h];
            for (int b = 0; b < IDS.length; b++) {
                float[] pooled = pass.pooled(b, pooling), rb = new float[h];
                for (int c = 0; c < h; c++) rb[c] = (float) r[b][c];
                BertGrad.poolBackward(BertGrad.normaliseBackward(pooled, rb), off[b], IDS[b].length, h, pooling, d);
                for (int t = 0; t < IDS[b].length; t++) for (int c = 0; c < h; c++) d[(off[b] + t) * h + c] += (float) (0.3 * u[b][t][c]);
            }
            return d;
        }
    }

    record Worst(String what, double ratio, int index, double analytic, double numeric) {}

    static Worst compare(String what, float[] analytic, double[] numeric) {
        return compare(what, analytic, numeric, 0);
    }

    /**
     * With {@code scaleFloor} > 0 the tensor scale is at least that: for a gradient that is zero by
     * construction (the key bias: softmax is invariant to a shift of a row's logits), rounding in
     * float32 is judged against the scale of its neighbour's gradient.
     */
    static Worst compare(String what, float[] analytic, double[] numeric, double scaleFloor) {
        assertEquals(numeric.length, analytic.length, what + " length");
        double scale = scaleFloor;
        for (double n : numeric) scale = Math.max(scale, Math.abs(n));
        assertTrue(scale > 1e-8, what + ": the numeric gradient is all zero, the check would prove nothing");
        Worst worst = new Worst(what, 0, -1, 0, 0);
        for (int i = 0; i < numeric.length; i++) {
            double ratio = Math.abs(analytic[i] - numeric[i]) / (ABS * scale + REL * Math.abs(numeric[i]));
            if (worst.index < 0 || !(ratio <= worst.ratio)) worst = new Worst(what, ratio, i, analytic[i], numeric[i]);
        }
        return worst;
    }

    static double[][][] words(Bert64 m) {
        double[][][] w = new double[IDS.length][][];
        for (int b = 0; b < IDS.length; b++) w[b] = m.words(IDS[b]);
        return w;
    }

    static float[][] gates(int layers, int heads, long seed) {
        Random r = new Random(seed);
        float[][] g = new float[layers][heads];
        for (float[] row : g) for (int i = 0; i < heads; i++) row[i] = (float) (0.6 + 0.8 * r.nextDouble());
        return g;
    }

    static double[][] toDouble(float[][] a) {
        double[][] d = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            d[i] = new double[a[i].length];
            for (int j = 0; j < a[i].length; j++) d[i][j] = a[i][j];
        }
        return d;
    }

    private static List<Worst> checkEverything(BertConfig.Pooling pooling, long seed) {
        TinyBert tiny = new TinyBert(seed, 8, 2, 12, 2, 13, 7);
        BertConfig cfg = new BertConfig(8, 2, 2, 12, 7, 13, 2, 1e-12, pooling);
        BertGrad grad = new BertGrad(new BertEncoder(cfg, tiny.weights));
        Bert64 m = new Bert64(cfg, tiny.weights);
        Objective obj = Objective.random(pooling, 8, seed + 1);
        float[][] gates = gates(2, 2, seed + 2);
        double[][] g64 = toDouble(gates);
        BertGrad.Pass pass = grad.forward(grad.input(IDS, TYPES), gates, 1);
        BertGrad.Gradients g = pass.backward(obj.dHidden(pass, 8), true);
        double[][][] words = words(m);
        List<Worst> out = new ArrayList<>();
        // every parameter entry
        for (Map.Entry<String, double[]> e : m.p.entrySet()) {
            double[] theta = e.getValue(), num = new double[theta.length];
            for (int i = 0; i < theta.length; i++) {
                double keep = theta[i];
                theta[i] = keep + STEP;
                // the word table also feeds the word vectors, which Bert64 takes as an input
                double plus = obj.value(m, words(m), g64, null);
                theta[i] = keep - STEP;
                double minus = obj.value(m, words(m), g64, null);
                theta[i] = keep;
                num[i] = (plus - minus) / (2 * STEP);
            }
            String name = e.getKey();
            if (name.endsWith("attention.self.key.bias")) {
                double keyScale = 0;
                for (double v : num) keyScale = Math.max(keyScale, Math.abs(v));
                assertTrue(keyScale < 1e-8, name + ": a shift of every logit of a row changes nothing, so its gradient is 0; got " + keyScale);
                double queryScale = 0;
                for (float v : g.parameters().get(name.replace("key.bias", "query.bias"))) queryScale = Math.max(queryScale, Math.abs(v));
                out.add(compare(name, g.parameters().get(name), num, queryScale));
            } else {
                out.add(compare(name, g.parameters().get(name), num));
            }
        }
        assertEquals(m.p.keySet(), g.parameters().keySet(), "a gradient for every parameter tensor, and no other");
        // word-embedding inputs of every token
        for (int b = 0; b < IDS.length; b++) {
            double[] num = new double[IDS[b].length * 8];
            for (int t = 0; t < IDS[b].length; t++)
                for (int c = 0; c < 8; c++) {
                    double keep = words[b][t][c];
                    words[b][t][c] = keep + STEP;
                    double plus = obj.value(m, words, g64, null);
                    words[b][t][c] = keep - STEP;
                    double minus = obj.value(m, words, g64, null);
                    words[b][t][c] = keep;
                    num[t * 8 + c] = (plus - minus) / (2 * STEP);
                }
            out.add(compare("words[" + b + "]", g.words()[b], num));
        }
        // head gates: the analytic ∂f/∂ξ is the sum over sequences
        double[] numGates = new double[4];
        float[] anaGates = new float[4];
        for (int l = 0; l < 2; l++)
            for (int h = 0; h < 2; h++) {
                double keep = g64[l][h];
                g64[l][h] = keep + STEP;
                double plus = obj.value(m, words, g64, null);
                g64[l][h] = keep - STEP;
                double minus = obj.value(m, words, g64, null);
                g64[l][h] = keep;
                numGates[l * 2 + h] = (plus - minus) / (2 * STEP);
                for (int b = 0; b < IDS.length; b++) anaGates[l * 2 + h] += (float) g.gates()[b][l][h];
            }
        out.add(compare("gates", anaGates, numGates));
        // attention probabilities of every layer and sequence
        for (int l = 0; l < 2; l++)
            for (int b = 0; b < IDS.length; b++) {
                int n = IDS[b].length, layer = l, seq = b;
                double[] num = new double[2 * n * n];
                for (int i = 0; i < num.length; i++) {
                    int idx = i;
                    double[] plusMinus = new double[2];
                    for (int s = 0; s < 2; s++) {
                        double delta = s == 0 ? STEP : -STEP;
                        plusMinus[s] = obj.value(m, words, g64, (ll, bb, p) -> {
                            if (ll == layer && bb == seq) p[idx / (n * n)][idx / n % n][idx % n] += delta;
                        });
                    }
                    num[i] = (plusMinus[0] - plusMinus[1]) / (2 * STEP);
                }
                out.add(compare("layer." + l + ".attn.probs grad, seq " + b, g.probs()[l][b], num));
            }
        return out;
    }

    private static void assertAllWithin(List<Worst> results) {
        StringBuilder fails = new StringBuilder();
        double worst = 0;
        for (Worst w : results) {
            worst = Math.max(worst, w.ratio());
            if (!(w.ratio() <= 1)) fails.append(w).append('\n');
        }
        assertTrue(fails.isEmpty(), fails.toString());
        System.out.printf("BertGradTest: %d tensors checked, worst at %.3f of the tolerance%n", results.size(), worst);
    }

    @Test
    void meanPoolingEveryParameterAndInputAgainstFloat64() {
        assertAllWithin(checkEverything(BertConfig.Pooling.MEAN, 21));
    }

    @Test
    void clsPoolingEveryParameterAndInputAgainstFloat64() {
        assertAllWithin(checkEverything(BertConfig.Pooling.CLS, 22));
    }

    /**
     * The entry point of relation distillation: an objective that reads layer 0's query, key and
     * value projections (a random quadratic form of them, so its gradient depends on where it is
     * taken), of a 2-layer model, against float64 central differences of every parameter. Layer 1
     * and layer 0's attention output and FFN do not reach it: their gradients must be exactly zero.
     */
    @Test
    void backwardFromQkvEveryParameterAgainstFloat64() {
        TinyBert tiny = new TinyBert(31, 8, 2, 12, 2, 13, 7);
        BertConfig cfg = tiny.cfg;
        BertGrad grad = new BertGrad(new BertEncoder(cfg, tiny.weights));
        Bert64 m = new Bert64(cfg, tiny.weights);
        int h = 8, layer = 0;
        Random rnd = new Random(32);
        double[][][] u = new double[IDS.length][][];
        for (int b = 0; b < IDS.length; b++) {
            u[b] = new double[IDS[b].length][3 * h];
            for (double[] row : u[b]) for (int c = 0; c < 3 * h; c++) row[c] = rnd.nextGaussian();
        }
        // f = Σ_b Σ_t Σ_c u·x + 0.25·(u·x)² with x the token's [q | k | v] row
        java.util.function.Supplier<Double> f64 = () -> {
            double f = 0;
            for (int b = 0; b < IDS.length; b++) {
                int seq = b;
                double[] acc = {0};
                m.forward(b, m.words(IDS[b]), TYPES[b], null, null, (l, q, k, v) -> {
                    if (l != layer) return;
                    for (int t = 0; t < q.length; t++)
                        for (int c = 0; c < h; c++) {
                            double[] xs = {q[t][c], k[t][c], v[t][c]};
                            for (int part = 0; part < 3; part++) {
                                double z = u[seq][t][part * h + c] * xs[part];
                                acc[0] += z + 0.25 * z * z;
                            }
                        }
                });
                f += acc[0];
            }
            return f;
        };
        BertGrad.Pass pass = grad.forward(grad.input(IDS, TYPES), null, 1);
        float[] qkv = pass.qkv(layer), dQkv = new float[qkv.length];
        int[] off = pass.offsets();
        for (int b = 0; b < IDS.length; b++)
            for (int t = 0; t < IDS[b].length; t++)
                for (int c = 0; c < 3 * h; c++) {
                    int i = (off[b] + t) * 3 * h + c;
                    double uu = u[b][t][c];
                    dQkv[i] = (float) (uu + 0.5 * uu * uu * qkv[i]);
                }
        BertGrad.Gradients g = pass.backwardFromQkv(layer, dQkv, true);
        assertEquals(m.p.keySet(), g.parameters().keySet(), "a gradient for every parameter tensor, and no other");
        List<Worst> out = new ArrayList<>();
        for (Map.Entry<String, double[]> e : m.p.entrySet()) {
            String name = e.getKey();
            float[] analytic = g.parameters().get(name);
            boolean above = name.startsWith("encoder.layer.1.") || (name.startsWith("encoder.layer.0.") && !name.contains("attention.self."));
            if (above) {
                for (float a : analytic) assertEquals(0f, a, name + ": does not reach the projections, so its gradient is 0");
                continue;
            }
            double[] theta = e.getValue(), num = new double[theta.length];
            for (int i = 0; i < theta.length; i++) {
                double keep = theta[i];
                theta[i] = keep + STEP;
                double plus = f64.get();
                theta[i] = keep - STEP;
                double minus = f64.get();
                theta[i] = keep;
                num[i] = (plus - minus) / (2 * STEP);
            }
            out.add(compare(name, analytic, num));
        }
        assertTrue(out.size() >= 11, "checked the embeddings and layer 0's projections: " + out.size());
        assertAllWithin(out);
        assertThrows(IllegalArgumentException.class, () -> pass.backwardFromQkv(2, dQkv, true));
        assertThrows(IllegalArgumentException.class, () -> pass.backwardFromQkv(0, new float[3], true));
    }

    @Test
    void ofTakesCanonicalParametersAndNamesAWrongOne() {
        TinyBert tiny = new TinyBert(5, 8, 2, 12, 2, 13, 7);
        Map<String, float[]> p = new java.util.LinkedHashMap<>();
        for (String name : BertGrad.expectedSizes(tiny.cfg).keySet()) p.put(name, tiny.weights.get(name).contiguous().toArray());
        BertGrad a = BertGrad.of(tiny.cfg, p), b = new BertGrad(new BertEncoder(tiny.cfg, tiny.weights));
        float[] ha = a.forward(a.input(IDS, TYPES), null, 1).hidden(), hb = b.forward(b.input(IDS, TYPES), null, 1).hidden();
        org.junit.jupiter.api.Assertions.assertArrayEquals(hb, ha);
        p.put("encoder.layer.1.output.dense.bias", new float[3]);
        var e = assertThrows(IllegalArgumentException.class, () -> BertGrad.of(tiny.cfg, p));
        assertTrue(e.getMessage().contains("encoder.layer.1.output.dense.bias"), e.getMessage());
        p.remove("encoder.layer.1.output.dense.bias");
        e = assertThrows(IllegalArgumentException.class, () -> BertGrad.of(tiny.cfg, p));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void theComparisonRejectsAOnePercentErrorInOneEntry() {
        double[] numeric = {0.5, -1.2, 0.03, 2.0};
        float[] analytic = {0.5f, -1.2f, 0.03f, 2.0f};
        assertTrue(compare("exact", analytic, numeric).ratio() <= 1);
        analytic[1] *= 1.01f;
        assertTrue(compare("1% off", analytic, numeric).ratio() > 1);
    }

    @Test
    void forwardEqualsTheEncoderAndItsProbabilityHook() {
        TinyBert tiny = new TinyBert(5, 48, 4, 64, 2, 100, 40);
        BertEncoder enc = new BertEncoder(tiny.cfg, tiny.weights);
        int[][] ids = {{1, 5, 9, 33, 2}, new int[37], {7, 7}};
        for (int t = 0; t < 37; t++) ids[1][t] = (t * 11) % 100;
        java.util.Map<String, float[]> seen = new java.util.HashMap<>();
        float[] expected = enc.forward(ids, null, 2, new BertEncoder.Probe() {
            @Override public boolean wantsProbabilities(int layer) { return true; }
            @Override public void probabilities(int layer, int seq, float[] p, int n) { seen.put(layer + "/" + seq, p); }
        }).hidden();
        BertGrad grad = new BertGrad(enc);
        BertGrad.Pass pass = grad.forward(grad.input(ids, null), null, 2);
        for (int i = 0; i < expected.length; i++) assertEquals(expected[i], pass.hidden()[i], 2e-5, "hidden[" + i + "]");
        for (int l = 0; l < 2; l++)
            for (int b = 0; b < 3; b++) {
                float[] want = seen.get(l + "/" + b), got = pass.probabilities(l, b);
                assertEquals(want.length, got.length);
                for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-5, "layer " + l + " seq " + b);
            }
        // gates of 0 give what the encoder's head-scale hook gives
        float[][] gates = {{1, 0, 1, 1}, {0, 1, 1, 0.5f}};
        float[] ablated = enc.forward(ids, null, 1, new BertEncoder.Probe() {
            @Override public float headScale(int layer, int head) { return gates[layer][head]; }
        }).hidden();
        float[] gated = grad.forward(grad.input(ids, null), gates, 1).hidden();
        for (int i = 0; i < ablated.length; i++) assertEquals(ablated[i], gated[i], 2e-5);
    }

    /**
     * The written-out attention backward (used for modified rules) against the engine's: with T = 1
     * and Q, K, V factors 2, 3, 5, the last layer's query, key and value weight gradients are exactly
     * those factors times the engine path's (they are x^T times dQ, dK, dV and nothing else feeds them).
     */
    @Test
    void modifiedAttentionBackwardWithTemperatureOneIsTheEnginesScaled() {
        TinyBert tiny = new TinyBert(31, 16, 2, 24, 2, 13, 7);
        BertGrad grad = new BertGrad(new BertEncoder(tiny.cfg, tiny.weights));
        Objective obj = Objective.random(BertConfig.Pooling.MEAN, 16, 32);
        BertGrad.Pass pass = grad.forward(grad.input(IDS, TYPES), null, 1);
        float[] dh = obj.dHidden(pass, 16);
        var exact = pass.backward(dh, true);
        var scaled = pass.backward(dh, true, new BertGrad.Rules(false, 1, 2, 3, 5));
        String p = "encoder.layer.1.attention.self.";
        double[] factors = {2, 3, 5};
        String[] names = {"query", "key", "value"};
        for (int i = 0; i < 3; i++) {
            float[] e = exact.parameters().get(p + names[i] + ".weight"), m = scaled.parameters().get(p + names[i] + ".weight");
            double scale = 0;
            for (float v : e) scale = Math.max(scale, Math.abs(v));
            assertTrue(scale > 1e-6, names[i]);
            for (int j = 0; j < e.length; j++) assertEquals(factors[i] * e[j], m[j], 1e-5 * factors[i] * scale, names[i] + "[" + j + "]");
        }
        // layers above are untouched by the factors: the FFN of the last layer has the same gradient
        float[] e = exact.parameters().get("encoder.layer.1.output.dense.weight"), m = scaled.parameters().get("encoder.layer.1.output.dense.weight");
        for (int j = 0; j < e.length; j++) assertEquals(e[j], m[j], 0f);
        // GIM's rules give a different gradient, and a bad temperature is refused by name
        var gim = pass.backward(dh, false, BertGrad.Rules.GIM);
        double diff = 0;
        for (int b = 0; b < IDS.length; b++) for (int j = 0; j < gim.words()[b].length; j++) diff = Math.max(diff, Math.abs(gim.words()[b][j] - exact.words()[b][j]));
        assertTrue(diff > 1e-4, "GIM changes the input gradient, max diff " + diff);
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> new BertGrad.Rules(true, 0, 1, 1, 1));
        assertTrue(ex.getMessage().contains("softmaxTemperature"), ex.getMessage());
    }

    @Test
    void badInputNamesTheArgument() {
        TinyBert tiny = new TinyBert(9, 16, 2, 32, 1, 10, 8);
        BertGrad grad = new BertGrad(new BertEncoder(tiny.cfg, tiny.weights));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> grad.input(new int[][] {{1, 10}}, null));
        assertTrue(e.getMessage().contains("ids[0][1]") && e.getMessage().contains("0..9"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> grad.forward(new BertGrad.Input(new float[][] {new float[17]}, null, null), null, 1));
        assertTrue(e.getMessage().contains("input.words[0]") && e.getMessage().contains("17"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> grad.forward(grad.input(new int[][] {{1, 2}}, null), new float[][] {{1f}}, 1));
        assertTrue(e.getMessage().contains("gates[0]: expected 2"), e.getMessage());
        BertGrad.Pass pass = grad.forward(grad.input(new int[][] {{1, 2}}, null), null, 1);
        e = assertThrows(IllegalArgumentException.class, () -> pass.backward(new float[3], false));
        assertTrue(e.getMessage().contains("dHidden") && e.getMessage().contains("32"), e.getMessage());
    }
}
