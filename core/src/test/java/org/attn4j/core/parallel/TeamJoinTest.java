package org.attn4j.core.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/** The caller closes a job to helpers that have not joined yet; items must still run exactly once. */
class TeamJoinTest {
    @Test
    void jobsThatFinishBeforeParkedHelpersWakeStillRunEveryItemOnce() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            Random r = new Random(3);
            for (int job = 0; job < 3000; job++) {
                int count = 1 + r.nextInt(4), threads = 2 + r.nextInt(3);
                AtomicIntegerArray runs = new AtomicIntegerArray(count);
                Parallel.forEach(threads, count, w -> null, (i, s) -> runs.incrementAndGet(i));
                for (int i = 0; i < count; i++) assertEquals(1, runs.get(i), "job " + job + " item " + i);
                // sometimes wait past the workers' spin so they park and the next job starts without them
                if (r.nextInt(8) == 0) LockSupport.parkNanos(150_000 + r.nextInt(200_000));
            }
        });
    }

    @Test
    void aHelperThatJoinedIsWaitedForBeforeTheCallReturns() {
        for (int rep = 0; rep < 200; rep++) {
            int[] sum = new int[64];
            Parallel.forEach(2, 64, w -> null, (i, s) -> {
                long spin = System.nanoTime();
                while (System.nanoTime() - spin < 2_000) Thread.onSpinWait(); // long enough for a helper to join
                sum[i] = i + 1;
            });
            for (int i = 0; i < 64; i++) assertEquals(i + 1, sum[i], "item " + i + " of repetition " + rep);
        }
    }
}
