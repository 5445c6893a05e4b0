package org.attn4j.variants.trainable;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.trainable.Float64Attention.Dims;
import org.junit.jupiter.api.Test;

/**
 * {@code neighborhood-1d} trains on the engine's sliding-window flash kernels (float32). Its
 * backward is checked against a float64 sliding-window attention whose own backward is checked by
 * central finite differences here.
 */
class NeighborhoodTrainableTest {
    /** Float64 causal sliding window of {@code kernel} keys. */
    static final class WindowReference extends Float64Attention {
        final int kernel;

        WindowReference(int kernel) { this.kernel = kernel; }

        @Override public String name() { return "window-reference"; }

        @Override public List<TrainableParam> parameters(int heads, int headDim, int seqLen) { return List.of(); }

        record State(Dims dims, double[][] q, double[][] k, double[][] v, double[][] output, double[][] lse) implements Saved64 {}

        @Override
        public Saved64 forward64(Dims d, double[][] q, double[][] k, double[][] v, Map<String, double[]> w, int threads) {
            double[][] out = new double[d.bh()][d.n() * d.dv()], lse = new double[d.bh()][d.n()];
            for (int bh = 0; bh < d.bh(); bh++) Softmax64.forward(q[bh], k[bh], v[bh], d.n(), d.d(), d.dv(), 1 / Math.sqrt(d.d()), Softmax64.window(kernel), out[bh], lse[bh]);
            return new State(d, q, k, v, out, lse);
        }

        @Override
        public void backward64(Saved64 saved, double[][] dOut, double[][] dq, double[][] dk, double[][] dv, Map<String, double[]> g, int threads) {
            State s = (State) saved;
            Dims d = s.dims();
            for (int bh = 0; bh < d.bh(); bh++) {
                Softmax64.backward(s.q()[bh], s.k()[bh], s.v()[bh], s.output()[bh], s.lse()[bh], dOut[bh], d.n(), d.d(), d.dv(),
                        1 / Math.sqrt(d.d()), Softmax64.window(kernel), dq[bh], dk[bh], dv[bh]);
            }
        }
    }

    @Test
    void theFloat64WindowMatchesFiniteDifferences() {
        for (int kernel : new int[] {1, 2, 4}) {
            WindowReference ref = new WindowReference(kernel);
            for (int n : new int[] {1, 7}) GradCheck.check(ref, new GradCheck.Problem(ref, new Dims(2, 2, n, 3, 2), n), "window kernel=" + kernel + " n=" + n);
        }
    }

    @Test
    void engineGradientsMatchTheFloat64Window() {
        for (int kernel : new int[] {1, 3, 8}) {
            TrainableAttention t = TrainableRegistry.create("neighborhood-1d", Settings.of("kernel=" + kernel));
            WindowReference ref = new WindowReference(kernel);
            for (int n : new int[] {1, 9, 33}) {
                Dims dims = new Dims(2, 2, n, 4, 4);
                GradCheck.Problem p = new GradCheck.Problem(ref, dims, 7 * n + kernel);
                for (double[][] x : new double[][][] {p.q, p.k, p.v, p.r}) for (double[] row : x) for (int i = 0; i < row.length; i++) row[i] = (float) row[i];
                Tensor q = GradCheck.tensor(p.q, dims, 4), k = GradCheck.tensor(p.k, dims, 4), v = GradCheck.tensor(p.v, dims, 4);
                TrainableAttention.Saved s = t.forward(q, k, v, Map.of(), 1);
                TrainableAttention.Gradients g = t.backward(s, GradCheck.tensor(p.r, dims, 4), new HashMap<>(), 1);
                var saved = ref.forward64(dims, p.q, p.k, p.v, Map.of(), 1);
                double[][] dq = new double[dims.bh()][n * 4], dk = new double[dims.bh()][n * 4], dv = new double[dims.bh()][n * 4];
                ref.backward64(saved, p.r, dq, dk, dv, new HashMap<>(), 1);
                String what = "kernel=" + kernel + " n=" + n;
                VariantAssert.assertClose(GradCheck.tensor(saved.output(), dims, 4), s.output(), 1e-5, 1e-4, what + " output");
                VariantAssert.assertClose(GradCheck.tensor(dq, dims, 4), g.dq(), 1e-4, 1e-3, what + " dq");
                VariantAssert.assertClose(GradCheck.tensor(dk, dims, 4), g.dk(), 1e-4, 1e-3, what + " dk");
                VariantAssert.assertClose(GradCheck.tensor(dv, dims, 4), g.dv(), 1e-4, 1e-3, what + " dv");
            }
        }
    }

    @Test
    void futureTokensDoNotChangeEarlierOutputs() {
        TrainableAttention t = TrainableRegistry.create("neighborhood-1d", Settings.of("kernel=3"));
        Dims dims = new Dims(1, 2, 9, 4, 4);
        WindowReference ref = new WindowReference(3);
        GradCheck.Problem p = new GradCheck.Problem(ref, dims, 3);
        Tensor q = GradCheck.tensor(p.q, dims, 4), k = GradCheck.tensor(p.k, dims, 4), v = GradCheck.tensor(p.v, dims, 4);
        float[] before = t.forward(q, k, v, Map.of(), 1).output().toArray();
        for (Tensor x : new Tensor[] {q, k, v}) for (int bh = 0; bh < 2; bh++) for (int i = 5; i < 9; i++) for (int c = 0; c < 4; c++) x.data()[(bh * 9 + i) * 4 + c] += 1.5f;
        float[] after = t.forward(q, k, v, Map.of(), 1).output().toArray();
        for (int bh = 0; bh < 2; bh++) {
            for (int i = 0; i < 5; i++) {
                for (int c = 0; c < 4; c++) org.junit.jupiter.api.Assertions.assertEquals(before[(bh * 9 + i) * 4 + c], after[(bh * 9 + i) * 4 + c], 0.0, "row " + i);
            }
        }
        org.junit.jupiter.api.Assertions.assertNotEquals(before[8 * 4], after[8 * 4], "the last row must see the perturbation");
    }

    @Test
    void rejectsSettingsItCannotTrain() {
        VariantAssert.assertRejects("kernel:", () -> TrainableRegistry.create("neighborhood-1d", Settings.of("kernel=0")));
        VariantAssert.assertRejects("no parameter dilation", () -> TrainableRegistry.create("neighborhood-1d", Settings.of("dilation=2")));
    }
}
