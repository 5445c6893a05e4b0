package org.attn4j.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ServiceLoader;
import java.util.SplittableRandom;

import org.attn4j.bench.peer.SdpaGradPeer;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionGradients;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PyTorchSdpaGradPeerTest {

    @Test
    void foundByServiceLoaderWithNameAndVersion() {
        SdpaGradPeer found = null;
        for (SdpaGradPeer p : ServiceLoader.load(SdpaGradPeer.class)) {
            if (p instanceof PyTorchSdpaGradPeer) {
                found = p;
            }
        }
        assertTrue(found != null, "PyTorchSdpaGradPeer not registered in META-INF/services");
        assertEquals("pytorch", found.name());
        assertFalse(found.version().isBlank());
    }

    @ParameterizedTest(name = "b={0} hq={1} hkv={2} nq={3} nk={4} d={5} dv={6} causal={7} threads={8}")
    @CsvSource({
            "1, 2, 2, 5, 5, 8, 8, false, 1",
            "1, 2, 2, 5, 5, 8, 8, true,  1",
            "1, 4, 2, 5, 5, 8, 8, true,  2",
            "2, 2, 2, 37, 37, 16, 16, true, 2",
            "1, 2, 2, 5, 9, 8, 8, false, 2",
    })
    void gradientsMatchTheFloat64ReferenceBackward(int b, int hq, int hkv, int nq, int nk, int d, int dv, boolean causal,
                                                   int threads) {
        SplittableRandom rnd = new SplittableRandom(99 + 31L * hq + 7L * nk + (causal ? 1 : 0));
        float[] q = random(rnd, b * hq * nq * d), k = random(rnd, b * hkv * nk * d), v = random(rnd, b * hkv * nk * dv);
        float[] dOut = random(rnd, b * hq * nq * dv);
        Tensor qt = Tensor.of(q, b, hq, nq, d), kt = Tensor.of(k, b, hkv, nk, d), vt = Tensor.of(v, b, hkv, nk, dv);
        AttentionSpec.Builder sb = AttentionSpec.builder().kernel(KernelChoice.REFERENCE).returnLse(true);
        if (causal) {
            sb.causal(CausalAlignment.TOP_LEFT); // PyTorch's is_causal
        }
        AttentionSpec spec = sb.build();
        AttentionResult fwd = Attention.sdpa(qt, kt, vt, spec);
        AttentionGradients ref = Attention.backward(qt, kt, vt, fwd.output(), fwd.lse(), Tensor.of(dOut, b, hq, nq, dv), spec);

        try (SdpaGradPeer.Prepared p = new PyTorchSdpaGradPeer().prepare(q, k, v, dOut, b, hq, hkv, nq, nk, d, dv, causal, threads)) {
            for (int rep = 0; rep < 2; rep++) { // fresh graphs: a second step must give the same gradients
                if (rep == 0) {
                    p.forwardBackward();
                } else {
                    p.forward();
                    p.backward();
                }
                assertClose(ref.dq().data(), p.dq(), "dq");
                assertClose(ref.dk().data(), p.dk(), "dk");
                assertClose(ref.dv().data(), p.dv(), "dv");
            }
            assertTrue(p.backwardKernel().contains("Backward"), p.backwardKernel());
            assertThrows(IllegalStateException.class, p::backward, "a graph is consumed by its backward");
        }
    }

    @Test
    void theFusedCpuFlashBackwardRunsForTheBenchmarkShape() {
        int n = 256, d = 64;
        SplittableRandom rnd = new SplittableRandom(5);
        float[] q = random(rnd, 2 * n * d), k = random(rnd, 2 * n * d), v = random(rnd, 2 * n * d), g = random(rnd, 2 * n * d);
        for (boolean causal : new boolean[] {false, true}) {
            try (SdpaGradPeer.Prepared p = new PyTorchSdpaGradPeer().prepare(q, k, v, g, 1, 2, 2, n, n, d, d, causal, 1)) {
                p.forward();
                assertTrue(p.backwardKernel().endsWith("ScaledDotProductFlashAttentionForCpuBackward0"), p.backwardKernel());
            }
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            int idx = i;
            assertEquals(expected[i], actual[i], 2e-5 + 2e-5 * Math.abs(expected[i]), () -> what + " element " + idx);
        }
    }

    private static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return a;
    }
}
