package org.attn4j.variants.trainable;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.trainable.Float64Attention.Dims;

/**
 * Float64 central finite differences against {@link Float64Attention#backward64}, for every element
 * of q, k, v and of every declared parameter, on the loss L = Σ out ⊙ R with a fixed random R.
 */
final class GradCheck {
    private GradCheck() {}

    static final double H = 1e-5, TOL = 2e-6;

    /** Random inputs, weights and loss weights for one shape. */
    static final class Problem {
        final Dims dims;
        final double[][] q, k, v, r;
        final Map<String, double[]> w = new LinkedHashMap<>();

        Problem(Float64Attention a, Dims dims, long seed) {
            this.dims = dims;
            SplittableRandom rnd = new SplittableRandom(seed);
            q = random(rnd, dims.bh(), dims.n() * dims.d(), 1);
            k = random(rnd, dims.bh(), dims.n() * dims.d(), 1);
            v = random(rnd, dims.bh(), dims.n() * dims.dv(), 1);
            r = random(rnd, dims.bh(), dims.n() * dims.dv(), 1);
            for (TrainableParam p : a.parameters(dims.heads(), dims.d(), dims.n())) w.put(p.name(), weights(rnd, p));
        }
    }

    /** Parameters near their start, moved off it so that no term vanishes by symmetry. */
    static double[] weights(SplittableRandom rnd, TrainableParam p) {
        double[] x = new double[p.size()];
        int[] shape = p.shape();
        int cols = shape[shape.length - 1];
        for (int i = 0; i < x.length; i++) {
            double g = gaussian(rnd);
            x[i] = switch (p.init()) {
                case ZERO -> 0.3 * g;
                case ONE -> 1 + 0.3 * g;
                case NORMAL -> Math.max(p.std(), 0.3f) * g;
                case IDENTITY -> (i / cols % cols == i % cols ? 1 : 0) + 0.3 * g;
            };
        }
        return x;
    }

    static double[][] random(SplittableRandom rnd, int rows, int len, double std) {
        double[][] x = new double[rows][len];
        for (double[] row : x) for (int i = 0; i < len; i++) row[i] = std * gaussian(rnd);
        return x;
    }

    static double gaussian(SplittableRandom r) {
        double u1 = 1 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    static double loss(Float64Attention a, Problem p) {
        double[][] out = a.forward64(p.dims, p.q, p.k, p.v, p.w, 1).output();
        double l = 0;
        for (int bh = 0; bh < out.length; bh++) for (int i = 0; i < out[bh].length; i++) l += out[bh][i] * p.r[bh][i];
        return l;
    }

    /** Checks every input and parameter element; fails naming the worst one. */
    static void check(Float64Attention a, Problem p, String what) {
        Dims d = p.dims;
        double[][] dq = new double[d.bh()][d.n() * d.d()], dk = new double[d.bh()][d.n() * d.d()], dv = new double[d.bh()][d.n() * d.dv()];
        Map<String, double[]> g = new HashMap<>();
        for (var e : p.w.entrySet()) g.put(e.getKey(), new double[e.getValue().length]);
        a.backward64(a.forward64(d, p.q, p.k, p.v, p.w, 1), p.r, dq, dk, dv, g, 1);
        Map<String, double[][]> inputs = new LinkedHashMap<>();
        inputs.put("q", p.q);
        inputs.put("k", p.k);
        inputs.put("v", p.v);
        Map<String, double[][]> analytic = Map.of("q", dq, "k", dk, "v", dv);
        for (var e : inputs.entrySet()) {
            double[][] x = e.getValue(), ga = analytic.get(e.getKey());
            for (int bh = 0; bh < x.length; bh++) for (int i = 0; i < x[bh].length; i++) compare(a, p, x[bh], i, ga[bh][i], what + " d" + e.getKey() + "[" + bh + "][" + i + "]");
        }
        for (var e : p.w.entrySet()) {
            double[] x = e.getValue(), ga = g.get(e.getKey());
            for (int i = 0; i < x.length; i++) compare(a, p, x, i, ga[i], what + " d" + e.getKey() + "[" + i + "]");
        }
    }

    private static void compare(Float64Attention a, Problem p, double[] x, int i, double analytic, String what) {
        double keep = x[i];
        x[i] = keep + H;
        double up = loss(a, p);
        x[i] = keep - H;
        double down = loss(a, p);
        x[i] = keep;
        double fd = (up - down) / (2 * H);
        if (!(Math.abs(fd - analytic) <= TOL * (1 + Math.abs(fd)))) fail(what + ": backward " + analytic + ", finite differences " + fd);
    }

    /** A [B, H, N, W] float tensor of a float64 problem's head arrays. */
    static Tensor tensor(double[][] x, Dims d, int w) {
        return Float64Attention.toTensor(x, d, w);
    }

    static Map<String, Tensor> weightTensors(Float64Attention a, Problem p) {
        Map<String, Tensor> m = new HashMap<>();
        for (TrainableParam tp : a.parameters(p.dims.heads(), p.dims.d(), p.dims.n())) {
            double[] x = p.w.get(tp.name());
            float[] f = new float[x.length];
            for (int i = 0; i < x.length; i++) f[i] = (float) x[i];
            m.put(tp.name(), Tensor.of(f, tp.shape()));
        }
        return m;
    }
}
