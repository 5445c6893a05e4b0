package org.attn4j.bench.peak;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures this machine's fp32 FMA peak the way the kernels would see it: a register-only Vector API
 * loop with 12 independent accumulators (enough to hide FMA latency on two FMA ports), run on T
 * threads at once. The result is the denominator of every "% of peak" attn4j reports.
 */
public final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private FmaPeak() {}

    /** Best of {@code trials} runs of about {@code millis} ms each, in GFLOP/s summed over threads. */
    public static double measure(int threads, int trials, long millis) {
        double best = 0;
        for (int t = 0; t < trials; t++) best = Math.max(best, once(threads, millis));
        return best;
    }

    private static double once(int threads, long millis) {
        return run(threads, millis, FmaPeak::loop);
    }

    /** One thread's work: {@code n} iterations of 12 vector FMAs; returns a value to keep alive. */
    @FunctionalInterface
    interface Work {
        float iterations(int n);
    }

    /**
     * {@code threads} threads doing {@code work} for about {@code millis} ms each; GFLOP/s summed.
     * A worker that fails, or an interrupt while waiting for the workers, throws
     * IllegalStateException (with the worker's exception as the cause): a lost worker would
     * otherwise count as 0 and the peak would come out silently low.
     */
    static double run(int threads, long millis, Work work) {
        CyclicBarrier barrier = new CyclicBarrier(threads);
        double[] flops = new double[threads];
        List<Thread> ts = new ArrayList<>();
        long[] window = new long[2];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int w = 0; w < threads; w++) {
            final int id = w;
            Thread th = new Thread(() -> {
                try {
                    barrier.await();
                    long start = System.nanoTime();
                    long iters = 0;
                    float sink = 0;
                    while (System.nanoTime() - start < millis * 1_000_000L) {
                        sink += work.iterations(1 << 16);
                        iters += 1 << 16;
                    }
                    long ns = System.nanoTime() - start;
                    flops[id] = iters * 12.0 * S.length() * 2 / ns; // GFLOP/s
                    if (sink == 42f) window[0]++; // keep the result alive
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    barrier.reset(); // the threads still waiting fail too instead of waiting forever
                }
            }, "fma-peak-" + w);
            ts.add(th);
            th.start();
        }
        for (Thread th : ts) {
            try {
                th.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("FMA peak: interrupted while waiting for the worker threads", e);
            }
        }
        if (failure.get() != null) {
            throw new IllegalStateException("FMA peak: a worker thread failed (" + failure.get() + "); the peak would be too low", failure.get());
        }
        double sum = 0;
        for (double f : flops) sum += f;
        return sum;
    }

    private static float loop(int n) {
        FloatVector a = FloatVector.broadcast(S, 0.999f), b = FloatVector.broadcast(S, 1e-6f);
        FloatVector c0 = FloatVector.broadcast(S, 0.1f), c1 = c0.add(0.1f), c2 = c0.add(0.2f), c3 = c0.add(0.3f);
        FloatVector c4 = c0.add(0.4f), c5 = c0.add(0.5f), c6 = c0.add(0.6f), c7 = c0.add(0.7f);
        FloatVector c8 = c0.add(0.8f), c9 = c0.add(0.9f), c10 = c0.add(1.0f), c11 = c0.add(1.1f);
        for (int i = 0; i < n; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11).reduceLanes(
                jdk.incubator.vector.VectorOperators.ADD);
    }
}
