package org.attn4j.variants.trainable;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Tensor;

/**
 * Base of the trainable variants that compute in float64: the float32 tensors the training stack
 * passes are read into per-head {@code double[]} rows, the mechanism runs its forward and backward
 * on those, and the results are written back as float32. Computing in float64 costs speed (these
 * are the readable reference forms, not the engine's kernels) but gives one code path that both
 * trains and is checked against float64 central finite differences: {@link #forward64} and
 * {@link #backward64} are that path, public so the checks (and anyone else) can call them directly.
 *
 * <p>Layout of the float64 arrays: {@code q[b·H + h]} is head (b, h) row-major {@code N × D}
 * ({@code N × Dv} for v, output and their gradients). Parameters are contiguous row-major arrays in
 * the shapes {@link #parameters} declares.
 */
public abstract class Float64Attention implements TrainableAttention {

    /** The shape of one call: q, k {@code [B, H, N, D]}, v and output {@code [B, H, N, Dv]}. */
    public record Dims(int batch, int heads, int n, int d, int dv) {
        /** Number of (batch, head) pairs. */
        public int bh() { return batch * heads; }
    }

    /** What {@link #forward64} keeps: at least the output, per head {@code N × Dv}. */
    public interface Saved64 {
        double[][] output();
    }

    /**
     * The causal forward in float64. {@code weights} holds every declared parameter by name.
     * Must not modify its inputs (the backward reads them again).
     */
    public abstract Saved64 forward64(Dims dims, double[][] q, double[][] k, double[][] v, Map<String, double[]> weights, int threads);

    /**
     * The backward in float64: ADDS ∂loss/∂q, ∂k, ∂v into {@code dq, dk, dv} (zero-filled by the
     * caller, layout of the inputs) and ∂loss/∂θ into {@code grads} (same names as the weights).
     */
    public abstract void backward64(Saved64 saved, double[][] dOut, double[][] dq, double[][] dk, double[][] dv,
                                    Map<String, double[]> grads, int threads);

    private record State(Saved64 saved, Dims dims, Tensor output) implements Saved {}

    @Override
    public final Saved forward(Tensor q, Tensor k, Tensor v, Map<String, Tensor> weights, int threads) {
        Dims dims = dims(q, k, v);
        Map<String, double[]> w = new HashMap<>();
        for (TrainableParam p : parameters(dims.heads(), dims.d(), dims.n())) {
            Tensor t = weights == null ? null : weights.get(p.name());
            requireShape("weights", p, t);
            w.put(p.name(), read(t));
        }
        int th = Parallel.resolveThreads(threads);
        Saved64 s = forward64(dims, heads(q, dims), heads(k, dims), heads(v, dims), w, th);
        return new State(s, dims, toTensor(s.output(), dims, dims.dv()));
    }

    @Override
    public final Gradients backward(Saved saved, Tensor dOut, Map<String, Tensor> grads, int threads) {
        if (!(saved instanceof State st)) {
            throw new IllegalArgumentException("saved: expected the result of " + name() + ".forward, got " + (saved == null ? "null" : saved.getClass().getSimpleName()));
        }
        Dims d = st.dims();
        int[] want = {d.batch(), d.heads(), d.n(), d.dv()};
        if (dOut == null || !Arrays.equals(dOut.shape(), want)) {
            throw new IllegalArgumentException("dOut: expected shape " + Arrays.toString(want) + ", got " + (dOut == null ? "null" : Arrays.toString(dOut.shape())));
        }
        List<TrainableParam> params = parameters(d.heads(), d.d(), d.n());
        Map<String, double[]> g = new HashMap<>();
        for (TrainableParam p : params) {
            requireShape("grads", p, grads == null ? null : grads.get(p.name()));
            g.put(p.name(), new double[p.size()]);
        }
        double[][] dq = new double[d.bh()][d.n() * d.d()], dk = new double[d.bh()][d.n() * d.d()], dv = new double[d.bh()][d.n() * d.dv()];
        backward64(st.saved(), heads(dOut, new Dims(d.batch(), d.heads(), d.n(), d.dv(), d.dv())), dq, dk, dv, g, Parallel.resolveThreads(threads));
        for (TrainableParam p : params) addInto(grads.get(p.name()), g.get(p.name()));
        return new Gradients(toTensor(dq, d, d.d()), toTensor(dk, d, d.d()), toTensor(dv, d, d.dv()));
    }

    /** Validates q, k, v as self-attention with as many kv heads as query heads. */
    static Dims dims(Tensor q, Tensor k, Tensor v) {
        for (Object[] t : new Object[][] {{"q", q}, {"k", k}, {"v", v}}) {
            Tensor x = (Tensor) t[1];
            if (x == null || x.rank() != 4) {
                throw new IllegalArgumentException(t[0] + ": expected rank 4 [B, H, N, D], got " + (x == null ? "null" : Arrays.toString(x.shape())));
            }
        }
        int b = q.dim(0), h = q.dim(1), n = q.dim(2), d = q.dim(3);
        if (!Arrays.equals(k.shape(), q.shape())) {
            throw new IllegalArgumentException("k: expected the shape of q " + Arrays.toString(q.shape()) + " (self-attention, one kv head per query head), got " + Arrays.toString(k.shape()));
        }
        if (v.dim(0) != b || v.dim(1) != h || v.dim(2) != n) {
            throw new IllegalArgumentException("v: expected [" + b + ", " + h + ", " + n + ", Dv], got " + Arrays.toString(v.shape()));
        }
        if (n < 1 || d < 1 || v.dim(3) < 1 || b < 1 || h < 1) throw new IllegalArgumentException("q: every dimension must be ≥ 1, got " + Arrays.toString(q.shape()) + " and v " + Arrays.toString(v.shape()));
        return new Dims(b, h, n, d, v.dim(3));
    }

    private void requireShape(String arg, TrainableParam p, Tensor t) {
        if (t == null) throw new IllegalArgumentException(arg + ": missing '" + p.name() + "' " + Arrays.toString(p.shape()) + " of " + name());
        if (!Arrays.equals(t.shape(), p.shape())) {
            throw new IllegalArgumentException(arg + ": '" + p.name() + "' of " + name() + " expected shape " + Arrays.toString(p.shape()) + ", got " + Arrays.toString(t.shape()));
        }
    }

    /** Head (b, h) of a [B, H, N, W] view as row-major N × W doubles, for every head. */
    static double[][] heads(Tensor t, Dims dims) {
        int n = t.dim(2), w = t.dim(3);
        float[] data = t.data();
        double[][] out = new double[dims.bh()][n * w];
        for (int b = 0; b < dims.batch(); b++) {
            for (int h = 0; h < dims.heads(); h++) {
                double[] o = out[b * dims.heads() + h];
                int base = t.offset() + b * t.stride(0) + h * t.stride(1);
                for (int i = 0; i < n; i++) {
                    int row = base + i * t.stride(2);
                    for (int c = 0; c < w; c++) o[i * w + c] = data[row + c * t.stride(3)];
                }
            }
        }
        return out;
    }

    static Tensor toTensor(double[][] x, Dims dims, int w) {
        int per = dims.n() * w;
        float[] out = new float[dims.bh() * per];
        for (int bh = 0; bh < x.length; bh++) for (int i = 0; i < per; i++) out[bh * per + i] = (float) x[bh][i];
        return Tensor.of(out, dims.batch(), dims.heads(), dims.n(), w);
    }

    /** A (possibly strided) tensor as contiguous row-major doubles. */
    static double[] read(Tensor t) {
        double[] out = new double[(int) t.size()];
        int[] idx = new int[t.rank()];
        for (int i = 0; i < out.length; i++) {
            out[i] = t.data()[flat(t, idx)];
            next(idx, t);
        }
        return out;
    }

    /** Adds row-major {@code g} into the (possibly strided) tensor {@code t}. */
    static void addInto(Tensor t, double[] g) {
        int[] idx = new int[t.rank()];
        float[] data = t.data();
        for (double x : g) {
            int f = flat(t, idx);
            data[f] = (float) (data[f] + x);
            next(idx, t);
        }
    }

    private static int flat(Tensor t, int[] idx) {
        int f = t.offset();
        for (int a = 0; a < idx.length; a++) f += idx[a] * t.stride(a);
        return f;
    }

    private static void next(int[] idx, Tensor t) {
        for (int a = idx.length - 1; a >= 0; a--) {
            if (++idx[a] < t.dim(a)) return;
            idx[a] = 0;
        }
    }
}
