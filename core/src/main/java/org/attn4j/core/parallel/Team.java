package org.attn4j.core.parallel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Persistent worker threads that spin for a short while between jobs, so a parallel section costs a
 * few microseconds to start instead of a park/unpark round trip through an executor (tens of
 * microseconds, which a 16-token encoder pass pays some 25 times). One job at a time: a caller that
 * finds the team busy (another thread's job, or a nested call) gets {@code false} and uses the pool.
 */
final class Team {
    /** How long an idle worker spins before parking. */
    private static final long SPIN_NANOS = 100_000;
    /**
     * How long the caller spins for helpers still running their last item before it yields the core
     * on every check (a helper descheduled by the JIT's compiler threads needs that core to finish).
     */
    private static final long WAIT_SPIN_NANOS = 20_000;
    private static final int CLOSED = 1 << 30;

    static final Team INSTANCE = new Team(Parallel.threadsProperty("attn4j.team.threads", Math.max(0, Runtime.getRuntime().availableProcessors() - 1)));

    private final ReentrantLock lock = new ReentrantLock();
    private final Thread[] workers;
    private final AtomicIntegerArray parked;
    private long jobs;
    /**
     * The job being run, or null: cleared when the job returns, so the team holds no reference to a
     * finished job's data. Each job has its own number so no worker takes one twice.
     */
    private volatile Job<?> current;

    private static final class Job<S> {
        final long number;
        final int count, helpers;
        final Parallel.StateFactory<S> states;
        final Parallel.Body<S> body;
        final AtomicInteger next = new AtomicInteger(), done = new AtomicInteger();
        /** Helpers that joined, plus {@link #CLOSED} once the caller stops taking new ones. */
        final AtomicInteger joined = new AtomicInteger();
        volatile Throwable failure;

        /** A helper joins the job; false once the caller has closed it (it ran every item without that helper). */
        boolean join() {
            for (int s = joined.get(); (s & CLOSED) == 0; s = joined.get()) {
                if (joined.compareAndSet(s, s + 1)) return true;
            }
            return false;
        }

        /** The caller admits no more helpers; returns how many joined (those it must wait for). */
        int close() {
            int s;
            do {
                s = joined.get();
            } while (!joined.compareAndSet(s, s | CLOSED));
            return s;
        }

        Job(long number, int count, int helpers, Parallel.StateFactory<S> states, Parallel.Body<S> body) {
            this.number = number;
            this.count = count;
            this.helpers = helpers;
            this.states = states;
            this.body = body;
        }

        void drain(int worker) {
            if (worker > 0 && next.get() >= count) return; // nothing left: no scratch state for nothing
            try {
                S s = states.create(worker);
                for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) body.run(i, s);
            } catch (Throwable t) {
                if (failure == null) failure = t;
                next.set(count);
            }
        }
    }

    private Team(int size) {
        workers = new Thread[size];
        parked = new AtomicIntegerArray(size);
        for (int w = 0; w < size; w++) {
            final int id = w;
            Thread t = new Thread(() -> loop(id), "attn4j-team-" + w);
            t.setDaemon(true);
            workers[w] = t;
        }
        for (Thread t : workers) t.start();
    }

    int size() { return workers.length; }

    /** Runs the job with {@code threads − 1} team workers and the caller; false (nothing run) when the team is busy or too small. */
    <S> boolean run(int threads, int count, Parallel.StateFactory<S> states, Parallel.Body<S> body) {
        int helpers = threads - 1;
        // A nested call from the job's own caller must not replace the running job (its helpers may not
        // have picked it up yet), so the lock is never re-entered.
        if (helpers > workers.length || lock.isHeldByCurrentThread() || !lock.tryLock()) return false;
        try {
            Job<S> job = new Job<>(++jobs, count, helpers, states, body);
            current = job;
            for (int w = 0; w < helpers; w++) if (parked.get(w) == 1) LockSupport.unpark(workers[w]);
            job.drain(0);
            // Every item has been handed out. Helpers that have not joined yet (parked, or waiting for
            // a core) are not waited for: they would only find nothing left to do. That is what keeps
            // two threads from being slower than one on a busy or cold machine.
            int joined = job.close();
            current = null;
            if (job.done.get() < joined) {
                long start = System.nanoTime();
                while (job.done.get() < joined) {
                    if (System.nanoTime() - start < WAIT_SPIN_NANOS) Thread.onSpinWait();
                    else Thread.yield();
                }
            }
            Throwable f = job.failure;
            if (f instanceof RuntimeException re) throw re;
            if (f instanceof Error e) throw e;
            if (f != null) throw new IllegalStateException("attention worker failed", f);
            return true;
        } finally {
            lock.unlock();
        }
    }

    private void loop(int w) {
        long seen = 0;
        while (true) {
            long start = System.nanoTime();
            Job<?> job;
            while ((job = current) == null || job.number == seen) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    parked.set(w, 1);
                    Job<?> again = current;
                    boolean idle = again == null || again.number == seen;
                    // A parked worker must hold no reference to a finished job: its data may be large.
                    again = null;
                    job = null;
                    if (idle) LockSupport.park(this);
                    parked.set(w, 0);
                    start = System.nanoTime();
                }
            }
            seen = job.number;
            if (w < job.helpers && job.join()) {
                job.drain(w + 1);
                job.done.incrementAndGet();
            }
        }
    }
}
