package org.attn4j.bench.peak;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The peak is the denominator of every "% of peak": a failed measurement must never come out as a low number. */
class FmaPeakTest {

    @Test
    void aWorkerThatFailsFailsTheMeasurement() {
        ArithmeticException boom = new ArithmeticException("worker failed");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FmaPeak.run(3, 20, n -> {
            if (Thread.currentThread().getName().endsWith("-1")) throw boom;
            return 1f;
        }));
        assertSame(boom, e.getCause(), e.toString());
        assertTrue(e.getMessage().contains("worker"), e.getMessage());
    }

    @Test
    void anInterruptedMeasurementSaysSoInsteadOfReturningAPartialSum() {
        Thread.currentThread().interrupt();
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> FmaPeak.run(2, 50, n -> 1f));
            assertTrue(e.getMessage().contains("interrupted"), e.getMessage());
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt stays set for the caller");
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aSuccessfulMeasurementIsPositive() {
        assertTrue(FmaPeak.measure(1, 1, 20) > 0);
    }
}
