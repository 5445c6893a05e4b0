package org.attn4j.variants.neighborhood;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantAssert;

/**
 * Throwaway speed measurement (not a test): neighbourhood attention against dense flash attention
 * ({@code Attention.sdpa}) on the same shape and threads; each timing is the best run within a time
 * budget after warm-up (the machine is shared, so best-of filters out the noise).
 * <pre>
 * java --add-modules jdk.incubator.vector -cp core/target/classes:variants/target/classes:variants/target/test-classes \
 *      org.attn4j.variants.neighborhood.NeighborhoodBench 1d|2d|3d threads heads seconds [patch,patch,...|auto]
 * </pre>
 * 1d: N = 32768, kernel 256; 2d: 64×64, kernel 7×7; 3d: 16×16×16, kernel 7×7×7; D = 64.
 */
public final class NeighborhoodBench {
    private NeighborhoodBench() {}

    interface Run { void run(); }

    /** With one thread the work runs on the calling thread, so its CPU time excludes the time the shared machine took away. */
    static boolean cpuTime;
    static final java.lang.management.ThreadMXBean MX = java.lang.management.ManagementFactory.getThreadMXBean();

    static long now() { return cpuTime ? MX.getCurrentThreadCpuTime() : System.nanoTime(); }

    static double best(double seconds, int minRuns, Run r) {
        double best = Double.MAX_VALUE;
        long end = System.nanoTime() + (long) (seconds * 1e9);
        for (int i = 0; i < minRuns || System.nanoTime() < end; i++) {
            long t0 = now();
            r.run();
            best = Math.min(best, (now() - t0) / 1e6);
        }
        return best;
    }

    public static void main(String[] args) {
        String mode = args[0];
        int threads = Integer.parseInt(args[1]), heads = Integer.parseInt(args[2]);
        double seconds = Double.parseDouble(args[3]);
        cpuTime = threads == 1;
        int dims = mode.charAt(0) - '0';
        int[] kernel = dims == 1 ? new int[] {256} : dims == 2 ? new int[] {7, 7} : new int[] {7, 7, 7};
        int[] grid = dims == 1 ? new int[] {32768} : dims == 2 ? new int[] {64, 64} : new int[] {16, 16, 16};
        int n = 1, window = 1;
        for (int a = 0; a < dims; a++) {
            n *= grid[a];
            window *= kernel[a];
        }
        int d = 64;
        List<int[]> patches = new ArrayList<>();
        if (args.length > 4 && !args[4].equals("auto")) {
            for (String p : args[4].split(",")) {
                if (p.equals("auto")) {
                    patches.add(null);
                    continue;
                }
                String[] xs = p.split("x");
                int[] shape = new int[xs.length];
                for (int i = 0; i < xs.length; i++) shape[i] = Integer.parseInt(xs[i]);
                patches.add(shape);
            }
        } else {
            patches.add(null);
        }
        SplittableRandom r = new SplittableRandom(1);
        Tensor q = VariantAssert.random(r, 1, heads, n, d), k = VariantAssert.random(r, 1, heads, n, d), v = VariantAssert.random(r, 1, heads, n, d);
        AttentionSpec spec = AttentionSpec.builder().threads(threads).validate(false).build();
        double useful = 2.0 * heads * n * window * (2 * d);
        double denseFlops = 2.0 * heads * n * (double) n * (2 * d);
        boolean noDense = Boolean.getBoolean("nodense");
        double dense = noDense ? Double.NaN : best(dims == 1 ? 0 : seconds, dims == 1 ? 2 : 3, () -> Attention.sdpa(q, k, v, spec));
        System.out.printf("%s grid %s kernel %s D=%d H=%d threads=%d (%s): dense flash %.1f ms (%.1f GFLOP/s); ideal speed-up %.1f%n", mode,
                NeighborhoodParams.fmt(grid), NeighborhoodParams.fmt(kernel), d, heads, threads,
                cpuTime ? "thread CPU time" : "wall time", dense, denseFlops / dense / 1e6, (double) n / window);
        // Warm-up round over every configuration, so that no timing includes JIT compilation.
        for (int[] patch : patches) {
            NeighborhoodAttention na = new NeighborhoodAttention(new NeighborhoodParams(kernel, null, null, null, grid, patch));
            best(seconds, 10, () -> na.run(q, k, v, threads));
        }
        for (int[] patch : patches) {
            NeighborhoodAttention na = new NeighborhoodAttention(new NeighborhoodParams(kernel, null, null, null, grid, patch));
            double t = best(seconds, 10, () -> na.run(q, k, v, threads));
            long flops = na.run(q, k, v, threads).flops();
            System.out.printf("  patch %-8s %8.2f ms  speed-up %6.1fx  executed/useful %.2f  %.1f GFLOP/s executed%n",
                    NeighborhoodParams.fmt(na.pattern(n).patchShape()), t, dense / t, flops / useful, flops / t / 1e6);
        }
        double again = noDense ? Double.NaN : best(dims == 1 ? 0 : seconds, dims == 1 ? 1 : 3, () -> Attention.sdpa(q, k, v, spec));
        System.out.printf("  dense flash again %.1f ms%n", again);
    }
}
