package org.attn4j.variants.linear;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VecExpTest {

    /** A server thread that once ran a long sequence must not keep scratch of that length for the rest of its life. */
    @Test
    void scratchPerThreadIsBoundedWhateverTheLength() throws Exception {
        Thread t = new Thread(() -> {
            float[] x = new float[3_000_001];
            VecExp.exp(x, 0, x.length, 1f);
            assertTrue(VecExp.scratchFloats() <= VecExp.MAX_SCRATCH_FLOATS,
                    "scratch " + VecExp.scratchFloats() + " floats after one row of " + x.length);
        });
        Throwable[] failure = new Throwable[1];
        t.setUncaughtExceptionHandler((th, e) -> failure[0] = e);
        t.start();
        t.join();
        if (failure[0] instanceof AssertionError e) throw e;
        if (failure[0] != null) throw new AssertionError(failure[0]);
    }

    @Test
    void longRowsEqualTheirPiecesAndTheDefinition() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 20_011, off = 5;
        float[] x = new float[off + n];
        for (int i = 0; i < x.length; i++) x[i] = (float) (-30 * r.nextDouble());
        float[] whole = x.clone(), pieces = x.clone();
        VecExp.exp(whole, off, n, 0.5f);
        for (int a = off; a < off + n; a += 777) VecExp.exp(pieces, a, Math.min(777, off + n - a), 0.5f);
        for (int i = 0; i < off; i++) assertEquals(x[i], whole[i], "untouched before off");
        for (int i = off; i < off + n; i++) {
            assertEquals(Math.exp(x[i] - 0.5), whole[i], 2e-6 * Math.exp(x[i] - 0.5) + 1e-30, "i=" + i);
            assertEquals(whole[i], pieces[i], 2e-7f * whole[i] + 1e-30f, "i=" + i);
        }
    }
}
