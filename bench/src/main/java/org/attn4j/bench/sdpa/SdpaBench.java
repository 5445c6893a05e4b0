package org.attn4j.bench.sdpa;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import org.attn4j.bench.peak.FmaPeak;
import org.attn4j.bench.peer.SdpaPeer;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionProblem;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.Dispatcher;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.kernel.FlashKernel;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;

/**
 * The engine behind {@code attn4j bench sdpa}: times attn4j (and any {@link SdpaPeer} found on the
 * class path) on each shape and thread count, reports the median, GFLOP/s counted over visible
 * (query, key) pairs, the fraction of the FMA peak measured in the same run, the extra memory,
 * and the error against the float64 reference on one head.
 */
public final class SdpaBench {

    /** One result row. {@code impl} is "attn4j" or a peer's name; attn4jSpeedup = this row's time ÷ attn4j's (peers only). */
    public record Row(SdpaShape shape, String impl, String kernel, int threads, double medianMs, double gflops,
                      double peakFraction, long extraBytes, double maxAbsError, Double attn4jSpeedup, String note) {}

    /** Settings. */
    public record Options(List<SdpaShape> shapes, int[] threads, KernelChoice kernel, boolean peers, int minReps,
                          double minSeconds, boolean check) {}

    /** The default shapes: the README's targets and a spread of common ones. */
    public static List<SdpaShape> defaultShapes() {
        return List.of(
                new SdpaShape(1, 8, 8, 2048, 2048, 64, 64, false),
                new SdpaShape(1, 8, 8, 2048, 2048, 64, 64, true),
                new SdpaShape(4, 12, 12, 128, 128, 32, 32, false),
                new SdpaShape(1, 32, 8, 1024, 1024, 128, 128, true),
                new SdpaShape(1, 32, 32, 1, 65536, 128, 128, false));
    }

    /** A short set for a demonstration (seconds, not minutes): each shape checked against the reference. */
    public static List<SdpaShape> quickShapes() {
        return List.of(
                new SdpaShape(1, 8, 8, 2048, 2048, 64, 64, false),
                new SdpaShape(1, 8, 8, 2048, 2048, 64, 64, true),
                new SdpaShape(4, 12, 12, 128, 128, 32, 32, false),
                new SdpaShape(1, 32, 8, 1, 16384, 128, 128, false));
    }

    private final Consumer<String> progress;

    public SdpaBench(Consumer<String> progress) {
        this.progress = progress;
    }

    /** FMA peak (GFLOP/s) for each requested thread count, measured now. */
    public double[] peaks(int[] threads) {
        double[] p = new double[threads.length];
        for (int i = 0; i < threads.length; i++) {
            progress.accept("measuring FMA peak on " + threads[i] + " thread(s)");
            p[i] = FmaPeak.measure(threads[i], 5, 200);
        }
        return p;
    }

    private double[] lastPeaks = new double[0];

    /** The FMA peaks measured by the last {@link #run}. */
    public double[] lastPeaks() {
        return lastPeaks.clone();
    }

    public List<Row> run(Options o) {
        double[] peak = peaks(o.threads());
        lastPeaks = peak.clone();
        List<SdpaPeer> peers = new ArrayList<>();
        if (o.peers()) ServiceLoader.load(SdpaPeer.class).forEach(peers::add);
        List<Row> rows = new ArrayList<>();
        for (SdpaShape s : o.shapes()) {
            Random rnd = new Random(1);
            float[] q = gaussian(rnd, s.b() * s.hq() * s.nq() * s.d());
            float[] k = gaussian(rnd, s.b() * s.hkv() * s.nk() * s.d());
            float[] v = gaussian(rnd, s.b() * s.hkv() * s.nk() * s.dv());
            Tensor qt = Tensor.of(q, s.b(), s.hq(), s.nq(), s.d());
            Tensor kt = Tensor.of(k, s.b(), s.hkv(), s.nk(), s.d());
            Tensor vt = Tensor.of(v, s.b(), s.hkv(), s.nk(), s.dv());
            double err = o.check() ? errorOnOneHead(s, qt, kt, vt, o.kernel()) : Double.NaN;
            for (int ti = 0; ti < o.threads().length; ti++) {
                int threads = o.threads()[ti];
                AttentionSpec spec = spec(s, o.kernel(), threads);
                progress.accept(s + (s.causal() ? " causal" : "") + " on " + threads + " thread(s)");
                Dispatcher.Decision d = Attention.explain(qt, kt, vt, spec);
                AttentionProblem p = AttentionProblem.of(qt, kt, vt, spec);
                List<Runnable> contenders = new ArrayList<>();
                contenders.add(() -> Attention.sdpa(qt, kt, vt, spec));
                List<SdpaPeer.Prepared> prepared = new ArrayList<>();
                List<String> failures = new ArrayList<>();
                for (SdpaPeer peer : peers) {
                    try {
                        SdpaPeer.Prepared prep = peer.prepare(q, k, v, s.b(), s.hq(), s.hkv(), s.nq(), s.nk(), s.d(), s.dv(), s.causal(), threads);
                        prepared.add(prep);
                        contenders.add(prep::run);
                        failures.add(null);
                    } catch (RuntimeException | LinkageError e) {
                        prepared.add(null);
                        failures.add(e.toString());
                    }
                }
                // Interleaved rounds: every contender runs once per round, so a noisy neighbour
                // slows all of them alike instead of whichever happened to be running.
                double[] ms = medians(contenders, o);
                double gflops = s.flops() / ms[0] / 1e6;
                long extra = d.kernel() == KernelChoice.REFERENCE ? 8L * threads * (s.nk() + s.dv()) : FlashKernel.extraBytes(p, threads, d.splits());
                String kernelName = d.kernel().name().toLowerCase(Locale.ROOT) + (d.splits() > 1 ? "/" + d.splits() : "");
                rows.add(new Row(s, "attn4j", kernelName, threads, ms[0], gflops, gflops / peak[ti], extra, err, null, ""));
                float[] mine = prepared.stream().anyMatch(x -> x != null) ? Attention.sdpa(qt, kt, vt, spec).output().data() : null;
                int c = 1;
                for (int pi = 0; pi < peers.size(); pi++) {
                    SdpaPeer peer = peers.get(pi);
                    SdpaPeer.Prepared prep = prepared.get(pi);
                    if (prep == null) {
                        rows.add(new Row(s, peer.name(), "sdpa", threads, Double.NaN, Double.NaN, Double.NaN, -1, Double.NaN, null,
                                "failed: " + failures.get(pi)));
                        continue;
                    }
                    try (prep) {
                        double pms = ms[c++];
                        double pg = s.flops() / pms / 1e6;
                        double diff = maxAbsDiff(mine, prep.output());
                        rows.add(new Row(s, peer.name() + " " + peer.version(), "sdpa", threads, pms, pg, pg / peak[ti], -1, diff,
                                pms / ms[0], "max|attn4j - " + peer.name() + "| = " + String.format(Locale.ROOT, "%.1e", diff)));
                    }
                }
            }
        }
        // The shared host's speed drifts: measure the peak again after the rows and keep the higher
        // value, so "% of peak" errs on the modest side.
        double[] again = peaks(o.threads());
        for (int i = 0; i < peak.length; i++) lastPeaks[i] = Math.max(peak[i], again[i]);
        List<Row> adjusted = new ArrayList<>();
        for (Row r : rows) {
            int ti = indexOf(o.threads(), r.threads());
            adjusted.add(new Row(r.shape(), r.impl(), r.kernel(), r.threads(), r.medianMs(), r.gflops(), r.gflops() / lastPeaks[ti],
                    r.extraBytes(), r.maxAbsError(), r.attn4jSpeedup(), r.note()));
        }
        return adjusted;
    }

    static int indexOf(int[] a, int x) {
        for (int i = 0; i < a.length; i++) if (a[i] == x) return i;
        throw new IllegalStateException("thread count " + x + " not measured");
    }

    static AttentionSpec spec(SdpaShape s, KernelChoice kernel, int threads) {
        AttentionSpec.Builder b = AttentionSpec.builder().kernel(kernel).threads(threads).validate(false);
        if (s.causal()) b.causal(CausalAlignment.BOTTOM_RIGHT);
        return b.build();
    }

    /** Max |fast − reference| on batch 0, query head 0 (a cheap oracle check); NaN when too large to check. */
    static double errorOnOneHead(SdpaShape s, Tensor q, Tensor k, Tensor v, KernelChoice kernel) {
        if ((double) s.nq() * s.nk() > 3e7) return Double.NaN;
        Tensor q1 = firstHead(q), k1 = firstHead(k), v1 = firstHead(v);
        AttentionSpec spec = spec(s, kernel, 0);
        AttentionResult fast = Attention.sdpa(q1, k1, v1, spec);
        AttentionResult ref = Attention.sdpa(q1, k1, v1, spec.toBuilder().kernel(KernelChoice.REFERENCE).build());
        return maxAbsDiff(fast.output().data(), ref.output().data());
    }

    /** Batch entry 0, head 0 of a [B, H, N, D] tensor, as a [1, 1, N, D] view (no copy). */
    static Tensor firstHead(Tensor t) {
        return Tensor.view(t.data(), t.offset(), new int[] {1, 1, t.dim(2), t.dim(3)}, t.strides());
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) return Double.POSITIVE_INFINITY;
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }

    /**
     * Median milliseconds of each runnable. The contenders take turns in blocks over three rounds, so
     * slow phases of a shared machine hit all of them alike. Each block starts with a settling run
     * of at least {@link #SETTLE_SECONDS} whose times are dropped: it absorbs the previous
     * contender's idle worker threads, which may still spin on the cores (OpenMP's wait policy
     * spins for up to 200 ms after a parallel region).
     */
    static double[] medians(List<Runnable> runs, Options o) {
        return medians(runs, o.minSeconds(), o.minReps());
    }

    /** {@link #medians(List, Options)} with explicit time and repetition floors (shared with other benches). */
    public static double[] medians(List<Runnable> runs, double minSeconds, int minReps) {
        List<Contender> contenders = new ArrayList<>();
        for (Runnable r : runs) contenders.add(new Contender(null, r));
        List<double[]> times = samples(contenders, minSeconds, minReps);
        double[] med = new double[runs.size()];
        for (int i = 0; i < runs.size(); i++) med[i] = median(times.get(i));
        return med;
    }

    /** One timed call and, when {@code setup} is not null, an untimed call made before each timed one. */
    public record Contender(Runnable setup, Runnable timed) {
        void once() {
            if (setup != null) setup.run();
            timed.run();
        }
    }

    /**
     * The milliseconds of each timed call of each contender, sorted ascending, taken as {@link #medians(List, Options)}
     * describes: blocks in three interleaved rounds, each after a settling run whose times are dropped. A
     * contender's setup runs before each of its timed calls, outside the timed region.
     */
    public static List<double[]> samples(List<Contender> runs, double minSeconds, int minReps) {
        int rounds = 3;
        List<List<Double>> times = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) times.add(new ArrayList<>());
        for (Contender c : runs) warmUntilStable(c, 2 * SETTLE_SECONDS);
        for (int round = 0; round < rounds; round++) {
            for (int i = 0; i < runs.size(); i++) {
                Contender r = runs.get(i);
                long settleEnd = System.nanoTime() + (long) ((round == 0 ? 2 : 1) * SETTLE_SECONDS * 1e9);
                do {
                    r.once();
                } while (System.nanoTime() < settleEnd);
                List<Double> t = times.get(i);
                int wantReps = (minReps * (round + 1) + rounds - 1) / rounds;
                long end = System.nanoTime() + (long) (minSeconds / rounds * 1e9);
                while (t.size() < wantReps || (System.nanoTime() < end && t.size() < 1000 * (round + 1))) {
                    if (r.setup() != null) r.setup().run();
                    long t0 = System.nanoTime();
                    r.timed().run();
                    t.add((System.nanoTime() - t0) / 1e6);
                }
            }
        }
        List<double[]> sorted = new ArrayList<>();
        for (List<Double> t : times) sorted.add(t.stream().mapToDouble(Double::doubleValue).sorted().toArray());
        return sorted;
    }

    static final int WARM_WINDOW = 5;
    static final double WARM_SPREAD = 0.10;
    static final double WARM_CAP_SECONDS = 20;

    static final double SETTLE_SECONDS = 0.25;

    /** The warm-up rule of every {@code attn4j bench} table, as printed under it. */
    public static final String WARMUP_RULE = "warm-up: each contender runs untimed until its last " + WARM_WINDOW
            + " calls are within " + Math.round(100 * WARM_SPREAD) + " % of each other and no faster than the calls before them"
            + " (at least " + 2 * SETTLE_SECONDS + " s, at most " + WARM_CAP_SECONDS + " s), then contenders take turns in 3 rounds";

    /**
     * Runs {@code c} untimed until its speed is stable: at least {@code minSeconds} and
     * {@link #WARM_WINDOW} + 1 calls, then until the last {@link #WARM_WINDOW} calls lie within
     * {@link #WARM_SPREAD} of their fastest and that fastest is no more than 5 % faster than every
     * call before the window (still-compiling code keeps getting faster; an interpreted Vector API
     * kernel is orders of magnitude slower than a compiled one). Gives up after
     * {@link #WARM_CAP_SECONDS}. Returns the calls made.
     */
    public static int warmUntilStable(Contender c, double minSeconds) {
        long start = System.nanoTime(), min = (long) (minSeconds * 1e9), cap = (long) (WARM_CAP_SECONDS * 1e9);
        List<Long> t = new ArrayList<>();
        while (true) {
            if (c.setup() != null) c.setup().run();
            long t0 = System.nanoTime();
            c.timed().run();
            long now = System.nanoTime();
            t.add(now - t0);
            if (now - start >= cap) return t.size();
            if (now - start < min || t.size() <= WARM_WINDOW) continue;
            if (stable(t)) return t.size();
        }
    }

    /** The rule of {@link #warmUntilStable} on call times so far. */
    static boolean stable(List<Long> t) {
        int n = t.size();
        if (n <= WARM_WINDOW) return false;
        long lo = Long.MAX_VALUE, hi = 0, before = Long.MAX_VALUE;
        for (int i = n - WARM_WINDOW; i < n; i++) {
            lo = Math.min(lo, t.get(i));
            hi = Math.max(hi, t.get(i));
        }
        for (int i = 0; i < n - WARM_WINDOW; i++) before = Math.min(before, t.get(i));
        return hi <= (1 + WARM_SPREAD) * lo && lo >= 0.95 * before;
    }

    /** The median of sorted values. */
    public static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }


    static float[] gaussian(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    /** The human-readable table. */
    public static String table(List<Row> rows, int[] threads, double[] peaks) {
        StringBuilder sb = new StringBuilder();
        sb.append("FMA peak (Vector API, measured now):");
        for (int i = 0; i < threads.length; i++) sb.append(String.format(Locale.ROOT, "  %d thread(s) %.1f GFLOP/s", threads[i], peaks[i]));
        sb.append('\n');
        sb.append(String.format(Locale.ROOT, "%-22s %-7s %-18s %-10s %3s %10s %9s %7s %10s %9s %s%n", "shape BxH[/Hkv]xNxD", "causal",
                "impl", "kernel", "thr", "median ms", "GFLOP/s", "% peak", "extra mem", "max err", "note"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-22s %-7s %-18s %-10s %3d %10.2f %9.1f %6.1f%% %10s %9s %s%n",
                    r.shape(), r.shape().causal() ? "yes" : "no", r.impl(), r.kernel(), r.threads(), r.medianMs(), r.gflops(),
                    100 * r.peakFraction(), r.extraBytes() < 0 ? "-" : bytes(r.extraBytes()),
                    Double.isNaN(r.maxAbsError()) ? "-" : String.format(Locale.ROOT, "%.1e", r.maxAbsError()),
                    r.attn4jSpeedup() == null ? r.note() : String.format(Locale.ROOT, "attn4j speed = %.2fx this; %s", r.attn4jSpeedup(), r.note())));
        }
        sb.append(WARMUP_RULE).append('\n');
        return sb.toString();
    }

    static String bytes(long b) {
        if (b < 1024) return b + " B";
        if (b < 1024 * 1024) return String.format(Locale.ROOT, "%.0f KiB", b / 1024.0);
        return String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0);
    }
}
