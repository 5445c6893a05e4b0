package org.attn4j.core.parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs {@code count} independent work items on up to {@code threads} threads (the caller is one
 * of them). Items are handed out one at a time from a shared counter, in index order, so callers
 * put the most expensive items first to balance uneven work (causal masks).
 */
public final class Parallel {
    private static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "attn4j-worker");
        t.setDaemon(true);
        return t;
    });

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

    public static <S> void forEach(int threads, int count, StateFactory<S> states, Body<S> body) {
        if (count <= 0) return;
        int workers = Math.max(1, Math.min(threads, count));
        AtomicInteger next = new AtomicInteger();
        if (workers == 1) {
            S s = states.create(0);
            for (int i = 0; i < count; i++) body.run(i, s);
            return;
        }
        if (Team.INSTANCE.run(workers, count, states, body)) return;
        List<Future<?>> futures = new ArrayList<>(workers - 1);
        for (int w = 1; w < workers; w++) {
            final int id = w;
            futures.add(POOL.submit(() -> drain(next, count, states.create(id), body)));
        }
        Throwable failure = null;
        try {
            drain(next, count, states.create(0), body);
        } catch (Throwable t) {
            failure = t;
            next.set(count);
        }
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) failure = e.getCause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (failure == null) failure = e;
            }
        }
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error err) throw err;
        if (failure != null) throw new IllegalStateException("attention worker failed", failure);
    }

    private static <S> void drain(AtomicInteger next, int count, S state, Body<S> body) {
        for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) body.run(i, state);
    }
}
