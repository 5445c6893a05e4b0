package org.attn4j.bench.sdpa;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.ServiceLoader;
import java.util.function.Consumer;
import org.attn4j.bench.peer.SdpaGradPeer;
import org.attn4j.bench.sdpa.SdpaBench.Contender;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionGradients;
import org.attn4j.core.attention.AttentionProblem;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.Dispatcher;
import org.attn4j.core.attention.ForwardBackward;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.kernel.FlashBackward;
import org.attn4j.core.kernel.FlashKernel;
import org.attn4j.core.tensor.Tensor;

/**
 * The engine behind {@code attn4j bench sdpa --backward}: times attn4j's backward pass and every
 * {@link SdpaGradPeer} found on the class path (PyTorch's SDPA autograd with {@code -Ppeers}), two
 * ways in one run, all four contenders interleaved on the same thread count:
 * <ul>
 *   <li><b>forward+backward</b>: {@link Attention#forwardBackward} against the peer's forward with
 *       autograd and its backward for the same dO (a training step of the attention op);</li>
 *   <li><b>backward alone</b>: a fresh forward (the saved O and lse, or a fresh autograd graph)
 *       before every call, untimed, then {@link Attention#backward} or the peer's backward, timed.</li>
 * </ul>
 * Every contender is first warmed for at least {@link Options#warmupSeconds()} and until its speed
 * settles (the JIT, the peer's thread pool; see {@link #warm}), then they take turns as in
 * {@link SdpaBench#samples}. GFLOP/s count the same FLOPs
 * for every contender ({@link SdpaShape#backwardFlops()}, {@link SdpaShape#forwardBackwardFlops()});
 * "% peak" divides by the FMA peak measured in the same run on the same thread count. Correctness is
 * checked in the same run: attn4j's dQ, dK, dV against the float64 reference backward on one head,
 * and against each peer's on the whole shape.
 */
public final class SdpaBackwardBench {

    /** Largest accepted max|attn4j − other| / max|other| for each of dQ, dK, dV (fp32 against fp32 or float64). */
    public static final double TOLERANCE = 1e-4;
    /** Largest accepted residual of the gradient identities ({@link #identities}), relative to the root sum of squares of their terms. */
    public static final double IDENTITY_TOLERANCE = 1e-4;
    /** The targets for the backward alone: at least PyTorch's speed, and this share of the FMA peak. */
    public static final double TARGET_SPEEDUP = 1.0;
    public static final double TARGET_PEAK = 0.45;
    /** Above this many (query, key) pairs per head the float64 reference check is skipped (it would take minutes). */
    static final double REFERENCE_PAIRS = 3e7;
    /** The name of the identity check in the report (its residuals sit in the dq, dk, dv columns). */
    static final String IDENTITIES = "identities (dq: Σq·dq = Σk·dk, dk: ΣdK = 0, dv: ΣdV = ΣdO; all heads)";

    /** What a row times. */
    public enum Pass {
        FORWARD_BACKWARD("fwd+bwd", "forward+backward"),
        BACKWARD("bwd", "backward");

        public final String label;
        public final String json;

        Pass(String label, String json) {
            this.label = label;
            this.json = json;
        }

        /** The FLOPs this pass counts for shape {@code s}. */
        public double flops(SdpaShape s) {
            return this == BACKWARD ? s.backwardFlops() : s.forwardBackwardFlops();
        }
    }

    /** Order statistics of one contender's timed calls, in milliseconds. */
    public record Timing(double medianMs, double p25Ms, double p75Ms, double minMs, double maxMs, int samples) {
        /** From ascending samples. */
        public static Timing of(double[] sorted) {
            if (sorted.length == 0) throw new IllegalArgumentException("no samples");
            return new Timing(SdpaBench.median(sorted), quantile(sorted, 0.25), quantile(sorted, 0.75), sorted[0],
                    sorted[sorted.length - 1], sorted.length);
        }

        /** Linear interpolation between the closest ranks. */
        static double quantile(double[] sorted, double f) {
            double pos = f * (sorted.length - 1);
            int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
            return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
        }
    }

    /** max|a − b| per gradient, and that divided by max|b| (b: the reference side). */
    public record GradError(double dqAbs, double dqRel, double dkAbs, double dkRel, double dvAbs, double dvRel) {
        public static GradError of(float[] dq, float[] dk, float[] dv, float[] refDq, float[] refDk, float[] refDv) {
            double[] q = diff(dq, refDq), k = diff(dk, refDk), v = diff(dv, refDv);
            return new GradError(q[0], q[1], k[0], k[1], v[0], v[1]);
        }

        /** {max|a − b|, max|a − b| / max|b|}; infinite when the lengths differ, NaN anywhere counts as infinite. */
        static double[] diff(float[] a, float[] b) {
            if (a.length != b.length) return new double[] {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
            double m = 0, scale = 0;
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs((double) a[i] - b[i]);
                if (!(d <= m)) m = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                scale = Math.max(scale, Math.abs(b[i]));
            }
            return new double[] {m, m == 0 ? 0 : m / scale};
        }

        public double worstRel() {
            return Math.max(dqRel, Math.max(dkRel, dvRel));
        }

        public boolean ok() {
            return ok(TOLERANCE);
        }

        public boolean ok(double tolerance) {
            return worstRel() <= tolerance;
        }

        public String format() {
            return String.format(Locale.ROOT, "dq %.1e (rel %.1e), dk %.1e (rel %.1e), dv %.1e (rel %.1e)", dqAbs, dqRel, dkAbs, dkRel,
                    dvAbs, dvRel);
        }
    }

    /**
     * One result row. {@code attn4jSpeedup} (peer rows only) = the peer's median ÷ attn4j's for the
     * same pass: above 1 attn4j is faster. {@code kernel} for a peer is what its backward ran.
     */
    public record Row(SdpaShape shape, Pass pass, String impl, String kernel, int threads, Timing time, double flops,
                      double gflops, double peakFraction, long extraBytes, Double attn4jSpeedup, String note) {}

    /** A correctness check of attn4j's gradients; threads = 0 where the thread count plays no part. */
    public record Check(SdpaShape shape, int threads, String against, GradError error) {
        /** {@link #IDENTITY_TOLERANCE} for the identities, {@link #TOLERANCE} for comparisons. */
        public double tolerance() {
            return against.equals(IDENTITIES) ? IDENTITY_TOLERANCE : TOLERANCE;
        }

        public boolean ok() {
            return error.ok(tolerance());
        }
    }

    /** Settings. */
    public record Options(List<SdpaShape> shapes, int[] threads, KernelChoice kernel, boolean peers, int minReps,
                          double minSeconds, double warmupSeconds, boolean check) {}

    /** Everything a run measured; {@code loadBefore} and {@code loadAfter} are the host's load averages around it. */
    public record Result(List<Row> rows, List<Check> checks, int[] threads, double[] peaks, String loadBefore, String loadAfter,
                         boolean heapPretouched) {}

    /** The JVM options the report recommends for steady-state figures (heap fixed and touched at start-up). */
    public static final String STEADY_JVM = "-Xms2g -Xmx2g -XX:+AlwaysPreTouch";

    /**
     * Whether the heap was fixed and touched at start-up (-XX:+AlwaysPreTouch with -Xms = -Xmx).
     * Otherwise, while the JVM grows its heap, each call's fresh arrays land on pages never touched
     * before, and the page faults (costly in a VM) slow attn4j's calls for seconds at a time, a
     * start-up effect a long-running process does not see. Heap memory only: the peers allocate
     * natively and are unaffected.
     */
    public static boolean heapPretouched() {
        try {
            var hotspot = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            boolean touch = Boolean.parseBoolean(hotspot.getVMOption("AlwaysPreTouch").getValue());
            var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
            return touch && heap.getMax() > 0 && heap.getCommitted() >= 0.9 * heap.getMax();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** A row whose interquartile range exceeds this share of its median counts as noisy in the report. */
    static final double NOISY_SPREAD = 0.2;

    /** The shapes: B=1 H=8 N=2048 D=64, non-causal and causal. */
    public static List<SdpaShape> defaultShapes() {
        return List.of(new SdpaShape(1, 8, 8, 2048, 2048, 64, 64, false), new SdpaShape(1, 8, 8, 2048, 2048, 64, 64, true));
    }

    /** A demonstration in seconds: N = 512. */
    public static List<SdpaShape> quickShapes() {
        return List.of(new SdpaShape(1, 8, 8, 512, 512, 64, 64, false), new SdpaShape(1, 8, 8, 512, 512, 64, 64, true));
    }

    /** 1 and 2 threads (1 only on a one-core machine). */
    public static int[] defaultThreads() {
        return Runtime.getRuntime().availableProcessors() > 1 ? new int[] {1, 2} : new int[] {1};
    }

    private final Consumer<String> progress;
    /** Keeps the results of timed calls reachable, so no call can be optimised away. */
    private volatile Object sink;

    public SdpaBackwardBench(Consumer<String> progress) {
        this.progress = progress;
    }

    public Result run(Options o) {
        String loadBefore = loadAverage();
        SdpaBench peakProbe = new SdpaBench(progress);
        double[] peak = peakProbe.peaks(o.threads());
        List<SdpaGradPeer> peers = new ArrayList<>();
        if (o.peers()) ServiceLoader.load(SdpaGradPeer.class).forEach(peers::add);
        List<Row> rows = new ArrayList<>();
        List<Check> checks = new ArrayList<>();
        for (SdpaShape s : o.shapes()) {
            Random rnd = new Random(1);
            float[] q = SdpaBench.gaussian(rnd, s.b() * s.hq() * s.nq() * s.d());
            float[] k = SdpaBench.gaussian(rnd, s.b() * s.hkv() * s.nk() * s.d());
            float[] v = SdpaBench.gaussian(rnd, s.b() * s.hkv() * s.nk() * s.dv());
            float[] g = SdpaBench.gaussian(rnd, s.b() * s.hq() * s.nq() * s.dv());
            Tensor qt = Tensor.of(q, s.b(), s.hq(), s.nq(), s.d());
            Tensor kt = Tensor.of(k, s.b(), s.hkv(), s.nk(), s.d());
            Tensor vt = Tensor.of(v, s.b(), s.hkv(), s.nk(), s.dv());
            Tensor gt = Tensor.of(g, s.b(), s.hq(), s.nq(), s.dv());
            if (o.check()) {
                if ((double) s.nq() * s.nk() <= REFERENCE_PAIRS) {
                    progress.accept(label(s) + ": checking the backward against the float64 reference on head 0");
                    checks.add(new Check(s, 0, "float64 reference (batch 0, head 0)", errorOnOneHead(s, qt, kt, vt, gt, o.kernel())));
                }
                progress.accept(label(s) + ": checking the gradient identities on every head");
                AttentionSpec all = SdpaBench.spec(s, o.kernel(), 0);
                checks.add(new Check(s, 0, IDENTITIES, identities(s, q, k, g, Attention.forwardBackward(qt, kt, vt, gt, all).gradients())));
            }
            for (int ti = 0; ti < o.threads().length; ti++) {
                int threads = o.threads()[ti];
                AttentionSpec spec = SdpaBench.spec(s, o.kernel(), threads).toBuilder().returnLse(true).build();
                progress.accept(label(s) + " on " + threads + " thread(s)");
                Dispatcher.Decision bd = Attention.explainBackward(qt, kt, vt, spec);
                Dispatcher.Decision fd = Attention.explain(qt, kt, vt, spec);
                AttentionProblem p = AttentionProblem.of(qt, kt, vt, spec);
                long bwdExtra = bd.kernel() == KernelChoice.FLASH ? FlashBackward.extraBytes(p, threads, false) : -1;
                long fwdExtra = fd.kernel() == KernelChoice.REFERENCE ? -1 : FlashKernel.extraBytes(p, threads, fd.splits());
                long fbExtra = bwdExtra < 0 || fwdExtra < 0 ? -1 : Math.max(bwdExtra, fwdExtra);
                String kernelName = bd.kernel().name().toLowerCase(Locale.ROOT);

                List<Contender> fb = new ArrayList<>(), bw = new ArrayList<>();
                fb.add(new Contender(null, () -> sink = Attention.forwardBackward(qt, kt, vt, gt, spec)));
                AttentionResult[] saved = new AttentionResult[1];
                bw.add(new Contender(() -> saved[0] = Attention.sdpa(qt, kt, vt, spec),
                        () -> sink = Attention.backward(qt, kt, vt, saved[0].output(), saved[0].lse(), gt, spec)));
                List<SdpaGradPeer.Prepared> prepared = new ArrayList<>();
                List<String> peerNotes = new ArrayList<>();
                for (SdpaGradPeer peer : peers) {
                    if (s.causal() && s.nq() != s.nk()) {
                        prepared.add(null);
                        peerNotes.add("skipped: " + peer.name() + "'s causal mask is top-left aligned, this bench's bottom-right; they agree only when Nq = Nk");
                        continue;
                    }
                    try {
                        SdpaGradPeer.Prepared prep = peer.prepare(q, k, v, g, s.b(), s.hq(), s.hkv(), s.nq(), s.nk(), s.d(), s.dv(),
                                s.causal(), threads);
                        prepared.add(prep);
                        peerNotes.add(null);
                        fb.add(new Contender(null, prep::forwardBackward));
                        bw.add(new Contender(prep::forward, prep::backward));
                    } catch (RuntimeException | LinkageError e) {
                        prepared.add(null);
                        peerNotes.add("failed: " + e);
                    }
                }
                try {
                    List<Contender> all = new ArrayList<>(fb);
                    all.addAll(bw);
                    for (Contender c : all) warm(c, o.warmupSeconds());
                    List<double[]> times = SdpaBench.samples(all, o.minSeconds(), o.minReps());
                    int live = fb.size();
                    for (Pass pass : Pass.values()) {
                        int base = pass == Pass.FORWARD_BACKWARD ? 0 : live;
                        Timing mine = Timing.of(times.get(base));
                        double flops = pass.flops(s);
                        rows.add(row(s, pass, "attn4j", kernelName, threads, mine, flops, peak[ti],
                                pass == Pass.BACKWARD ? bwdExtra : fbExtra, null, ""));
                        int c = 1;
                        for (int pi = 0; pi < peers.size(); pi++) {
                            SdpaGradPeer peer = peers.get(pi);
                            SdpaGradPeer.Prepared prep = prepared.get(pi);
                            String impl = peer.name() + " " + peer.version();
                            if (prep == null) {
                                rows.add(new Row(s, pass, impl, "-", threads, null, flops, Double.NaN, Double.NaN, -1, null, peerNotes.get(pi)));
                                continue;
                            }
                            Timing t = Timing.of(times.get(base + c++));
                            rows.add(row(s, pass, impl, prep.backwardKernel(), threads, t, flops, peak[ti], -1,
                                    t.medianMs() / mine.medianMs(), ""));
                        }
                    }
                    if (o.check() && prepared.stream().anyMatch(x -> x != null)) {
                        ForwardBackward ours = Attention.forwardBackward(qt, kt, vt, gt, spec);
                        AttentionGradients a = ours.gradients();
                        for (int pi = 0; pi < peers.size(); pi++) {
                            SdpaGradPeer.Prepared prep = prepared.get(pi);
                            if (prep == null) continue;
                            prep.forwardBackward();
                            SdpaGradPeer peer = peers.get(pi);
                            checks.add(new Check(s, threads, peer.name() + " " + peer.version(),
                                    GradError.of(a.dq().data(), a.dk().data(), a.dv().data(), prep.dq(), prep.dk(), prep.dv())));
                        }
                    }
                } finally {
                    for (SdpaGradPeer.Prepared prep : prepared) if (prep != null) prep.close();
                }
            }
        }
        // As in the forward bench: the peak again after the rows, the higher value kept, so "% of peak" errs low.
        double[] again = peakProbe.peaks(o.threads());
        double[] best = new double[peak.length];
        for (int i = 0; i < peak.length; i++) best[i] = Math.max(peak[i], again[i]);
        List<Row> adjusted = new ArrayList<>();
        for (Row r : rows) {
            int ti = SdpaBench.indexOf(o.threads(), r.threads());
            adjusted.add(new Row(r.shape(), r.pass(), r.impl(), r.kernel(), r.threads(), r.time(), r.flops(), r.gflops(),
                    r.gflops() / best[ti], r.extraBytes(), r.attn4jSpeedup(), r.note()));
        }
        return new Result(adjusted, checks, o.threads().clone(), best, loadBefore, loadAverage(), heapPretouched());
    }

    /** The 1, 5 and 15 minute load averages from /proc/loadavg, else the JVM's 1 minute figure. */
    static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException | RuntimeException e) {
            double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            return l < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f (1 min)", l);
        }
    }

    private static Row row(SdpaShape s, Pass pass, String impl, String kernel, int threads, Timing t, double flops, double peak,
                           long extra, Double speedup, String note) {
        double gflops = flops / t.medianMs() / 1e6;
        return new Row(s, pass, impl, kernel, threads, t, flops, gflops, gflops / peak, extra, speedup, note);
    }

    /**
     * Runs the contender until {@code seconds} have passed and its speed has settled: at least
     * {@link #WARM_MIN_CALLS} calls, and the fastest timed call of the second half of the warm-up
     * no more than 5 % faster than the fastest of the first half (the JIT still compiling, for
     * instance under a busy host whose compiler threads wait for a core, shows as calls that keep
     * getting faster; an interpreted Vector API kernel is ~1000× slower than a compiled one). Gives
     * up after {@link #WARM_CAP} × {@code seconds} (at least 30 s). Returns the calls made.
     */
    static int warm(Contender c, double seconds) {
        long start = System.nanoTime();
        long min = (long) (seconds * 1e9), cap = (long) Math.max(30e9, WARM_CAP * seconds * 1e9);
        List<Long> times = new ArrayList<>();
        while (true) {
            if (c.setup() != null) c.setup().run();
            long t0 = System.nanoTime();
            c.timed().run();
            long now = System.nanoTime();
            times.add(now - t0);
            long elapsed = now - start;
            if (elapsed >= cap) return times.size();
            if (elapsed < min || times.size() < WARM_MIN_CALLS) continue;
            int half = times.size() / 2;
            long first = Long.MAX_VALUE, second = Long.MAX_VALUE;
            for (int i = 0; i < times.size(); i++) {
                if (i < half) first = Math.min(first, times.get(i));
                else second = Math.min(second, times.get(i));
            }
            if (second >= 0.95 * first) return times.size();
        }
    }

    static final int WARM_MIN_CALLS = 6;
    static final double WARM_CAP = 10;

    /**
     * Three exact identities of attention's gradients, cheap (O(N·D)) at any size, so that shapes too
     * large for the float64 reference are still checked. Per batch entry and kv head (summing the
     * query heads that share it):
     * <ul>
     *   <li>Σⱼ dKⱼ = 0: adding one vector to every key shifts each row's visible scores by a
     *       constant, which softmax ignores (reported in the dk column);</li>
     *   <li>Σⱼ dVⱼ = Σᵢ dOᵢ over the rows that see at least one key: adding one vector to every
     *       value adds it to every such output (dv column);</li>
     *   <li>Σᵢ qᵢ·dqᵢ = Σⱼ kⱼ·dkⱼ: scaling q or k by the same factor scales the scores alike (dq column).</li>
     * </ul>
     * Each residual is divided by the root of the sum of its terms' squares (the size of a sum of
     * terms of random sign, which these are), and must stay within {@link #IDENTITY_TOLERANCE}. They
     * catch systematic errors (a wrong scale, sign, shift or row term, a missing share of the work),
     * not every single-tile error.
     */
    static GradError identities(SdpaShape s, float[] q, float[] k, float[] dOut, AttentionGradients g) {
        float[] dq = g.dq().data(), dk = g.dk().data(), dv = g.dv().data();
        int group = s.hq() / s.hkv();
        double qAbs = 0, qRel = 0, kAbs = 0, kRel = 0, vAbs = 0, vRel = 0;
        for (int b = 0; b < s.b(); b++) {
            for (int hk = 0; hk < s.hkv(); hk++) {
                int kvBase = (b * s.hkv() + hk) * s.nk();
                double qdq = 0, qdqAbs = 0, kdk = 0, kdkAbs = 0; // *Abs: sums of squares
                for (int c = 0; c < s.d(); c++) {
                    double sum = 0, abs = 0; // abs: sum of squares
                    for (int j = 0; j < s.nk(); j++) {
                        double x = dk[(kvBase + j) * s.d() + c];
                        sum += x;
                        abs += x * x;
                        double y = (double) k[(kvBase + j) * s.d() + c] * x;
                        kdk += y;
                        kdkAbs += y * y;
                    }
                    kAbs = Math.max(kAbs, Math.abs(sum));
                    kRel = Math.max(kRel, relative(sum, Math.sqrt(abs)));
                }
                for (int c = 0; c < s.dv(); c++) {
                    double sum = 0, abs = 0; // abs: sum of squares
                    for (int j = 0; j < s.nk(); j++) {
                        double x = dv[(kvBase + j) * s.dv() + c];
                        sum += x;
                        abs += x * x;
                    }
                    for (int h = hk * group; h < (hk + 1) * group; h++) {
                        int qBase = (b * s.hq() + h) * s.nq();
                        for (int i = 0; i < s.nq(); i++) {
                            if (visibleKeys(s, i) <= 0) continue;
                            double x = dOut[(qBase + i) * s.dv() + c];
                            sum -= x;
                            abs += x * x;
                        }
                    }
                    vAbs = Math.max(vAbs, Math.abs(sum));
                    vRel = Math.max(vRel, relative(sum, Math.sqrt(abs)));
                }
                for (int h = hk * group; h < (hk + 1) * group; h++) {
                    int base = (b * s.hq() + h) * s.nq() * s.d();
                    for (int i = 0; i < s.nq() * s.d(); i++) {
                        double y = (double) q[base + i] * dq[base + i];
                        qdq += y;
                        qdqAbs += y * y;
                    }
                }
                double r = qdq - kdk;
                qAbs = Math.max(qAbs, Math.abs(r));
                qRel = Math.max(qRel, relative(r, Math.sqrt(qdqAbs + kdkAbs)));
            }
        }
        return new GradError(qAbs, qRel, kAbs, kRel, vAbs, vRel);
    }

    private static double relative(double residual, double scale) {
        if (Double.isNaN(residual)) return Double.POSITIVE_INFINITY;
        return residual == 0 ? 0 : Math.abs(residual) / scale;
    }

    /** Keys query row i sees: all of them, or the bottom-right-aligned causal count (as {@link SdpaShape#visiblePairs}). */
    static long visibleKeys(SdpaShape s, long i) {
        return s.causal() ? Math.max(0, Math.min(s.nk(), i + s.nk() - s.nq() + 1)) : s.nk();
    }

    /** attn4j's backward (the requested kernel) against the float64 reference backward, on batch 0, query head 0 and its kv head. */
    static GradError errorOnOneHead(SdpaShape s, Tensor q, Tensor k, Tensor v, Tensor dOut, KernelChoice kernel) {
        Tensor q1 = SdpaBench.firstHead(q), k1 = SdpaBench.firstHead(k), v1 = SdpaBench.firstHead(v), g1 = SdpaBench.firstHead(dOut);
        AttentionSpec spec = SdpaBench.spec(s, kernel, 0);
        AttentionGradients fast = Attention.forwardBackward(q1, k1, v1, g1, spec).gradients();
        AttentionGradients ref = Attention.forwardBackward(q1, k1, v1, g1, spec.toBuilder().kernel(KernelChoice.REFERENCE).build()).gradients();
        return GradError.of(fast.dq().data(), fast.dk().data(), fast.dv().data(), ref.dq().data(), ref.dk().data(), ref.dv().data());
    }

    static String label(SdpaShape s) {
        return s + (s.causal() ? " causal" : " non-causal");
    }

    /** The human-readable report: how it was measured, the table, the kernels, the checks and the targets. */
    public static String report(Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "host: %d core(s); load average (1, 5, 15 min) %s before the run, %s after%n",
                Runtime.getRuntime().availableProcessors(), r.loadBefore(), r.loadAfter()));
        if (r.heapPretouched()) {
            sb.append("JVM heap fixed and pre-touched at start-up (-XX:+AlwaysPreTouch, -Xms = -Xmx): steady-state figures\n");
        } else {
            sb.append("note: the JVM heap was not pre-touched: while it grows, attn4j's calls write to never-touched pages and pay\n"
                    + "  page faults (on a VM up to 2x slower calls for seconds), a start-up effect; for steady-state figures run with\n"
                    + "  JAVA_OPTS='" + STEADY_JVM + "' (the peers allocate natively and are unaffected)\n");
        }
        sb.append("FMA peak (Vector API, measured now, before and after the rows, higher kept):");
        for (int i = 0; i < r.threads().length; i++) {
            sb.append(String.format(Locale.ROOT, "  %d thread(s) %.1f GFLOP/s", r.threads()[i], r.peaks()[i]));
        }
        sb.append('\n');
        sb.append("FLOPs, the same count for every contender: forward = 2·(D+Dv) per visible (query, key) pair = 4·B·H·Nq·Nk·D\n"
                + "  without a mask; causal counts the visible pairs only (Nq(Nq+1)/2 of Nq² for a square: about half);\n"
                + "  backward = " + SdpaShape.BACKWARD_FACTOR + " × forward; forward+backward = " + (1 + SdpaShape.BACKWARD_FACTOR)
                + " × forward.\n");
        sb.append("Passes: fwd+bwd = forward (saving what the backward needs) then backward for a fixed dO;\n"
                + "  bwd = the backward alone (a fresh forward / autograd graph before each call, not timed).\n");
        sb.append("Times: median and interquartile range (p25-p75) of n timed calls; contenders warmed, then interleaved.\n");
        sb.append(SdpaBench.WARMUP_RULE).append('\n');
        sb.append(String.format(Locale.ROOT, "%-20s %-6s %-7s %-16s %-9s %3s %10s %17s %4s %8s %7s %10s %s%n", "shape BxH[/Hkv]xNxD",
                "causal", "pass", "impl", "kernel", "thr", "median ms", "p25-p75 ms", "n", "GFLOP/s", "% peak", "extra mem", "note"));
        for (Row row : r.rows()) {
            String kernel = row.kernel().length() > 9 ? shortKernel(row.kernel()) : row.kernel();
            if (row.time() == null) {
                sb.append(String.format(Locale.ROOT, "%-20s %-6s %-7s %-16s %-9s %3d %10s %17s %4s %8s %7s %10s %s%n", row.shape(),
                        row.shape().causal() ? "yes" : "no", row.pass().label, row.impl(), kernel, row.threads(), "-", "-", "-", "-", "-",
                        "-", row.note()));
                continue;
            }
            Timing t = row.time();
            String note = row.attn4jSpeedup() == null ? row.note()
                    : String.format(Locale.ROOT, "attn4j speed-up %.2fx%s", row.attn4jSpeedup(), row.note().isEmpty() ? "" : "; " + row.note());
            sb.append(String.format(Locale.ROOT, "%-20s %-6s %-7s %-16s %-9s %3d %10.2f %17s %4d %8.1f %6.1f%% %10s %s%n", row.shape(),
                    row.shape().causal() ? "yes" : "no", row.pass().label, row.impl(), kernel, row.threads(), t.medianMs(),
                    String.format(Locale.ROOT, "%.2f-%.2f", t.p25Ms(), t.p75Ms()), t.samples(), row.gflops(), 100 * row.peakFraction(),
                    row.extraBytes() < 0 ? "-" : SdpaBench.bytes(row.extraBytes()), note));
        }
        boolean peerRan = r.rows().stream().anyMatch(x -> x.attn4jSpeedup() != null);
        long noisy = r.rows().stream().filter(x -> x.time() != null
                && (x.time().p75Ms() - x.time().p25Ms() > NOISY_SPREAD * x.time().medianMs() || x.peakFraction() > 1)).count();
        if (noisy > 0) {
            sb.append(String.format(Locale.ROOT, "warning: %d row(s) noisy (interquartile range over %.0f%% of the median, or over 100%% of a peak "
                    + "measured in a slower moment):%n  the host was busy; rerun when `uptime` shows a load below the core count%n", noisy,
                    100 * NOISY_SPREAD));
        }
        if (peerRan) sb.append("attn4j speed-up = the peer's median ÷ attn4j's for the same pass (above 1: attn4j is faster).\n");
        List<String> kernels = new ArrayList<>();
        for (Row row : r.rows()) {
            if (row.attn4jSpeedup() == null || row.pass() != Pass.BACKWARD) continue;
            String line = String.format(Locale.ROOT, "  %s, %s: %s", label(row.shape()), row.impl(), row.kernel());
            if (!kernels.contains(line)) kernels.add(line);
        }
        if (!kernels.isEmpty()) {
            sb.append("peer backward (the autograd node of the attention op, walked from the output):\n");
            kernels.forEach(x -> sb.append(x).append('\n'));
        }
        if (!r.checks().isEmpty()) {
            sb.append(String.format(Locale.ROOT, "correctness of attn4j's dq, dk, dv: max|attn4j - other| (rel = that ÷ max|other|; "
                    + "tolerance rel <= %.0e);%n  identities: the residual (rel = that ÷ the root sum of squares of its terms; tolerance "
                    + "rel <= %.0e):%n", TOLERANCE, IDENTITY_TOLERANCE));
            for (Check c : r.checks()) {
                sb.append(String.format(Locale.ROOT, "  %s%s %s%s: %s: %s%n", label(c.shape()), c.threads() == 0 ? "" : " " + c.threads() + " thr",
                        c.against().equals(IDENTITIES) ? "" : "vs ", c.against(), c.error().format(), c.ok() ? "OK" : "FAILED"));
            }
            for (Check c : r.checks()) {
                if (!c.against().equals(IDENTITIES)) continue;
                boolean referenced = r.checks().stream().anyMatch(x -> x.shape().equals(c.shape()) && x.against().startsWith("float64"));
                if (!referenced) {
                    sb.append(String.format(Locale.ROOT, "  %s: no float64 reference check (Nq·Nk = %.1e per head, above %.0e: minutes in float64)%n",
                            label(c.shape()), (double) c.shape().nq() * c.shape().nk(), REFERENCE_PAIRS));
                }
            }
        }
        List<String> targets = targets(r);
        if (!targets.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "targets for the backward alone: >= %.2fx the peer's speed, >= %.0f%% of the FMA peak:%n",
                    TARGET_SPEEDUP, 100 * TARGET_PEAK));
            targets.forEach(x -> sb.append("  ").append(x).append('\n'));
            if (!peerRan) sb.append("  (no peer ran: the speed target needs the peers, ATTN4J_PEERS=1 or a -Ppeers build)\n");
        }
        return sb.toString().replaceAll("(?m)[ \t]+$", ""); // no trailing blanks where the note column is empty
    }

    /** One line per attn4j backward row: speed-up against each peer and share of the peak, each met or missed by how much. */
    static List<String> targets(Result r) {
        List<String> out = new ArrayList<>();
        for (Row mine : r.rows()) {
            if (mine.pass() != Pass.BACKWARD || mine.attn4jSpeedup() != null || mine.time() == null) continue;
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s %d thr:", label(mine.shape()), mine.threads()));
            for (Row peer : r.rows()) {
                if (peer.pass() != Pass.BACKWARD || peer.attn4jSpeedup() == null || peer.threads() != mine.threads()
                        || !peer.shape().equals(mine.shape())) continue;
                double x = peer.attn4jSpeedup();
                line.append(String.format(Locale.ROOT, " %.2fx %s (%s);", x, peer.impl(),
                        x >= TARGET_SPEEDUP ? "met" : String.format(Locale.ROOT, "missed: %.0f%% slower", 100 * (1 / x - 1))));
            }
            double f = mine.peakFraction();
            line.append(String.format(Locale.ROOT, " %.1f%% of peak (%s)", 100 * f,
                    f >= TARGET_PEAK ? "met" : String.format(Locale.ROOT, "missed by %.1f points", 100 * (TARGET_PEAK - f))));
            out.add(line.toString());
        }
        return out;
    }

    /** A peer's kernel name shortened for the table column (the full name is printed below the table). */
    static String shortKernel(String k) {
        return k.contains("FlashAttentionForCpu") ? "flash-cpu" : k.contains("Math") ? "math" : "see below";
    }

    /** The heap's limit and the sum of the heap pools' peak usage so far (an upper bound of the peak). */
    public static String heapLine() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) peak += pool.getPeakUsage().getUsed();
        }
        return String.format(Locale.ROOT, "JVM heap: max %s (Runtime.maxMemory, set by -Xmx), peak use %s (sum of the heap pools' peaks over the whole run)",
                SdpaBench.bytes(Runtime.getRuntime().maxMemory()), SdpaBench.bytes(peak));
    }
}
