package org.attn4j.core.parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs {@code count} independent work items on up to {@code threads} threads (the caller is one
 * of them). Items are handed out one at a time from a shared counter, in index order, so callers
 * put the most expensive items first to balance uneven work (causal masks).
 *
 * <p><b>Threads and their lifecycle.</b> Two sets of daemon threads serve every call in the process
 * (they never keep the JVM alive, need no shutdown, and hold nothing of a job once it has returned):
 * <ul>
 *   <li>the <i>team</i>: {@code attn4j.team.threads} workers (default: processors − 1), started on
 *       the first parallel call and kept for the life of the JVM. Between jobs a worker spins for
 *       0.1 ms, then parks (no CPU while idle). One job at a time;</li>
 *   <li>the <i>pool</i>, used when the team is busy (concurrent callers, nested calls): at most
 *       {@code attn4j.parallel.poolThreads} threads (default: processors), each ending after 30 s
 *       idle. When they are all busy the caller runs the items itself; the bound holds however many
 *       threads call at once.</li>
 * </ul>
 * So a process embedding attn4j runs at most {@code team + pool} attn4j threads besides its own
 * callers. Set the two system properties (a count &gt;= 0; 0 turns that set off) before the first
 * call, e.g. {@code -Dattn4j.team.threads=0 -Dattn4j.parallel.poolThreads=4} for a server that
 * already runs a thread per request. The per-call {@code threads} argument never raises these bounds.
 */
public final class Parallel {
    private static final int POOL_THREADS = threadsProperty("attn4j.parallel.poolThreads", Runtime.getRuntime().availableProcessors());
    private static final ThreadPoolExecutor POOL = pool(POOL_THREADS);

    /** Work for one thread: {@code worker} is 0..threads-1, stable for the thread's lifetime in this call. */
    public interface Body<S> {
        void run(int item, S state);
    }

    /** Per-thread state factory (scratch buffers), called once per participating thread. */
    public interface StateFactory<S> {
        S create(int worker);
    }

    private Parallel() {}

    /** Threads to use for {@code requested} (0 = all processors); a negative count is an error. */
    public static int resolveThreads(int requested) {
        if (requested < 0) throw new IllegalArgumentException("threads: expected 0 (all cores) or a positive count, got " + requested);
        return requested > 0 ? requested : Runtime.getRuntime().availableProcessors();
    }

    /**
     * Runs {@code body(i, state)} for every {@code i} in {@code [0, count)}, each exactly once, on the
     * calling thread and up to {@code threads − 1} workers; returns when all items have run.
     * {@code states.create(w)} is called once per participating thread, with {@code w} in
     * {@code [0, threads)} (0 is the caller). Fewer threads may take part than asked for (the team and
     * the pool are shared by the whole process), so a body must never wait for another item.
     *
     * <p><b>Exceptions:</b> the first exception thrown by a body or a state factory stops the handing
     * out of items and is rethrown to the caller once every started thread has stopped (a checked
     * one wrapped in IllegalStateException); items not yet started do not run.
     *
     * <p><b>Nesting:</b> a body may call {@code forEach} again; the inner call runs on the caller's
     * thread and whatever pool threads are free, never deadlocks, and may run serially.
     */
    public static <S> void forEach(int threads, int count, StateFactory<S> states, Body<S> body) {
        if (count <= 0) return;
        int workers = Math.max(1, Math.min(threads, count));
        AtomicInteger next = new AtomicInteger();
        if (workers == 1 || POOL == null && Team.INSTANCE.size() == 0) {
            S s = states.create(0);
            for (int i = 0; i < count; i++) body.run(i, s);
            return;
        }
        if (Team.INSTANCE.run(workers, count, states, body)) return;
        // Helpers wait in the pool's queue when its threads are busy; the caller drains the items
        // meanwhile and then withdraws each helper that has not started (whichever of the two claims
        // a helper first decides), and waits for the ones that have.
        int helpers = POOL == null ? 0 : Math.min(workers - 1, POOL_THREADS);
        List<Helper<S>> started = new ArrayList<>(helpers);
        for (int w = 1; w <= helpers; w++) {
            Helper<S> h = new Helper<>(w, next, count, states, body);
            started.add(h);
            POOL.execute(h);
        }
        Throwable failure = null;
        try {
            drain(next, count, states.create(0), body);
        } catch (Throwable t) {
            failure = t;
            next.set(count);
        }
        boolean interrupted = false;
        for (Helper<S> h : started) {
            if (h.claimed.compareAndSet(false, true)) {
                POOL.remove(h);
                continue;
            }
            while (true) {
                try {
                    h.done.await();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the helper is running on shared data: wait for it all the same
                }
            }
            if (failure == null) failure = h.failure;
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new IllegalStateException("attention worker failed", failure);
    }

    /** One pool thread's share of a call: runs only if it claims itself before the caller withdraws it. */
    private static final class Helper<S> implements Runnable {
        final AtomicBoolean claimed = new AtomicBoolean();
        final CountDownLatch done = new CountDownLatch(1);
        final int worker, count;
        final AtomicInteger next;
        final StateFactory<S> states;
        final Body<S> body;
        volatile Throwable failure;

        Helper(int worker, AtomicInteger next, int count, StateFactory<S> states, Body<S> body) {
            this.worker = worker;
            this.next = next;
            this.count = count;
            this.states = states;
            this.body = body;
        }

        @Override
        public void run() {
            if (!claimed.compareAndSet(false, true)) return; // withdrawn: the caller ran the items
            try {
                drain(next, count, states.create(worker), body);
            } catch (Throwable t) {
                failure = t;
                next.set(count);
            } finally {
                done.countDown();
            }
        }
    }

    /** The most pool threads alive at once ({@code attn4j.parallel.poolThreads}, default: processors). */
    public static int poolThreads() { return POOL_THREADS; }

    /** The most team threads ({@code attn4j.team.threads}, default: processors − 1). */
    public static int teamThreads() { return Team.INSTANCE.size(); }

    /** A thread count from a system property: {@code fallback} when unset, else an integer &gt;= 0. */
    static int threadsProperty(String name, int fallback) {
        String p = System.getProperty(name);
        if (p == null) return fallback;
        try {
            int n = Integer.parseInt(p.trim());
            if (n >= 0) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException(name + ": expected a thread count >= 0, got '" + p + "'");
    }

    private static ThreadPoolExecutor pool(int size) {
        if (size == 0) return null;
        ThreadPoolExecutor pool = new ThreadPoolExecutor(size, size, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "attn4j-worker");
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    private static <S> void drain(AtomicInteger next, int count, S state, Body<S> body) {
        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) body.run(i, state);
    }
}
