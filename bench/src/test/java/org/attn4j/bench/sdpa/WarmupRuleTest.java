package org.attn4j.bench.sdpa;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WarmupRuleTest {
    private static List<Long> times(long... t) {
        List<Long> l = new ArrayList<>();
        for (long x : t) l.add(x);
        return l;
    }

    @Test
    void flatTimesAreStableOnlyWithAFullWindowAfterSomeHistory() {
        assertTrue(SdpaBench.stable(times(100, 101, 99, 100, 102, 100)));
        assertFalse(SdpaBench.stable(times(100, 101, 99, 100, 102)), "a window alone is not enough");
    }

    @Test
    void codeThatStillGetsFasterIsNotStable() {
        // the JIT finishing: every window is tight but faster than all calls before it
        assertFalse(SdpaBench.stable(times(5000, 4000, 900, 300, 120, 60, 61, 60, 59, 60)), "earlier calls were slower, but the window");
        assertTrue(SdpaBench.stable(times(5000, 4000, 900, 300, 120, 60, 61, 60, 59, 60, 61)));
        assertFalse(SdpaBench.stable(times(100, 100, 100, 100, 100, 100, 90, 90, 90, 90, 90)), "10 % faster than before: not yet");
    }

    @Test
    void aNoisyWindowIsNotStable() {
        assertFalse(SdpaBench.stable(times(100, 100, 100, 130, 100, 100, 100)));
        assertTrue(SdpaBench.stable(times(100, 100, 100, 100, 109, 100, 100, 100)));
    }

    @Test
    void warmingRunsUntilTheRuleHoldsAndReturnsTheCallsMade() {
        int[] calls = {0};
        // a cold phase: each of the first 30 calls 10 % faster than the one before, then steady at 100 us
        SdpaBench.Contender c = new SdpaBench.Contender(null, () -> {
            long spin = (long) (100_000 * Math.pow(1.1, Math.max(0, 30 - calls[0]++)));
            long t0 = System.nanoTime();
            while (System.nanoTime() - t0 < spin) Thread.onSpinWait();
        });
        int n = SdpaBench.warmUntilStable(c, 0);
        assertTrue(n >= 30 + SdpaBench.WARM_WINDOW, "the warm-up stopped while calls still got faster, after " + n + " calls");
    }
}
