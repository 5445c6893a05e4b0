package org.attn4j.bench.sdpa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionGradients;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SdpaBackwardBenchTest {

    @Test
    void forwardFlopsAreFourBHNND() {
        SdpaShape s = new SdpaShape(1, 8, 8, 2048, 2048, 64, 64, false);
        assertEquals(4.0 * 8 * 2048 * 2048 * 64, s.flops());
        assertEquals(2.5 * 4.0 * 8 * 2048 * 2048 * 64, s.backwardFlops());
        assertEquals(3.5 * 4.0 * 8 * 2048 * 2048 * 64, s.forwardBackwardFlops());
        assertEquals(s.backwardFlops(), SdpaBackwardBench.Pass.BACKWARD.flops(s));
        assertEquals(s.forwardBackwardFlops(), SdpaBackwardBench.Pass.FORWARD_BACKWARD.flops(s));
    }

    @Test
    void causalCountsTheVisiblePairsAndGqaTheQueryHeads() {
        SdpaShape causal = new SdpaShape(2, 8, 2, 2048, 2048, 64, 64, true);
        double pairs = 2048.0 * 2049 / 2; // N(N+1)/2 per head: a bit more than half of N²
        assertEquals(2 * 8 * pairs, causal.visiblePairs());
        assertEquals(2.5 * 4 * 64 * 2 * 8 * pairs, causal.backwardFlops());
        // bottom-right alignment with Nq < Nk: query i sees Nk - Nq + i + 1 keys
        SdpaShape rect = new SdpaShape(1, 1, 1, 2, 5, 4, 8, true);
        assertEquals(4 + 5, rect.visiblePairs());
        assertEquals(2 * (4 + 8) * 9.0, rect.flops());
        assertEquals(2.5 * rect.flops(), rect.backwardFlops());
    }

    @Test
    void timingQuantiles() {
        SdpaBackwardBench.Timing t = SdpaBackwardBench.Timing.of(new double[] {1, 2, 3, 4, 10});
        assertEquals(3, t.medianMs());
        assertEquals(2, t.p25Ms());
        assertEquals(4, t.p75Ms());
        assertEquals(1, t.minMs());
        assertEquals(10, t.maxMs());
        assertEquals(5, t.samples());
        assertEquals(2.5, SdpaBackwardBench.Timing.of(new double[] {1, 2, 3, 4}).medianMs());
    }

    @Test
    void aWrongGradientFailsTheCheck() {
        float[] ref = {1, -2, 0.5f}, same = ref.clone(), off = {1, -2, 0.6f}, nan = {1, Float.NaN, 0.5f};
        assertTrue(SdpaBackwardBench.GradError.of(same, same, same, ref, ref, ref).ok());
        SdpaBackwardBench.GradError e = SdpaBackwardBench.GradError.of(same, same, off, ref, ref, ref);
        assertFalse(e.ok());
        assertEquals(0.1, e.dvAbs(), 1e-6);
        assertEquals(0.05, e.dvRel(), 1e-6); // ÷ max|ref| = 2
        assertFalse(SdpaBackwardBench.GradError.of(nan, same, same, ref, ref, ref).ok(), "NaN must not pass");
        assertFalse(SdpaBackwardBench.GradError.of(new float[2], same, same, ref, ref, ref).ok(), "a wrong length must not pass");
    }

    @ParameterizedTest(name = "hq={0} hkv={1} nq={2} nk={3} causal={4}")
    @CsvSource({"2, 2, 33, 33, false", "4, 2, 40, 40, true", "2, 1, 50, 20, true", "2, 2, 20, 50, true"})
    void theIdentitiesHoldForTrueGradientsAndCatchWrongOnes(int hq, int hkv, int nq, int nk, boolean causal) {
        SdpaShape s = new SdpaShape(2, hq, hkv, nq, nk, 16, 8, causal);
        Random r = new Random(3);
        float[] q = SdpaBench.gaussian(r, 2 * hq * nq * 16), k = SdpaBench.gaussian(r, 2 * hkv * nk * 16);
        float[] v = SdpaBench.gaussian(r, 2 * hkv * nk * 8), g = SdpaBench.gaussian(r, 2 * hq * nq * 8);
        Tensor qt = Tensor.of(q, 2, hq, nq, 16), kt = Tensor.of(k, 2, hkv, nk, 16), vt = Tensor.of(v, 2, hkv, nk, 8), gt = Tensor.of(g, 2, hq, nq, 8);
        AttentionGradients ref = Attention.forwardBackward(qt, kt, vt, gt, SdpaBench.spec(s, KernelChoice.REFERENCE, 1)).gradients();
        SdpaBackwardBench.GradError exact = SdpaBackwardBench.identities(s, q, k, g, ref);
        assertTrue(identitiesHold(s, exact) && exact.worstRel() < 1e-6, exact.format()); // float64 gradients rounded to fp32

        AttentionGradients flash = Attention.forwardBackward(qt, kt, vt, gt, SdpaBench.spec(s, KernelChoice.FLASH, 2)).gradients();
        SdpaBackwardBench.GradError fast = SdpaBackwardBench.identities(s, q, k, g, flash);
        assertTrue(identitiesHold(s, fast), fast.format());

        float[] dv = ref.dv().data().clone();
        for (int i = 0; i < dv.length; i++) dv[i] *= 1.01f;
        SdpaBackwardBench.GradError e = SdpaBackwardBench.identities(s, q, k, g, new AttentionGradients(ref.dq(), ref.dk(), Tensor.of(dv, ref.dv().shape()), null, ref.dispatch()));
        assertTrue(e.dvRel() > SdpaBackwardBench.IDENTITY_TOLERANCE, "dV 1 % too large: " + e.format());
        float[] dk = ref.dk().data().clone();
        for (int i = 0; i < dk.length; i += 16) dk[i] += 0.01f; // a constant added to one column of every key's gradient
        e = SdpaBackwardBench.identities(s, q, k, g, new AttentionGradients(ref.dq(), Tensor.of(dk, ref.dk().shape()), ref.dv(), null, ref.dispatch()));
        assertTrue(e.dkRel() > SdpaBackwardBench.IDENTITY_TOLERANCE, "dK shifted: " + e.format());
        float[] dq = ref.dq().data().clone();
        for (int i = 0; i < dq.length; i++) dq[i] *= 0.99f;
        e = SdpaBackwardBench.identities(s, q, k, g, new AttentionGradients(Tensor.of(dq, ref.dq().shape()), ref.dk(), ref.dv(), null, ref.dispatch()));
        assertTrue(e.dqRel() > SdpaBackwardBench.IDENTITY_TOLERANCE, "dQ 1 % too small: " + e.format());
        assertFalse(identitiesHold(s, e));
    }

    private static boolean identitiesHold(SdpaShape s, SdpaBackwardBench.GradError e) {
        return new SdpaBackwardBench.Check(s, 0, SdpaBackwardBench.IDENTITIES, e).ok();
    }

    @Test
    void runTimesBothPassesAndChecksAgainstTheReference() {
        SdpaShape s = new SdpaShape(1, 2, 1, 70, 70, 16, 16, true);
        var o = new SdpaBackwardBench.Options(List.of(s), new int[] {1, 2}, KernelChoice.AUTO, false, 2, 0.02, 0.01, true);
        List<String> progress = new ArrayList<>();
        SdpaBackwardBench.Result r = new SdpaBackwardBench(progress::add).run(o);
        assertEquals(4, r.rows().size()); // {fwd+bwd, bwd} × {1, 2 threads}, attn4j only (no peers in this module)
        for (SdpaBackwardBench.Row row : r.rows()) {
            assertEquals("attn4j", row.impl());
            assertEquals("flash", row.kernel());
            assertNull(row.attn4jSpeedup());
            assertTrue(row.time().samples() >= 2 && row.time().medianMs() > 0 && row.peakFraction() > 0, row.toString());
            assertEquals(row.pass().flops(s) / row.time().medianMs() / 1e6, row.gflops(), 1e-9 * row.gflops());
        }
        assertEquals(2, r.checks().size()); // the float64 reference on one head, the identities on all
        for (SdpaBackwardBench.Check c : r.checks()) assertTrue(c.ok(), c.against() + ": " + c.error().format());
        String report = SdpaBackwardBench.report(r);
        assertTrue(report.contains("fwd+bwd") && report.contains("bwd") && report.contains("float64 reference"), report);
        assertTrue(report.contains("of peak ("), report); // the target lines
    }
}
