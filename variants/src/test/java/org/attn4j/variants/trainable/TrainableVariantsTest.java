package org.attn4j.variants.trainable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.trainable.Float64Attention.Dims;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every float64 trainable variant: gradients by finite differences, causality, determinism, float path. */
class TrainableVariantsTest {

    /** (label, mechanism, heads): settings chosen so that every branch runs at N ≤ 9. */
    static Stream<Arguments> cases() {
        return Stream.of(
                c("moba block=2 topk=2", 2, "moba", "block=2", "topk=2"),
                c("moba block=2 topk=3", 2, "moba", "block=2", "topk=3"),
                c("moba block=3 topk=1", 1, "moba", "block=3", "topk=1"),
                c("linear elu1 chunk=3", 2, "linear", "chunk=3"),
                c("linear relu chunk=2", 2, "linear", "feature=relu", "chunk=2"),
                c("linear elu1 chunk=1", 1, "linear", "chunk=1"),
                c("lln chunk=3", 2, "lln", "chunk=3"),
                c("lln sigmas chunk=4", 2, "lln", "chunk=4", "sigmaq=0.7", "sigmak=1.3"),
                c("talking-heads", 3, "talking-heads"),
                c("talking-heads pre only", 2, "talking-heads", "post=false"),
                c("talking-heads post only", 2, "talking-heads", "pre=false", "scale=0.8"),
                c("cog", 2, "cog"),
                c("moh default H=4", 4, "moh"),
                c("moh shared=1 top-k=2 H=4", 4, "moh", "shared=1", "top-k=2"),
                c("moh shared=0 top-k=1 H=3", 3, "moh", "shared=0", "top-k=1"),
                c("moh shared=3 H=3", 3, "moh", "shared=3"),
                c("mla", 2, "mla", "kv-rank=5", "q-rank=6", "rope-dim=2"),
                c("mla defaults", 1, "mla"));
    }

    /** mla returns [B, H, N, D] and needs Dv = D. */
    static int dv(Float64Attention a, int d, int dv) { return a instanceof MlaTrainable ? d : dv; }

    private static Arguments c(String label, int heads, String name, String... settings) {
        return Arguments.of(label, (Float64Attention) TrainableRegistry.create(name, Settings.of(settings)), heads);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardMatchesFiniteDifferences(String label, Float64Attention a, int heads) {
        int[][] shapes = {{1, 1, 3, 2}, {2, 7, 3, 2}, {1, 9, 2, 3}};
        long seed = 11;
        for (int[] s : shapes) {
            Dims dims = new Dims(s[0], heads, s[1], s[2], dv(a, s[2], s[3]));
            GradCheck.check(a, new GradCheck.Problem(a, dims, seed++), label + " " + dims);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void futureTokensDoNotChangeEarlierOutputs(String label, Float64Attention a, int heads) {
        Dims dims = new Dims(2, heads, 9, 4, dv(a, 4, 3));
        int w3 = dims.dv();
        GradCheck.Problem p = new GradCheck.Problem(a, dims, 5);
        Map<String, Tensor> wts = GradCheck.weightTensors(a, p);
        Tensor q = GradCheck.tensor(p.q, dims, 4), k = GradCheck.tensor(p.k, dims, 4), v = GradCheck.tensor(p.v, dims, w3);
        float[] before = a.forward(q, k, v, wts, 1).output().toArray();
        int keep = 4;
        SplittableRandom r = new SplittableRandom(9);
        for (Tensor t : new Tensor[] {q, k, v}) {
            for (int bh = 0; bh < dims.bh(); bh++) {
                for (int i = keep + 1; i < 9; i++) {
                    for (int c = 0; c < t.dim(3); c++) t.data()[(bh * 9 + i) * t.dim(3) + c] += (float) (2 * GradCheck.gaussian(r));
                }
            }
        }
        float[] after = a.forward(q, k, v, wts, 1).output().toArray();
        boolean laterChanged = false;
        for (int bh = 0; bh < dims.bh(); bh++) {
            for (int i = 0; i < 9; i++) {
                for (int c = 0; c < w3; c++) {
                    int at = (bh * 9 + i) * w3 + c;
                    if (i <= keep) assertEquals(before[at], after[at], 0.0, label + ": row " + i + " of head " + bh + " changed with future tokens");
                    else laterChanged |= before[at] != after[at];
                }
            }
        }
        assertTrue(laterChanged, label + ": perturbing tokens > " + keep + " changed no output at all (the check could not fail)");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void floatPathAgreesWithFloat64AndIsDeterministic(String label, Float64Attention a, int heads) {
        Dims dims = new Dims(2, heads, 7, 4, dv(a, 4, 3));
        int w3 = dims.dv();
        GradCheck.Problem p = new GradCheck.Problem(a, dims, 21);
        Map<String, Tensor> wts = GradCheck.weightTensors(a, p);
        // The float64 path on the float-rounded inputs is the expected value.
        for (double[][] x : new double[][][] {p.q, p.k, p.v, p.r}) for (double[] row : x) for (int i = 0; i < row.length; i++) row[i] = (float) row[i];
        for (var e : p.w.entrySet()) for (int i = 0; i < e.getValue().length; i++) e.getValue()[i] = (float) e.getValue()[i];
        Tensor q = GradCheck.tensor(p.q, dims, 4), k = GradCheck.tensor(p.k, dims, 4), v = GradCheck.tensor(p.v, dims, w3), dOut = GradCheck.tensor(p.r, dims, w3);
        var saved64 = a.forward64(dims, p.q, p.k, p.v, p.w, 1);
        double[][] dq = new double[dims.bh()][7 * 4], dk = new double[dims.bh()][7 * 4], dv = new double[dims.bh()][7 * w3];
        Map<String, double[]> g64 = new HashMap<>();
        for (var e : p.w.entrySet()) g64.put(e.getKey(), new double[e.getValue().length]);
        a.backward64(saved64, p.r, dq, dk, dv, g64, 1);

        float[][] first = null;
        for (int threads : new int[] {1, 3, 1}) {
            Map<String, Tensor> grads = new HashMap<>();
            for (var e : wts.entrySet()) {
                float[] ones = new float[(int) e.getValue().size()];
                java.util.Arrays.fill(ones, 1f);
                grads.put(e.getKey(), Tensor.of(ones, e.getValue().shape()));
            }
            TrainableAttention.Saved s = a.forward(q, k, v, wts, threads);
            TrainableAttention.Gradients g = a.backward(s, dOut, grads, threads);
            VariantAssert.assertClose(GradCheck.tensor(saved64.output(), dims, w3), s.output(), 1e-5, 1e-5, label + " output");
            VariantAssert.assertClose(GradCheck.tensor(dq, dims, 4), g.dq(), 1e-4, 1e-4, label + " dq");
            VariantAssert.assertClose(GradCheck.tensor(dk, dims, 4), g.dk(), 1e-4, 1e-4, label + " dk");
            VariantAssert.assertClose(GradCheck.tensor(dv, dims, w3), g.dv(), 1e-4, 1e-4, label + " dv");
            for (var e : g64.entrySet()) {
                float[] got = grads.get(e.getKey()).toArray();
                for (int i = 0; i < got.length; i++) {
                    assertEquals(1 + e.getValue()[i], got[i], 1e-4 * (1 + Math.abs(e.getValue()[i])), label + " d" + e.getKey() + "[" + i + "] (added to 1)");
                }
            }
            float[][] now = new float[3 + grads.size()][];
            now[0] = s.output().toArray();
            now[1] = g.dq().toArray();
            now[2] = g.dk().toArray();
            int at = 3;
            for (var e : new java.util.TreeMap<>(grads).values()) now[at++] = e.toArray();
            if (first == null) first = now;
            else for (int x = 0; x < now.length; x++) assertArrayEquals(first[x], now[x], label + ": result " + x + " differs at threads=" + threads);
        }
    }

    /** The training stack passes q, k, v as views into its fused QKV buffer and parameters as views into flat buffers. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stridedViewsGiveTheSameResults(String label, Float64Attention a, int heads) {
        int b = 2, n = 5, d = 4, hd = heads * d;
        Dims dims = new Dims(b, heads, n, d, d);
        GradCheck.Problem p = new GradCheck.Problem(a, dims, 77);
        // Fused buffer [B, N, 3, H, D]; q, k, v are strided views into it.
        float[] fused = new float[b * n * 3 * hd];
        double[][][] src = {p.q, p.k, p.v};
        for (int x = 0; x < 3; x++) {
            for (int bb = 0; bb < b; bb++) for (int h = 0; h < heads; h++) for (int i = 0; i < n; i++) for (int c = 0; c < d; c++) {
                fused[((bb * n + i) * 3 + x) * hd + h * d + c] = (float) src[x][bb * heads + h][i * d + c];
            }
        }
        int[] shape = {b, heads, n, d}, strides = {n * 3 * hd, d, 3 * hd, 1};
        Tensor qv = Tensor.view(fused, 0, shape, strides), kv = Tensor.view(fused, hd, shape, strides), vv = Tensor.view(fused, 2 * hd, shape, strides);
        Tensor qc = qv.contiguous(), kc = kv.contiguous(), vc = vv.contiguous(), dOut = GradCheck.tensor(p.r, dims, d);
        // Parameters and their gradients as views at offsets into one flat buffer each.
        Map<String, Tensor> w = GradCheck.weightTensors(a, p), wViews = new HashMap<>(), gViews = new HashMap<>(), gPlain = new HashMap<>();
        int total = 3;
        for (Tensor t : w.values()) total += (int) t.size();
        float[] flatW = new float[total], flatG = new float[total];
        int off = 3;
        for (var e : new java.util.TreeMap<>(w).entrySet()) {
            int[] sh = e.getValue().shape();
            System.arraycopy(e.getValue().toArray(), 0, flatW, off, (int) e.getValue().size());
            wViews.put(e.getKey(), Tensor.view(flatW, off, sh, org.attn4j.core.tensor.Layout.contiguousStrides(sh)));
            gViews.put(e.getKey(), Tensor.view(flatG, off, sh, org.attn4j.core.tensor.Layout.contiguousStrides(sh)));
            gPlain.put(e.getKey(), Tensor.zeros(sh));
            off += (int) e.getValue().size();
        }
        TrainableAttention.Saved s1 = a.forward(qv, kv, vv, wViews, 2), s2 = a.forward(qc, kc, vc, w, 2);
        assertArrayEquals(s2.output().toArray(), s1.output().toArray(), label + " output");
        TrainableAttention.Gradients g1 = a.backward(s1, dOut, gViews, 2), g2 = a.backward(s2, dOut, gPlain, 2);
        assertArrayEquals(g2.dq().toArray(), g1.dq().toArray(), label + " dq");
        assertArrayEquals(g2.dk().toArray(), g1.dk().toArray(), label + " dk");
        assertArrayEquals(g2.dv().toArray(), g1.dv().toArray(), label + " dv");
        for (String name : w.keySet()) assertArrayEquals(gPlain.get(name).toArray(), gViews.get(name).toArray(), label + " d" + name);
        for (int i = 0; i < 3; i++) assertEquals(0f, flatG[i], "the gradient buffer outside the views is untouched");
    }

    /** relu features can all be zero: such a row is 0 and passes no gradient, never NaN. */
    @org.junit.jupiter.api.Test
    void reluRowWithZeroDenominatorIsZeroWithoutNaN() {
        TrainableAttention a = TrainableRegistry.create("linear", Settings.of("feature=relu", "chunk=2"));
        int n = 5, d = 3;
        float[] q = new float[n * d], k = new float[n * d], v = new float[n * d], go = new float[n * d];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) Math.abs(GradCheck.gaussian(r)) + 0.1f;
            k[i] = (float) Math.abs(GradCheck.gaussian(r)) + 0.1f;
            v[i] = (float) GradCheck.gaussian(r);
            go[i] = (float) GradCheck.gaussian(r);
        }
        for (int c = 0; c < d; c++) {
            q[2 * d + c] = -1f;     // row 2 has no positive query feature
            k[c] = -1f;             // key 0 has none either: row 0 sees only it
        }
        TrainableAttention.Saved s = a.forward(Tensor.of(q, 1, 1, n, d), Tensor.of(k, 1, 1, n, d), Tensor.of(v, 1, 1, n, d), Map.of(), 1);
        TrainableAttention.Gradients g = a.backward(s, Tensor.of(go, 1, 1, n, d), Map.of(), 1);
        float[] out = s.output().toArray(), dq = g.dq().toArray(), dk = g.dk().toArray(), dv = g.dv().toArray();
        for (int c = 0; c < d; c++) {
            assertEquals(0f, out[c], "row 0 sees only a key with zero features");
            assertEquals(0f, out[2 * d + c], "row 2 has zero query features");
            assertEquals(0f, dq[c]);
            assertEquals(0f, dq[2 * d + c]);
        }
        for (float[] x : new float[][] {out, dq, dk, dv}) for (float f : x) assertTrue(Float.isFinite(f), "finite");
        assertTrue(out[d] != 0f && out[4 * d] != 0f, "other rows are not zero");
    }
}
