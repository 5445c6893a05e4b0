package org.attn4j.train.probe;

import java.util.SplittableRandom;
import org.attn4j.train.Parameters;

/**
 * Attentive probing: {@code Q} learned queries attend over a text's frozen token states, and a
 * linear layer classifies the concatenation of what they read.
 * <pre>
 *   s[j,t] = q_j · x_t / √h            (t over the text's own tokens only)
 *   a[j,·] = softmax_t(s[j,·])
 *   p_j    = Σ_t a[j,t] · x_t          ([h])
 *   z      = W · [p_1; …; p_Q] + b     (W [C, Q·h], b [C])
 * </pre>
 * Token states are kept packed, one array {@code [len, h]} per text, so the softmax never sees a
 * padding position: that is the padding mask, applied by construction. There is no key or value
 * projection: with one query per head, a key projection {@code q·(W_k x)} equals {@code (W_kᵀq)·x},
 * a query in state space, and a value projection followed by the linear classifier is one linear
 * map; both would add parameters without adding functions the head can express.
 *
 * <p>Parameters: {@code probe.queries [Q, h]} (no weight decay), {@code probe.classifier.weight
 * [C, Q·h]} (decay), {@code probe.classifier.bias [C]}.
 */
public final class AttentiveHead implements Head {
    private final float[][] states;
    private final int hidden, queries, classes;
    private final Parameters params;
    private final int qOff, wOff, bOff;

    /**
     * @param states  per text, its token states {@code [len, hidden]} row-major (len ≥ 1)
     * @param hidden  the state width h
     * @param queries number of learned queries Q ≥ 1
     * @param classes number of classes C ≥ 2
     * @param seed    initialisation: queries ~ N(0, 1/h), W ~ N(0, 0.01²), b = 0
     */
    public AttentiveHead(float[][] states, int hidden, int queries, int classes, long seed) {
        if (hidden < 1) throw new IllegalArgumentException("hidden: expected >= 1, got " + hidden);
        if (queries < 1) throw new IllegalArgumentException("queries: expected >= 1, got " + queries);
        if (classes < 2) throw new IllegalArgumentException("classes: expected >= 2, got " + classes);
        for (int i = 0; i < states.length; i++) {
            if (states[i].length == 0 || states[i].length % hidden != 0) {
                throw new IllegalArgumentException("states: text " + i + " has " + states[i].length + " values, expected a positive multiple of hidden=" + hidden);
            }
        }
        this.states = states;
        this.hidden = hidden;
        this.queries = queries;
        this.classes = classes;
        Parameters.Builder b = Parameters.builder();
        b.add("probe.queries", false, queries, hidden);
        b.add("probe.classifier.weight", true, classes, queries * hidden);
        b.add("probe.classifier.bias", false, classes);
        this.params = b.build();
        this.qOff = params.get("probe.queries").offset();
        this.wOff = params.get("probe.classifier.weight").offset();
        this.bOff = params.get("probe.classifier.bias").offset();
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = params.values();
        for (int i = 0; i < queries * hidden; i++) v[qOff + i] = (float) (gaussian(r) / Math.sqrt(hidden));
        for (int i = 0; i < classes * queries * hidden; i++) v[wOff + i] = (float) (0.01 * gaussian(r));
    }

    static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble(), w = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }

    @Override public Parameters params() { return params; }

    @Override public int examples() { return states.length; }

    @Override public int classes() { return classes; }

    /** Attention weights {@code a [Q, len]} of text {@code i} (for inspection). */
    public double[] attention(int i, double[] theta) {
        int len = states[i].length / hidden;
        double[] a = new double[queries * len];
        double[] pooled = new double[queries * hidden];
        forward(i, theta, a, pooled);
        return a;
    }

    /** Fills {@code a [Q, len]} and {@code pooled [Q·h]}; returns the logits. */
    private double[] forward(int i, double[] theta, double[] a, double[] pooled) {
        float[] x = states[i];
        int h = hidden, len = x.length / h;
        double inv = 1 / Math.sqrt(h);
        for (int j = 0; j < queries; j++) {
            int q = qOff + j * h;
            double max = Double.NEGATIVE_INFINITY;
            for (int t = 0; t < len; t++) {
                double s = 0;
                for (int c = 0; c < h; c++) s += theta[q + c] * x[t * h + c];
                s *= inv;
                a[j * len + t] = s;
                max = Math.max(max, s);
            }
            double sum = 0;
            for (int t = 0; t < len; t++) {
                double e = Math.exp(a[j * len + t] - max);
                a[j * len + t] = e;
                sum += e;
            }
            for (int t = 0; t < len; t++) {
                double w = a[j * len + t] / sum;
                a[j * len + t] = w;
                for (int c = 0; c < h; c++) pooled[j * h + c] += w * x[t * h + c];
            }
        }
        int f = queries * h;
        double[] z = new double[classes];
        for (int k = 0; k < classes; k++) {
            double s = theta[bOff + k];
            for (int c = 0; c < f; c++) s += theta[wOff + k * f + c] * pooled[c];
            z[k] = s;
        }
        return z;
    }

    @Override
    public double[] logits(int i, double[] theta) {
        int len = states[i].length / hidden;
        return forward(i, theta, new double[queries * len], new double[queries * hidden]);
    }

    @Override
    public double lossAndGrad(int i, int label, double[] theta, double[] grad, double scale) {
        float[] x = states[i];
        int h = hidden, len = x.length / h, f = queries * h;
        double[] a = new double[queries * len], pooled = new double[f];
        double[] z = forward(i, theta, a, pooled);
        double[] dz = new double[classes];
        double loss = Head.crossEntropy(z, label, dz);
        // Backward, bottom to top: classifier, pooling, softmax, scores.
        double[] dp = new double[f];
        for (int k = 0; k < classes; k++) {
            double d = dz[k] * scale;
            grad[bOff + k] += d;
            for (int c = 0; c < f; c++) {
                grad[wOff + k * f + c] += d * pooled[c];
                dp[c] += d * theta[wOff + k * f + c];
            }
        }
        double inv = 1 / Math.sqrt(h);
        double[] da = new double[len];
        for (int j = 0; j < queries; j++) {
            double dot = 0;
            for (int t = 0; t < len; t++) {
                double s = 0;
                for (int c = 0; c < h; c++) s += dp[j * h + c] * x[t * h + c];
                da[t] = s;
                dot += a[j * len + t] * s;
            }
            int q = qOff + j * h;
            for (int t = 0; t < len; t++) {
                double ds = a[j * len + t] * (da[t] - dot) * inv;
                if (ds == 0) continue;
                for (int c = 0; c < h; c++) grad[q + c] += ds * x[t * h + c];
            }
        }
        return loss;
    }
}
