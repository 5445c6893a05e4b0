package org.attn4j.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ServiceLoader;
import java.util.SplittableRandom;

import org.attn4j.bench.peer.SdpaPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PyTorchSdpaPeerTest {

    private static final double ATOL = 1e-5;

    @Test
    void foundByServiceLoaderWithNameAndVersion() {
        SdpaPeer found = null;
        for (SdpaPeer p : ServiceLoader.load(SdpaPeer.class)) {
            if (p instanceof PyTorchSdpaPeer) {
                found = p;
            }
        }
        assertTrue(found != null, "PyTorchSdpaPeer not registered in META-INF/services");
        assertEquals("pytorch", found.name());
        assertFalse(found.version().isBlank());
    }

    @ParameterizedTest(name = "b={0} hq={1} hkv={2} nq={3} nk={4} d={5} dv={6} causal={7} threads={8}")
    @CsvSource({
            "1, 2, 2, 5, 5, 8, 8, false, 1",
            "1, 2, 2, 5, 5, 8, 8, true,  1",
            "1, 4, 2, 5, 5, 8, 8, false, 1",
            "1, 4, 2, 5, 5, 8, 8, true,  1",
            "1, 4, 2, 5, 5, 8, 8, true,  2",
            "2, 4, 1, 7, 7, 8, 8, true,  2",
            "1, 2, 2, 5, 9, 8, 8, false, 2",
    })
    void matchesDoublePrecisionReference(int b, int hq, int hkv, int nq, int nk, int d, int dv, boolean causal,
                                         int threads) {
        SplittableRandom rnd = new SplittableRandom(1234 + 31L * hq + 7L * hkv + (causal ? 1 : 0));
        float[] q = random(rnd, b * hq * nq * d);
        float[] k = random(rnd, b * hkv * nk * d);
        float[] v = random(rnd, b * hkv * nk * dv);
        double[] expected = reference(q, k, v, b, hq, hkv, nq, nk, d, dv, causal);

        SdpaPeer peer = new PyTorchSdpaPeer();
        try (SdpaPeer.Prepared prepared = peer.prepare(q, k, v, b, hq, hkv, nq, nk, d, dv, causal, threads)) {
            for (int rep = 0; rep < 2; rep++) { // a second run must give the same, still-correct output
                prepared.run();
                float[] actual = prepared.output();
                assertEquals(expected.length, actual.length);
                for (int i = 0; i < expected.length; i++) {
                    int idx = i;
                    assertEquals(expected[i], actual[i], ATOL, () -> "element " + idx);
                }
            }
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }

    /** softmax(Q K^T / sqrt(D)) V in double precision; causal is top-left aligned; query head h uses kv head h / (hq/hkv). */
    private static double[] reference(float[] q, float[] k, float[] v, int b, int hq, int hkv, int nq, int nk, int d,
                                      int dv, boolean causal) {
        double[] out = new double[b * hq * nq * dv];
        double scale = 1.0 / Math.sqrt(d);
        int group = hq / hkv;
        double[] s = new double[nk];
        for (int bi = 0; bi < b; bi++) {
            for (int h = 0; h < hq; h++) {
                int kh = h / group;
                int qBase = (bi * hq + h) * nq * d;
                int kBase = (bi * hkv + kh) * nk * d;
                int vBase = (bi * hkv + kh) * nk * dv;
                int oBase = (bi * hq + h) * nq * dv;
                for (int i = 0; i < nq; i++) {
                    int kEnd = causal ? Math.min(nk, i + 1) : nk;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < kEnd; j++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) {
                            dot += (double) q[qBase + i * d + c] * k[kBase + j * d + c];
                        }
                        s[j] = dot * scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < kEnd; j++) {
                        s[j] = Math.exp(s[j] - max);
                        sum += s[j];
                    }
                    for (int j = 0; j < kEnd; j++) {
                        double p = s[j] / sum;
                        for (int c = 0; c < dv; c++) {
                            out[oBase + i * dv + c] += p * v[vBase + j * dv + c];
                        }
                    }
                }
            }
        }
        return out;
    }
}
