package org.attn4j.core.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What a long-lived process (a server, an executor) can rely on: the worker threads are bounded in
 * number, daemon, and hold nothing of a job once it has returned.
 */
class ParallelLifecycleTest {

    @Test
    void aFinishedJobHoldsNoReferenceToItsData() throws InterruptedException {
        WeakReference<float[]> data = runOnceOverFreshData();
        for (int i = 0; i < 50 && data.get() != null; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertTrue(data.get() == null, "the arrays a finished job read are still reachable from the worker threads");
    }

    private static WeakReference<float[]> runOnceOverFreshData() {
        float[] big = new float[1 << 20];
        AtomicInteger seen = new AtomicInteger();
        Parallel.forEach(2, 64, w -> big, (i, s) -> {
            if (s[i] == 0f) seen.incrementAndGet();
        });
        assertEquals(64, seen.get());
        return new WeakReference<>(big);
    }

    @Test
    void manyConcurrentCallersUseABoundedNumberOfPoolThreads() throws InterruptedException {
        int callers = 12;
        AtomicInteger items = new AtomicInteger();
        CountDownLatch finished = ParallelTest.startCallers(callers, () -> {
            for (int j = 0; j < 3; j++) {
                Parallel.forEach(8, 32, w -> null, (i, s) -> {
                    items.incrementAndGet();
                    sleep(2);
                });
            }
        });
        int most = 0;
        while (!finished.await(1, TimeUnit.MILLISECONDS)) most = Math.max(most, livePoolThreads());
        assertEquals(callers * 3 * 32, items.get());
        assertTrue(most <= Parallel.poolThreads(), most + " pool threads alive at once; the bound is " + Parallel.poolThreads());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("attn4j-")) assertTrue(t.isDaemon(), t.getName() + " would keep the JVM alive");
        }
    }

    /** With the team busy the pool helps; the call must still return only after its last item has finished. */
    @Test
    void aCallReturnsOnlyWhenEveryItemHasFinishedWhileThePoolHelps() throws InterruptedException {
        CountDownLatch teamTaken = new CountDownLatch(1), release = new CountDownLatch(1);
        Thread holder = new Thread(() -> Parallel.forEach(2, 2, w -> null, (i, s) -> {
            teamTaken.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        holder.setDaemon(true);
        holder.start();
        try {
            assertTrue(teamTaken.await(10, TimeUnit.SECONDS));
            for (int round = 0; round < 20; round++) {
                AtomicInteger finished = new AtomicInteger();
                Parallel.forEach(2, 6, w -> null, (i, s) -> {
                    sleep(3);
                    finished.incrementAndGet();
                });
                assertEquals(6, finished.get(), "round " + round + ": forEach returned before all its items had finished");
            }
        } finally {
            release.countDown();
            holder.join();
        }
    }

    @Test
    void threadCountsFromSystemPropertiesAreCheckedWhereTheyEnter() {
        assertEquals(7, Parallel.threadsProperty("attn4j.test.absent", 7));
        System.setProperty("attn4j.test.threads", " 3 ");
        System.setProperty("attn4j.test.zero", "0");
        System.setProperty("attn4j.test.bad", "-1");
        try {
            assertEquals(3, Parallel.threadsProperty("attn4j.test.threads", 7));
            assertEquals(0, Parallel.threadsProperty("attn4j.test.zero", 7));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.threadsProperty("attn4j.test.bad", 7));
            assertTrue(e.getMessage().startsWith("attn4j.test.bad: expected"), e.getMessage());
        } finally {
            System.clearProperty("attn4j.test.threads");
            System.clearProperty("attn4j.test.zero");
            System.clearProperty("attn4j.test.bad");
        }
    }

    private static int livePoolThreads() {
        List<Thread> live = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) if (t.isAlive() && t.getName().startsWith("attn4j-worker")) live.add(t);
        return live.size();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
