package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class FlowAttentionTest {
    static final double EPS = 1e-6;

    /** Σ_d (x_d + ε)(y_d + ε). */
    static double flow(double[] x, double[] y) {
        double s = 0;
        for (int c = 0; c < x.length; c++) s += (x[c] + EPS) * (y[c] + EPS);
        return s;
    }

    static double[][] sig(double[][] x) {
        double[][] o = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            o[i] = new double[x[i].length];
            for (int c = 0; c < x[i].length; c++) o[i][c] = Naive.sigmoid(x[i][c]);
        }
        return o;
    }

    /** Σ_{j in [0, upTo]} w_j x_j (w null = 1). */
    static double[] sum(double[][] x, double[] w, int upTo) {
        double[] s = new double[x[0].length];
        for (int j = 0; j <= upTo; j++) for (int c = 0; c < s.length; c++) s[c] += (w == null ? 1 : w[j]) * x[j][c];
        return s;
    }

    /** The paper's Flow-Attention, every flow summed directly and the N × N weights formed in full. */
    static Tensor naive(Tensor q, Tensor k, Tensor v, boolean causal) {
        return Naive.assemble(q.dim(0), q.dim(1), q.dim(2), v.dim(3), (b, h) -> {
            int hk = LinearTesting.kvHead(q, k, h);
            double[][] qs = sig(Naive.head(q, b, h)), ks = sig(Naive.head(k, b, hk)), vh = Naive.head(v, b, hk);
            int nq = qs.length, nk = ks.length;
            double[] in = new double[nq], out = new double[nk], alloc = new double[nq], comp = new double[nk];
            double[][] w = new double[nq][nk];
            if (!causal) {
                for (int i = 0; i < nq; i++) in[i] = 1 / flow(qs[i], sum(ks, null, nk - 1));
                for (int j = 0; j < nk; j++) out[j] = 1 / flow(ks[j], sum(qs, null, nq - 1));
                double[] kO = sum(ks, out, nk - 1), qI = sum(qs, in, nq - 1);
                double z = 0;
                double[] src = new double[nk];
                // no clip here: the authors' non-causal code takes softmax(Ô) of the raw conserved source (only the causal code clamps)
                for (int j = 0; j < nk; j++) z += src[j] = Math.exp(flow(ks[j], qI));
                for (int j = 0; j < nk; j++) comp[j] = src[j] / z * nk;
                for (int i = 0; i < nq; i++) alloc[i] = Naive.sigmoid(flow(qs[i], kO) * nq / nk);
                for (int i = 0; i < nq; i++) for (int j = 0; j < nk; j++) w[i][j] = alloc[i] * in[i] * Naive.dot(qs[i], ks[j]) * comp[j];
            } else {
                for (int i = 0; i < nq; i++) {
                    in[i] = (i + 1) / flow(qs[i], sum(ks, null, i));
                    out[i] = (i + 1) / flow(ks[i], sum(qs, null, i));
                }
                double[] src = new double[nk];
                for (int i = 0; i < nq; i++) {
                    alloc[i] = Naive.sigmoid(flow(qs[i], sum(ks, out, i)) / (i + 1));
                    src[i] = Math.exp(Math.max(-1, Math.min(1, flow(ks[i], sum(qs, in, i)) / (i + 1))));
                    double z = 0;
                    for (int j = 0; j <= i; j++) z += src[j];
                    comp[i] = src[i] / z * (i + 1);
                }
                for (int i = 0; i < nq; i++) for (int j = 0; j <= i; j++) w[i][j] = alloc[i] * in[i] / (i + 1) * Naive.dot(qs[i], ks[j]) * comp[j];
            }
            return Naive.apply(w, vh, false);
        });
    }

    @Test
    void nonCausalEqualsDirectFlows() {
        long seed = 1;
        for (int[] s : LinearTesting.SHAPES) {
            Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
            Tensor out = new FlowAttention(FlowParams.defaults()).run(t[0], t[1], t[2], 2).output();
            VariantAssert.assertClose(naive(t[0], t[1], t[2], false), out, 2e-5, 2e-4, java.util.Arrays.toString(s));
        }
        Tensor[] t = LinearTesting.qkv(77, 2, 2, 2, 13, 90, 13, 6);
        VariantAssert.assertClose(naive(t[0], t[1], t[2], false), new FlowAttention(FlowParams.defaults()).run(t[0], t[1], t[2], 1).output(),
                2e-5, 2e-4, "Nq=13, Nk=90");
    }

    @Test
    void causalEqualsDirectFlowsForEveryChunk() {
        long seed = 30;
        for (int[] s : LinearTesting.SHAPES) {
            Tensor[] t = LinearTesting.qkv(seed++, s[0], s[1], s[2], s[3], s[3], s[4], s[5]);
            Tensor expected = naive(t[0], t[1], t[2], true);
            for (int chunk : new int[] {1, 6, 64}) {
                Tensor out = new FlowAttention(new FlowParams(true, chunk)).run(t[0], t[1], t[2], 2).output();
                VariantAssert.assertClose(expected, out, 2e-5, 2e-4, "chunk " + chunk + " " + java.util.Arrays.toString(s));
            }
        }
    }

    @Test
    void decoderEqualsChunkedCausal() {
        int n = 50, d = 13, dv = 7;
        Tensor[] t = LinearTesting.qkv(5, 1, 1, 1, n, n, d, dv);
        Tensor chunked = new FlowAttention(new FlowParams(true, 16)).run(t[0], t[1], t[2], 1).output();
        FlowAttention.Decoder dec = FlowAttention.decoder(d, dv);
        float[] stepped = new float[n * dv];
        for (int i = 0; i < n; i++) {
            float[] q = new float[d], k = new float[d], v = new float[dv];
            for (int c = 0; c < d; c++) {
                q[c] = t[0].get(0, 0, i, c);
                k[c] = t[1].get(0, 0, i, c);
            }
            for (int c = 0; c < dv; c++) v[c] = t[2].get(0, 0, i, c);
            System.arraycopy(dec.step(q, k, v), 0, stepped, i * dv, dv);
        }
        VariantAssert.assertClose(chunked, Tensor.of(stepped, 1, 1, n, dv), 1e-5, 1e-4, "decoder vs chunked");
    }

    @Test
    void causalLeaksNothingFromTheFuture() {
        Tensor[] t = LinearTesting.qkv(13, 2, 3, 3, 39, 39, 13, 13);
        for (int chunk : new int[] {1, 8, 64}) {
            LinearTesting.assertNoFutureLeak(new FlowAttention(new FlowParams(true, chunk)), t[0], t[1], t[2], "chunk " + chunk);
        }
    }

    @Test
    void badParametersAreRejectedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new FlowParams(true, 0)).getMessage().contains("chunk"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> VariantRegistry.create("flowformer", Settings.of("causal=maybe"), 1)).getMessage().contains("causal"));
    }
}
