package org.attn4j.core.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void everyItemRunsExactlyOnceOverManyJobs() {
        for (int job = 0; job < 3000; job++) {
            int count = 1 + job % 37;
            AtomicIntegerArray hits = new AtomicIntegerArray(count);
            Parallel.forEach(2 + job % 2, count, w -> null, (i, s) -> hits.incrementAndGet(i));
            for (int i = 0; i < count; i++) assertEquals(1, hits.get(i), "job " + job + " item " + i);
        }
    }

    @Test
    void eachParticipatingThreadGetsItsOwnState() {
        ConcurrentHashMap<Thread, Object> seen = new ConcurrentHashMap<>();
        AtomicInteger created = new AtomicInteger();
        Parallel.forEach(2, 200, w -> { created.incrementAndGet(); return new Object(); }, (i, s) -> {
            Object prev = seen.putIfAbsent(Thread.currentThread(), s);
            assertTrue(prev == null || prev == s, "a thread's state changed within one job");
        });
        assertTrue(created.get() <= 2);
    }

    @Test
    void failuresReachTheCallerAndTheTeamStaysUsable() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.forEach(2, 50, w -> null, (i, s) -> {
            if (i == 17) throw new IllegalArgumentException("item 17");
        }));
        assertEquals("item 17", e.getMessage());
        AtomicInteger n = new AtomicInteger();
        Parallel.forEach(2, 100, w -> null, (i, s) -> n.incrementAndGet());
        assertEquals(100, n.get());
    }

    @Test
    void concurrentAndNestedCallersAllComplete() throws InterruptedException {
        int callers = 4;
        AtomicInteger total = new AtomicInteger();
        CountDownLatch finished = startCallers(callers, () -> {
            for (int j = 0; j < 200; j++) {
                Parallel.forEach(2, 10, w -> null, (i, s) ->
                        Parallel.forEach(2, 3, w2 -> null, (i2, s2) -> total.incrementAndGet()));
            }
        });
        assertTrue(finished.await(60, java.util.concurrent.TimeUnit.SECONDS), "callers did not finish");
        assertEquals(callers * 200 * 10 * 3, total.get());
    }

    /** Starts {@code callers} daemon threads that run {@code work} all at once; the latch counts them down as they end. */
    static CountDownLatch startCallers(int callers, Runnable work) {
        CountDownLatch go = new CountDownLatch(1), finished = new CountDownLatch(callers);
        for (int c = 0; c < callers; c++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    work.run();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    finished.countDown();
                }
            });
            t.setDaemon(true);
            t.start();
        }
        go.countDown();
        return finished;
    }
}
