package org.attn4j.bench.sdpa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.attn4j.core.attention.KernelChoice;
import org.junit.jupiter.api.Test;

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
        assertEquals(1, r.checks().size());
        assertTrue(r.checks().get(0).error().ok(), r.checks().get(0).error().format());
        String report = SdpaBackwardBench.report(r);
        assertTrue(report.contains("fwd+bwd") && report.contains("bwd") && report.contains("float64 reference"), report);
        assertTrue(report.contains("of peak ("), report); // the target lines
    }
}
