package org.attn4j.train.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ProbeHeadsTest {
    static final double STEP = 1e-5;

    static float[][] randomStates(int n, int h, int maxLen, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] s = new float[n][];
        for (int i = 0; i < n; i++) {
            int len = 1 + r.nextInt(maxLen);
            s[i] = new float[len * h];
            for (int k = 0; k < s[i].length; k++) s[i][k] = (float) (2 * r.nextDouble() - 1);
        }
        return s;
    }

    /** Max over θ of |analytic − central difference| / (1e-12 + max|numeric|), for the loss of example i. */
    static double gradError(Head head, int i, int label, double[] theta) {
        double[] g = new double[theta.length];
        head.lossAndGrad(i, label, theta, g, 1.0);
        double maxErr = 0, maxG = 0;
        for (int k = 0; k < theta.length; k++) {
            double keep = theta[k];
            theta[k] = keep + STEP;
            double plus = head.lossAndGrad(i, label, theta, new double[theta.length], 1.0);
            theta[k] = keep - STEP;
            double minus = head.lossAndGrad(i, label, theta, new double[theta.length], 1.0);
            theta[k] = keep;
            double num = (plus - minus) / (2 * STEP);
            maxErr = Math.max(maxErr, Math.abs(num - g[k]));
            maxG = Math.max(maxG, Math.abs(num));
        }
        assertTrue(maxG > 1e-3, "the gradient must not vanish for the check to mean anything, max " + maxG);
        return maxErr / maxG;
    }

    @Test
    void attentiveBackwardMatchesFiniteDifferencesInFloat64() {
        int h = 6, q = 3, c = 3;
        float[][] states = randomStates(4, h, 7, 1);
        AttentiveHead head = new AttentiveHead(states, h, q, c, 5);
        SplittableRandom r = new SplittableRandom(9);
        double[] theta = new double[head.params().size()];
        // Large random parameters, so that the attention is far from uniform and every term matters.
        for (int k = 0; k < theta.length; k++) theta[k] = 2 * r.nextDouble() - 1;
        for (int i = 0; i < states.length; i++) {
            double err = gradError(head, i, i % c, theta);
            assertTrue(err < 1e-8, "example " + i + ": relative gradient error " + err);
        }
    }

    @Test
    void attentiveOverOneTokenEqualsLinearOnThatToken() {
        // With a single token the softmax weight is 1 whatever the query: the head is a linear layer
        // on Q copies of the state. Compare with an independent dense softmax regression.
        int h = 5, q = 2, c = 3;
        float[][] states = randomStates(3, h, 1, 2);
        AttentiveHead att = new AttentiveHead(states, h, q, c, 3);
        double[] theta = ProbeTrainer.theta(att);
        float[][] feats = new float[3][q * h];
        for (int i = 0; i < 3; i++) for (int j = 0; j < q; j++) System.arraycopy(states[i], 0, feats[i], j * h, h);
        LinearHead lin = LinearHead.dense(feats, q * h, c, 4);
        double[] lt = new double[lin.params().size()];
        int attW = att.params().get("probe.classifier.weight").offset(), n = c * q * h;
        System.arraycopy(theta, attW, lt, 0, n + c);
        for (int i = 0; i < 3; i++) {
            double[] a = att.logits(i, theta), b = lin.logits(i, lt);
            for (int k = 0; k < c; k++) assertEquals(b[k], a[k], 1e-12);
        }
    }

    @Test
    void zeroQueriesGiveMeanPooling() {
        int h = 4, c = 2;
        float[][] states = randomStates(5, h, 6, 3);
        AttentiveHead att = new AttentiveHead(states, h, 1, c, 1);
        double[] theta = ProbeTrainer.theta(att);
        int qOff = att.params().get("probe.queries").offset();
        for (int k = 0; k < h; k++) theta[qOff + k] = 0;
        LinearHead mean = LinearHead.dense(TokenStates.mean(states, h), h, c, 1);
        double[] mt = new double[mean.params().size()];
        System.arraycopy(theta, att.params().get("probe.classifier.weight").offset(), mt, 0, mt.length);
        for (int i = 0; i < states.length; i++) {
            double[] a = att.logits(i, theta), b = mean.logits(i, mt);
            for (int k = 0; k < c; k++) assertEquals(b[k], a[k], 1e-6);
            double[] w = att.attention(i, theta);
            for (double x : w) assertEquals(1.0 / w.length, x, 1e-15);
        }
    }

    @Test
    void linearBackwardMatchesFiniteDifferencesDenseAndSparse() {
        float[][] feats = randomStates(3, 7, 1, 4);
        LinearHead dense = LinearHead.dense(feats, 7, 3, 1);
        LinearHead sparse = new LinearHead(new int[][] {{0, 4}, {2}, {1, 3, 4}}, new float[][] {{0.5f, -1f}, {2f}, {1f, 1f, -0.5f}}, 5, 2, 1);
        SplittableRandom r = new SplittableRandom(2);
        for (LinearHead h : List.of(dense, sparse)) {
            double[] theta = new double[h.params().size()];
            for (int k = 0; k < theta.length; k++) theta[k] = r.nextDouble() - 0.5;
            for (int i = 0; i < 3; i++) assertTrue(gradError(h, i, i % h.classes(), theta) < 1e-8);
        }
    }

    @Test
    void attentiveProbeFindsTheOneTokenThatDecidesTheLabel() {
        // Each text is noise tokens plus, at a random position, one marker token whose sign along a
        // fixed direction is the label. The mean dilutes the marker among up to 30 tokens; learned
        // attention can find it. So attentive pooling must beat mean pooling on held-out texts.
        int h = 16, n = 600;
        SplittableRandom r = new SplittableRandom(11);
        float[][] states = new float[n][];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int len = 10 + r.nextInt(21), at = r.nextInt(len);
            y[i] = r.nextInt(2);
            states[i] = new float[len * h];
            for (int t = 0; t < len; t++) for (int c = 1; c < h; c++) states[i][t * h + c] = (float) AttentiveHead.gaussian(r);
            states[i][at * h] = 4f; // the marker: large along dimension 0
            states[i][at * h + 1] = y[i] == 1 ? 3f : -3f;
        }
        float[][] trS = java.util.Arrays.copyOfRange(states, 0, 400), evS = java.util.Arrays.copyOfRange(states, 400, n);
        int[] trY = java.util.Arrays.copyOfRange(y, 0, 400), evY = java.util.Arrays.copyOfRange(y, 400, n);
        ProbeTrainer.Settings s = new ProbeTrainer.Settings(400, 32, 0.01f, 0.0f);
        AttentiveHead att = new AttentiveHead(trS, h, 1, 2, 1);
        ProbeTrainer.fit(att, trY, s, 1);
        AttentiveHead attEval = new AttentiveHead(evS, h, 1, 2, 1);
        System.arraycopy(att.params().values(), 0, attEval.params().values(), 0, att.params().size());
        double accAtt = ProbeTrainer.accuracy(ProbeTrainer.predict(attEval), evY);
        LinearHead mean = LinearHead.dense(TokenStates.mean(trS, h), h, 2, 1);
        ProbeTrainer.fit(mean, trY, s, 1);
        LinearHead meanEval = LinearHead.dense(TokenStates.mean(evS, h), h, 2, 1);
        System.arraycopy(mean.params().values(), 0, meanEval.params().values(), 0, mean.params().size());
        double accMean = ProbeTrainer.accuracy(ProbeTrainer.predict(meanEval), evY);
        assertTrue(accAtt > 0.97, "attentive accuracy " + accAtt);
        assertTrue(accAtt > accMean + 0.03, "attentive " + accAtt + " vs mean " + accMean);
    }

    @Test
    void bagOfWordsLearnsAWordRule() {
        List<String> texts = new ArrayList<>();
        int[] y = new int[200];
        SplittableRandom r = new SplittableRandom(3);
        String[] filler = {"the", "a", "meeting", "report", "today", "list", "again", "note"};
        for (int i = 0; i < 200; i++) {
            y[i] = r.nextInt(2);
            StringBuilder sb = new StringBuilder();
            for (int k = 0; k < 6; k++) sb.append(filler[r.nextInt(filler.length)]).append(' ');
            sb.append(y[i] == 1 ? "winner" : "minutes");
            texts.add(sb.toString());
        }
        BagOfWords bow = BagOfWords.fit(texts.subList(0, 100), 2, 100);
        LinearHead tr = bow.head(texts.subList(0, 100), 2, 1);
        ProbeTrainer.fit(tr, java.util.Arrays.copyOf(y, 100), new ProbeTrainer.Settings(200, 16, 0.05f, 0f), 1);
        LinearHead ev = bow.head(texts.subList(100, 200), 2, 1);
        System.arraycopy(tr.params().values(), 0, ev.params().values(), 0, tr.params().size());
        assertEquals(1.0, ProbeTrainer.accuracy(ProbeTrainer.predict(ev), java.util.Arrays.copyOfRange(y, 100, 200)));
    }

    @Test
    void badShapesAreRejectedWithTheArgumentsName() {
        var e = assertThrows(IllegalArgumentException.class, () -> new AttentiveHead(new float[][] {new float[5]}, 4, 1, 2, 0));
        assertTrue(e.getMessage().startsWith("states:"), e.getMessage());
        var f = assertThrows(IllegalArgumentException.class, () -> new AttentiveHead(new float[][] {new float[4]}, 4, 0, 2, 0));
        assertTrue(f.getMessage().startsWith("queries:"), f.getMessage());
    }
}
