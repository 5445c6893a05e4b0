package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import org.attn4j.train.layers.CausalSelfAttention;
import org.attn4j.train.layers.Embedding;
import org.attn4j.train.layers.Gelu;
import org.attn4j.train.layers.LayerNorm;
import org.attn4j.train.layers.Linear;
import org.attn4j.train.layers.Residual;
import org.attn4j.train.layers.RmsNorm;
import org.attn4j.train.layers.SwiGlu;
import org.attn4j.train.layers.TiedCrossEntropy;
import org.attn4j.variants.trainable.ExactTrainableAttention;
import org.junit.jupiter.api.Test;

/**
 * Each layer's backward against central differences of its float64 definition ({@link Oracle64}).
 * A layer with output y is checked through the scalar {@code L = Σ y·R} for a random R, so
 * {@code ∂L/∂y = R} is what its backward receives. Every input and parameter entry is checked.
 * Gradient buffers start at {@link #PRE}, not 0, which checks that backward passes accumulate (+=)
 * rather than overwrite. Each forward is also compared with its float64 definition.
 */
class LayerGradientTest {
    /** See {@link GradCheck}: ABS times the tensor's largest gradient, plus REL times the entry. */
    static final double ABS = 1e-5, REL = 1e-4;
    /** Forward agreement with float64: relative to the output's largest entry. */
    static final double FORWARD = 1e-5;
    static final float PRE = 0.25f;
    static final int THREADS = 2;

    private final Random rnd = new Random(7);

    /** θ = [input | parameters]: the function of θ whose gradient is checked. */
    private record Case(double[] theta, int inputs, ToDoubleFunction<double[]> loss) {}

    @Test
    void linear() {
        int rows = 100, in = 7, out = 50; // 100 rows: two row blocks; 50 outputs: two feature blocks
        Parameters p = params(b -> Linear.declare(b, "lin", in, out, true));
        float[] x = random(rows * in, 1);
        float[] r = random(rows * out, 1);
        Linear lin = new Linear(p, "lin", rows, THREADS);
        float[] y = lin.forward(x, rows);
        int n = rows * in;
        Function<double[], double[]> oracle = th -> Oracle64.linear(part(th, 0, n), rows, in,
                tensor(th, n, p, "lin.weight"), tensor(th, n, p, "lin.bias"), out);
        assertForward(y, rows * out, oracle.apply(concat(x, p.values())));
        float[] dx = prefilled(n);
        Arrays.fill(p.grads(), PRE);
        lin.backward(r, dx);
        check("linear", new Case(concat(x, p.values()), n, th -> dot(oracle.apply(th), r)), dx, p);
    }

    @Test
    void layerNorm() {
        int rows = 70, c = 9;
        Parameters p = params(b -> LayerNorm.declare(b, "ln", c));
        float[] x = random(rows * c, 2);
        float[] r = random(rows * c, 1);
        LayerNorm ln = new LayerNorm(p, "ln", rows, 1e-5f, THREADS);
        float[] y = ln.forward(x, rows);
        int n = rows * c;
        Function<double[], double[]> oracle = th -> Oracle64.layerNorm(part(th, 0, n), rows, c,
                tensor(th, n, p, "ln.weight"), tensor(th, n, p, "ln.bias"), 1e-5);
        assertForward(y, n, oracle.apply(concat(x, p.values())));
        float[] dx = prefilled(n);
        Arrays.fill(p.grads(), PRE);
        ln.backward(r, dx);
        check("layerNorm", new Case(concat(x, p.values()), n, th -> dot(oracle.apply(th), r)), dx, p);
    }

    @Test
    void rmsNorm() {
        int rows = 70, c = 9;
        Parameters p = params(b -> RmsNorm.declare(b, "ln", c));
        float[] x = random(rows * c, 2);
        float[] r = random(rows * c, 1);
        RmsNorm ln = new RmsNorm(p, "ln", rows, 1e-5f, THREADS);
        float[] y = ln.forward(x, rows);
        int n = rows * c;
        Function<double[], double[]> oracle = th -> Oracle64.rmsNorm(part(th, 0, n), rows, c, tensor(th, n, p, "ln.weight"), 1e-5);
        assertForward(y, n, oracle.apply(concat(x, p.values())));
        float[] dx = prefilled(n);
        Arrays.fill(p.grads(), PRE);
        ln.backward(r, dx);
        check("rmsNorm", new Case(concat(x, p.values()), n, th -> dot(oracle.apply(th), r)), dx, p);
    }

    @Test
    void swiGlu() {
        int rows = 70, h = 11; // 70 rows: three parallel chunks
        int n = rows * 2 * h;
        float[] x = random(n, 2);
        float[] r = random(rows * h, 1);
        SwiGlu s = new SwiGlu(rows, h, THREADS);
        float[] y = s.forward(x, rows);
        assertForward(y, rows * h, Oracle64.swiglu(toD(x), rows, h));
        float[] dx = prefilled(n);
        s.backward(r, dx);
        check("swiGlu", new Case(toD(x), n, th -> dot(Oracle64.swiglu(th, rows, h), r)), dx, null);
    }

    @Test
    void gelu() {
        int n = 5000; // more than one parallel chunk
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -5f + 10f * rnd.nextFloat();
        float[] r = random(n, 1);
        Gelu g = new Gelu(n, THREADS);
        float[] y = g.forward(x, n);
        assertForward(y, n, Oracle64.gelu(toD(x)));
        float[] dx = prefilled(n);
        g.backward(r, dx);
        check("gelu", new Case(toD(x), n, th -> dot(Oracle64.gelu(th), r)), dx, null);
    }

    @Test
    void residual() {
        int n = 33;
        float[] a = random(n, 1), b = random(n, 1), r = random(n, 1), out = new float[n];
        Residual.forward(a, b, out, n);
        for (int i = 0; i < n; i++) assertEquals(a[i] + b[i], out[i]);
        float[] da = prefilled(n), db = prefilled(n);
        Residual.backward(r, da, db, n);
        for (int i = 0; i < n; i++) {
            assertEquals(PRE + r[i], da[i]);
            assertEquals(PRE + r[i], db[i]);
        }
    }

    @Test
    void embeddingWithPositions() {
        embedding(true);
    }

    @Test
    void embeddingWithoutPositions() {
        embedding(false);
    }

    private void embedding(boolean positions) {
        int vocab = 6, t = 4, c = 5, batch = 3, rows = batch * t;
        Parameters p = params(b -> Embedding.declare(b, vocab, t, c, positions));
        int[] tokens = new int[rows];
        for (int i = 0; i < rows; i++) tokens[i] = rnd.nextInt(vocab - 1); // token vocab-1 never used: its gradient stays PRE
        tokens[5] = tokens[2]; // a repeated token accumulates
        float[] r = random(rows * c, 1);
        Embedding e = new Embedding(p, t, rows);
        float[] y = e.forward(tokens, rows);
        Function<double[], double[]> oracle = th -> Oracle64.embed(tokens, rows, tensor(th, 0, p, "wte"),
                positions ? tensor(th, 0, p, "wpe") : null, t, c);
        assertForward(y, rows * c, oracle.apply(toD(p.values())));
        Arrays.fill(p.grads(), PRE);
        e.backward(r);
        check("embedding", new Case(toD(p.values()), 0, th -> dot(oracle.apply(th), r)), new float[0], p);
    }

    @Test
    void causalAttention() {
        attention(false, 0);
    }

    @Test
    void causalAttentionWithAlibiAndWindow() {
        attention(true, 2);
    }

    @Test
    void causalAttentionWithRope() {
        attention(false, 0, true);
    }

    @Test
    void causalAttentionWithRopeAndWindow() {
        attention(false, 3, true);
    }

    private void attention(boolean alibi, int window) {
        attention(alibi, window, false);
    }

    private void attention(boolean alibi, int window, boolean rope) {
        int batch = 2, t = 7, c = 8, heads = 2, rows = batch * t;
        ExactTrainableAttention mechanism = new ExactTrainableAttention(alibi, window);
        Parameters p = params(b -> CausalSelfAttention.declare(b, "attn", c, heads, t, mechanism, true));
        float[] x = random(rows * c, 1);
        float[] r = random(rows * c, 1);
        CausalSelfAttention a = new CausalSelfAttention(p, "attn", heads, t, batch, mechanism, rope, THREADS);
        float[] y = a.forward(x, batch);
        int n = rows * c;
        Function<double[], double[]> oracle = th -> {
            double[] qkv = Oracle64.linear(part(th, 0, n), rows, c, tensor(th, n, p, "attn.c_attn.weight"), tensor(th, n, p, "attn.c_attn.bias"), 3 * c);
            if (rope) qkv = Oracle64.rope(qkv, rows, t, c, heads);
            double[] ctx = Oracle64.attention(qkv, batch, t, c, heads, alibi, window);
            return Oracle64.linear(ctx, rows, c, tensor(th, n, p, "attn.c_proj.weight"), tensor(th, n, p, "attn.c_proj.bias"), c);
        };
        assertForward(y, n, oracle.apply(concat(x, p.values())));
        float[] dx = prefilled(n);
        Arrays.fill(p.grads(), PRE);
        a.backward(r, dx);
        check("attention", new Case(concat(x, p.values()), n, th -> dot(oracle.apply(th), r)), dx, p);
    }

    @Test
    void tiedCrossEntropy() {
        int rows = 90, c = 6, vocab = 300; // ~60 marked rows: two row blocks; 300 > one vocabulary block
        Parameters p = params(b -> b.add("wte", false, vocab, c));
        float[] h = random(rows * c, 2);
        int[] targets = new int[rows];
        boolean[] mask = new boolean[rows];
        for (int i = 0; i < rows; i++) {
            targets[i] = rnd.nextInt(vocab);
            mask[i] = rnd.nextInt(3) != 0;
        }
        targets[0] = -1; // never read: row 0 is unmarked
        mask[0] = false;
        TiedCrossEntropy ce = new TiedCrossEntropy(p, rows, THREADS);
        double loss = ce.forward(h, rows, targets, mask, true);
        int n = rows * c;
        ToDoubleFunction<double[]> oracle = th -> Oracle64.crossEntropy(part(th, 0, n), rows, c, tensor(th, n, p, "wte"), vocab, targets, mask);
        double expected = oracle.applyAsDouble(concat(h, p.values()));
        assertEquals(expected, loss, 1e-5 * Math.abs(expected), "loss");
        float[] dh = prefilled(n);
        Arrays.fill(p.grads(), PRE);
        ce.backward(dh);
        for (int i = 0; i < c; i++) assertEquals(PRE, dh[i], "an unmarked row gets no gradient");
        check("crossEntropy", new Case(concat(h, p.values()), n, oracle), dh, p);
    }

    // ---- helpers ----

    /** Finite differences over all of θ; compares the input part and each parameter tensor. */
    private static void check(String name, Case k, float[] dInput, Parameters p) {
        double[] numeric = GradCheck.central(k.loss(), k.theta());
        List<GradCheck.Worst> results = new ArrayList<>();
        if (k.inputs() > 0) {
            float[] analytic = new float[k.inputs()];
            for (int i = 0; i < k.inputs(); i++) analytic[i] = dInput[i] - PRE;
            results.add(GradCheck.compare(name + " input", analytic, 0, Arrays.copyOfRange(numeric, 0, k.inputs()), ABS, REL));
        }
        if (p != null) {
            for (Parameters.Param t : p.params()) {
                float[] analytic = new float[t.size()];
                for (int i = 0; i < t.size(); i++) analytic[i] = p.grads()[t.offset() + i] - PRE;
                int from = k.inputs() + t.offset();
                results.add(GradCheck.compare(name + " " + t.name(), analytic, 0, Arrays.copyOfRange(numeric, from, from + t.size()), ABS, REL));
            }
        }
        for (GradCheck.Worst w : results) {
            System.out.println("[grad] " + w);
            GradCheck.assertWithin(w);
            assertTrue(w.scale() > 0, name + ": a gradient that is all zero checks nothing: " + w);
        }
    }

    private static void assertForward(float[] actual, int n, double[] expected) {
        double scale = 0;
        for (double e : expected) scale = Math.max(scale, Math.abs(e));
        for (int i = 0; i < n; i++) {
            assertEquals(expected[i], actual[i], FORWARD * scale, "forward [" + i + "]");
        }
    }

    private Parameters params(Consumer<Parameters.Builder> declare) {
        Parameters.Builder b = Parameters.builder();
        declare.accept(b);
        Parameters p = b.build();
        // Random values everywhere (γ around 1): zeros or ones would hide errors that vanish there.
        for (Parameters.Param t : p.params()) {
            for (int i = t.offset(); i < t.offset() + t.size(); i++) {
                p.values()[i] = (float) (t.name().endsWith("ln.weight") ? 1 + 0.5 * rnd.nextGaussian() : 0.5 * rnd.nextGaussian());
            }
        }
        return p;
    }

    private float[] random(int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (std * rnd.nextGaussian());
        return a;
    }

    private static float[] prefilled(int n) {
        float[] a = new float[n];
        Arrays.fill(a, PRE);
        return a;
    }

    static double[] toD(float[] a) {
        return GradCheck.toDouble(a, 0, a.length);
    }

    static double[] concat(float[] a, float[] b) {
        double[] d = new double[a.length + b.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        for (int i = 0; i < b.length; i++) d[a.length + i] = b[i];
        return d;
    }

    static double[] part(double[] th, int from, int n) {
        return Arrays.copyOfRange(th, from, from + n);
    }

    static double[] tensor(double[] th, int base, Parameters p, String name) {
        Parameters.Param t = p.get(name);
        return part(th, base + t.offset(), t.size());
    }

    static double dot(double[] y, float[] r) {
        double s = 0;
        for (int i = 0; i < y.length; i++) s += y[i] * r[i];
        return s;
    }
}
