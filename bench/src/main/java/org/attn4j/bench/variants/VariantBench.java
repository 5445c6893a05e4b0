package org.attn4j.bench.variants;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.attn4j.bench.sdpa.SdpaBench;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantFactory;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.attn4j.variants.exact.FullAttention;

/**
 * The engine behind {@code attn4j bench variants}: for each sequence length N and thread count,
 * times every selected variant and exact attention (the engine's flash kernel, causal when the
 * variant is causal) in interleaved rounds on the same random inputs, and reports the speed-up,
 * the FLOPs each executed, and the relative error of the variant's output against exact attention.
 */
public final class VariantBench {

    /**
     * @param names    registry names to run (empty: all but {@code full})
     * @param ns       sequence lengths (tokens; spatial variants read N as a square/cube grid)
     * @param settings per-variant {@code key=value} settings, by registry name
     * @param warmupSeconds how long each contender runs untimed before the first timed group (the
     *                 Vector API's GEMM tiles reach compiled code only after a few seconds of use)
     */
    public record Options(List<String> names, int[] ns, int batch, int heads, int d, int[] threads,
                          Map<String, List<String>> settings, long seed, double minSeconds, int minReps,
                          double warmupSeconds) {}

    /**
     * One measurement.
     *
     * @param speedup   exact attention's time ÷ the variant's (higher is faster)
     * @param flops     FLOPs the variant reports having executed
     * @param denseFlops FLOPs exact attention executed (visible pairs only when causal)
     * @param relError  ‖variant − exact‖₂ / ‖exact‖₂ over the whole output (NaN when not comparable)
     */
    public record Row(String name, String family, boolean exact, boolean causal, int n, int threads, double ms, double denseMs,
                      double speedup, long flops, long denseFlops, double relError, String note) {}

    private final Consumer<String> progress;

    public VariantBench(Consumer<String> progress) {
        this.progress = progress;
    }

    /** Names the options select, in registry order; unknown names are an error listing the known ones. */
    public static List<String> selected(Options o) {
        if (!o.names().isEmpty()) {
            for (String n : o.names()) VariantRegistry.get(n);
            return o.names();
        }
        List<String> all = new ArrayList<>();
        for (VariantFactory f : VariantRegistry.all()) if (!f.info().name().equals("full")) all.add(f.info().name());
        return all;
    }

    public List<Row> run(Options o) {
        List<String> names = selected(o);
        boolean warmedUp = false;
        for (String key : o.settings().keySet()) {
            if (!names.contains(key)) throw new IllegalArgumentException("--set: " + key + " is not among the variants being run (" + String.join(", ", names) + ")");
        }
        // Build every variant once, first: bad settings fail before anything runs, and the variants
        // (immutable, with their seeded parameters cached per shape) serve every N and thread count.
        Map<String, Variant> built = new LinkedHashMap<>();
        for (String name : names) {
            built.put(name, VariantRegistry.get(name).create(Settings.parse(o.settings().getOrDefault(name, List.of())), o.seed()));
        }
        List<Row> rows = new ArrayList<>();
        for (int n : o.ns()) {
            SplittableRandom r = new SplittableRandom(o.seed());
            Tensor q = gaussian(r, o.batch(), o.heads(), n, o.d());
            Tensor k = gaussian(r, o.batch(), o.heads(), n, o.d());
            Tensor v = gaussian(r, o.batch(), o.heads(), n, o.d());
            for (int threads : o.threads()) {
                Map<String, String> skipped = new LinkedHashMap<>();
                for (boolean causal : new boolean[] {false, true}) {
                    List<String> group = new ArrayList<>();
                    for (var e : built.entrySet()) if (e.getValue().causal() == causal) group.add(e.getKey());
                    if (group.isEmpty()) continue;
                    Variant dense = new FullAttention(new FullAttention.Params(causal));
                    progress.accept("N=" + n + (causal ? " causal" : "") + ", " + threads + " thread(s): exact attention");
                    VariantResult exact = dense.run(q, k, v, threads);
                    List<Runnable> runs = new ArrayList<>();
                    runs.add(() -> dense.run(q, k, v, threads));
                    List<String> timed = new ArrayList<>();
                    Map<String, VariantResult> results = new LinkedHashMap<>();
                    for (String name : group) {
                        Variant var = built.get(name);
                        progress.accept("N=" + n + ", " + threads + " thread(s): " + name);
                        try {
                            results.put(name, var.run(q, k, v, threads));
                            runs.add(() -> var.run(q, k, v, threads));
                            timed.add(name);
                        } catch (IllegalArgumentException e) {
                            skipped.put(name, "skipped: " + e.getMessage());
                        } catch (OutOfMemoryError e) {
                            skipped.put(name, "skipped: out of memory at this N (" + e.getMessage() + ")");
                        }
                    }
                    if (!warmedUp && o.warmupSeconds() > 0) {
                        // The Vector API's GEMM tiles reach their compiled form only after a few seconds of use; until
                        // then the first rows would time the JIT, not the kernels.
                        progress.accept("warming up the JIT (" + o.warmupSeconds() + " s per contender)");
                        for (Runnable run : runs) {
                            long end = System.nanoTime() + (long) (o.warmupSeconds() * 1e9);
                            do run.run(); while (System.nanoTime() < end);
                        }
                        warmedUp = true;
                    }
                    progress.accept("N=" + n + ", " + threads + " thread(s): timing " + runs.size() + " contenders in interleaved rounds");
                    double[] ms = SdpaBench.medians(runs, o.minSeconds(), o.minReps());
                    for (int i = 0; i < timed.size(); i++) {
                        String name = timed.get(i);
                        VariantFactory f = VariantRegistry.get(name);
                        VariantResult res = results.get(name);
                        rows.add(new Row(name, f.info().family().name(), f.info().exact(), causal, n, threads, ms[i + 1], ms[0],
                                ms[0] / ms[i + 1], res.flops(), exact.flops(), relativeError(exact.output(), res.output()), ""));
                    }
                }
                for (var e : skipped.entrySet()) {
                    VariantFactory f = VariantRegistry.get(e.getKey());
                    rows.add(new Row(e.getKey(), f.info().family().name(), f.info().exact(), built.get(e.getKey()).causal(), n, threads,
                            Double.NaN, Double.NaN, Double.NaN, 0, 0, Double.NaN, e.getValue()));
                }
            }
        }
        return rows;
    }

    /** ‖a − e‖₂ / ‖e‖₂; NaN when the shapes differ. */
    public static double relativeError(Tensor expected, Tensor actual) {
        if (!java.util.Arrays.equals(expected.shape(), actual.shape())) return Double.NaN;
        float[] e = expected.contiguous().toArray(), a = actual.contiguous().toArray();
        double num = 0, den = 0;
        for (int i = 0; i < e.length; i++) {
            double diff = (double) a[i] - e[i];
            num += diff * diff;
            den += (double) e[i] * e[i];
        }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    /**
     * For each variant measured at two or more N: the N at which it becomes faster than exact
     * attention, interpolated on log N against log(speed-up) between the two measured lengths that
     * bracket speed-up 1.
     */
    public static Map<String, String> crossovers(List<Row> rows, int threads) {
        Map<String, List<Row>> by = new LinkedHashMap<>();
        for (Row r : rows) if (r.threads() == threads && !Double.isNaN(r.speedup()) && !r.name().equals("full")) by.computeIfAbsent(r.name(), x -> new ArrayList<>()).add(r);
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : by.entrySet()) {
            List<Row> l = e.getValue();
            if (l.size() < 2) continue;
            l.sort((a, b) -> Integer.compare(a.n(), b.n()));
            String text = null;
            boolean always = true;
            for (Row x : l) always &= x.speedup() >= 1;
            if (always) text = "faster than exact attention at every N measured (from N=" + l.get(0).n() + ")";
            else if (l.get(0).speedup() >= 1) {
                // faster at the shortest N but not at every N: name the first N where it falls behind
                int slow = 1;
                while (l.get(slow).speedup() >= 1) slow++;
                text = "faster than exact attention at N=" + l.get(0).n() + " but slower at N=" + l.get(slow).n();
            }
            for (int i = 1; i < l.size() && text == null; i++) {
                Row a = l.get(i - 1), b = l.get(i);
                if (a.speedup() < 1 && b.speedup() >= 1) {
                    double la = Math.log(a.speedup()), lb = Math.log(b.speedup());
                    double t = la == lb ? 0 : -la / (lb - la);
                    double n = Math.exp(Math.log(a.n()) + t * (Math.log(b.n()) - Math.log(a.n())));
                    text = String.format(Locale.ROOT, "overtakes exact attention at N ≈ %.0f (between %d and %d)", n, a.n(), b.n());
                }
            }
            if (text == null) text = "slower than exact attention at every N measured (up to N=" + l.get(l.size() - 1).n() + ")";
            out.put(e.getKey(), text);
        }
        return out;
    }

    /** The human-readable table. */
    public static String table(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-24s %-3s %-6s %-6s %7s %3s %10s %10s %9s %10s %8s %10s %s%n", "variant", "fam", "exact", "causal",
                "N", "thr", "ms", "exact ms", "speed-up", "GFLOP", "% dense", "rel err", "note"));
        for (Row r : rows) {
            if (Double.isNaN(r.ms())) {
                sb.append(String.format(Locale.ROOT, "%-24s %-3s %-6s %-6s %7d %3d %s%n", r.name(), r.family(), r.exact() ? "yes" : "no",
                        r.causal() ? "yes" : "no", r.n(), r.threads(), r.note()));
                continue;
            }
            sb.append(String.format(Locale.ROOT, "%-24s %-3s %-6s %-6s %7d %3d %10.2f %10.2f %8.2fx %10.3f %7.1f%% %10s %s%n",
                    r.name(), r.family(), r.exact() ? "yes" : "no", r.causal() ? "yes" : "no", r.n(), r.threads(), r.ms(), r.denseMs(),
                    r.speedup(), r.flops() / 1e9, 100.0 * r.flops() / Math.max(1, r.denseFlops()),
                    Double.isNaN(r.relError()) ? "-" : String.format(Locale.ROOT, "%.2e", r.relError()), r.note()));
        }
        sb.append(SdpaBench.WARMUP_RULE).append('\n');
        return sb.toString();
    }

    static Tensor gaussian(SplittableRandom r, int b, int h, int n, int d) {
        float[] x = new float[Math.multiplyExact(Math.multiplyExact(b * h, n), d)];
        for (int i = 0; i < x.length; i++) {
            double u1 = 1 - r.nextDouble(), u2 = r.nextDouble();
            x[i] = (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
        }
        return Tensor.of(x, b, h, n, d);
    }
}
