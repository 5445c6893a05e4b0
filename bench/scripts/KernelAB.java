import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Side-by-side A/B of two (or more) builds of the kernels in one JVM: each contender's classes are
 * loaded by their own class loader, all are warmed, then they take turns call by call, so a slow
 * phase of a shared host hits every contender alike. Reports, per contender, the caller thread's CPU
 * time (min and median over rounds: on a busy host it is far steadier than wall time, and with
 * {@code -Dt=1} the kernel runs on the caller thread) and the wall time.
 *
 * <pre>
 *   cp -r core/target/classes /tmp/core-before        # then change the code and rebuild core
 *   java --add-modules jdk.incubator.vector bench/scripts/KernelAB.java \
 *        before=/tmp/core-before after=core/target/classes
 * </pre>
 *
 * A contender is {@code NAME=DIR[,DIR...][:PROPERTY#VALUE]...}: class directories or jars, and system
 * properties set while its classes initialise (e.g. {@code rows96=core/target/classes:attn4j.flash.rows#96}).
 * Properties: {@code -Dwhat=flash} (default; B=1 H=8 N=-Dn D=64, {@code -Dcausal=true}) or
 * {@code -Dwhat=na2d} (2-D neighbourhood 7×7 on 64×64, H=8; needs variants' classes after core's),
 * {@code -Dt=} threads (1), {@code -Drounds=} (15), {@code -Dn=} (2048).
 */
public class KernelAB {
    static final ThreadMXBean TM = ManagementFactory.getThreadMXBean();

    /** One contender: a call that runs the kernel once. */
    record Contender(String name, Runnable call) {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: KernelAB NAME=DIR[,DIR...][:PROP#VALUE]... (at least one)");
            System.exit(2);
        }
        String what = System.getProperty("what", "flash");
        int n = Integer.getInteger("n", what.equals("na2d") ? 4096 : 2048);
        int threads = Integer.getInteger("t", 1), rounds = Integer.getInteger("rounds", 15);
        boolean causal = Boolean.getBoolean("causal");
        List<Contender> cs = new ArrayList<>();
        for (String a : args) {
            String[] nameRest = a.split("=", 2);
            String[] parts = nameRest[1].split(":");
            List<URL> urls = new ArrayList<>();
            for (String d : parts[0].split(",")) urls.add(Path.of(d).toUri().toURL());
            ClassLoader cl = new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
            Runnable call = what.equals("na2d") ? na2d(cl, n, threads) : flash(cl, n, threads, causal);
            List<String> set = new ArrayList<>();
            for (int i = 1; i < parts.length; i++) {
                String[] kv = parts[i].split("#", 2);
                System.setProperty(kv[0], kv[1]);
                set.add(kv[0]);
            }
            call.run(); // initialises the contender's classes under its properties
            for (String p : set) System.clearProperty(p);
            cs.add(new Contender(nameRest[0], call));
        }
        double peakBefore = fmaPeak();
        long end = System.nanoTime() + 6_000_000_000L;
        while (System.nanoTime() < end) for (Contender c : cs) c.call.run();
        int reps = what.equals("na2d") ? 10 : 3;
        double[][] cpu = new double[cs.size()][rounds], wall = new double[cs.size()][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < cs.size(); i++) {
                int idx = (i + r) % cs.size(); // rotate the order every round
                long c0 = TM.getCurrentThreadCpuTime(), w0 = System.nanoTime();
                for (int rep = 0; rep < reps; rep++) cs.get(idx).call.run();
                cpu[idx][r] = (TM.getCurrentThreadCpuTime() - c0) / (reps * 1e6);
                wall[idx][r] = (System.nanoTime() - w0) / (reps * 1e6);
            }
        }
        double peak = Math.max(peakBefore, fmaPeak());
        double flops = what.equals("na2d") ? 4.0 * 8 * n * 49 * 64 : 4.0 * 8 * n * (double) n * 64 * (causal ? 0.5 : 1);
        System.out.printf("%s n=%d threads=%d causal=%s; caller-thread CPU time and wall time per call, ms%n", what, n, threads, causal);
        System.out.printf("FMA peak on this thread, by CPU time, before and after the rounds (higher kept): %.1f GFLOP/s%n", peak);
        for (int i = 0; i < cs.size(); i++) {
            double[] c = cpu[i].clone(), w = wall[i].clone();
            Arrays.sort(c);
            Arrays.sort(w);
            System.out.printf("%-10s cpu min %8.2f median %8.2f (%6.1f GFLOP/s, %4.1f%% of peak)   wall min %8.2f median %8.2f%n",
                    cs.get(i).name, c[0], c[rounds / 2], flops / c[rounds / 2] / 1e6, 100 * flops / c[rounds / 2] / 1e6 / peak, w[0], w[rounds / 2]);
        }
    }

    /**
     * The fp32 FMA peak of this thread in GFLOP/s by CPU time: the register-only loop of
     * {@code org.attn4j.bench.peak.FmaPeak} (12 independent vector accumulators), best of 5 runs of ~0.3 s.
     */
    static double fmaPeak() {
        jdk.incubator.vector.VectorSpecies<Float> sp = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        double best = 0;
        for (int trial = 0; trial < 5; trial++) {
            long c0 = TM.getCurrentThreadCpuTime(), iters = 0;
            float sink = 0;
            while (TM.getCurrentThreadCpuTime() - c0 < 300_000_000L) {
                sink += fmaLoop(1 << 16);
                iters += 1 << 16;
            }
            long ns = TM.getCurrentThreadCpuTime() - c0;
            if (sink == 42f) System.out.print("");
            best = Math.max(best, iters * 12.0 * sp.length() * 2 / ns);
        }
        return best;
    }

    static float fmaLoop(int n) {
        var sp = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        var a = jdk.incubator.vector.FloatVector.broadcast(sp, 0.999f);
        var b = jdk.incubator.vector.FloatVector.broadcast(sp, 1e-6f);
        var c0 = jdk.incubator.vector.FloatVector.broadcast(sp, 0.1f);
        var c1 = c0.add(0.1f); var c2 = c0.add(0.2f); var c3 = c0.add(0.3f); var c4 = c0.add(0.4f); var c5 = c0.add(0.5f);
        var c6 = c0.add(0.6f); var c7 = c0.add(0.7f); var c8 = c0.add(0.8f); var c9 = c0.add(0.9f); var c10 = c0.add(1f); var c11 = c0.add(1.1f);
        for (int i = 0; i < n; i++) {
            c0 = c0.fma(a, b); c1 = c1.fma(a, b); c2 = c2.fma(a, b); c3 = c3.fma(a, b);
            c4 = c4.fma(a, b); c5 = c5.fma(a, b); c6 = c6.fma(a, b); c7 = c7.fma(a, b);
            c8 = c8.fma(a, b); c9 = c9.fma(a, b); c10 = c10.fma(a, b); c11 = c11.fma(a, b);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    static float[] gaussian(Random r, int len) {
        float[] x = new float[len];
        for (int i = 0; i < len; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    /** Attention.sdpa with the flash kernel, B=1 H=8 D=64, through the contender's class loader. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Runnable flash(ClassLoader cl, int n, int threads, boolean causal) throws Exception {
        Class<?> t = cl.loadClass("org.attn4j.core.tensor.Tensor");
        Class<?> specC = cl.loadClass("org.attn4j.core.attention.AttentionSpec");
        Class<?> kernelC = cl.loadClass("org.attn4j.core.attention.KernelChoice");
        Class<?> alignC = cl.loadClass("org.attn4j.core.mask.CausalAlignment");
        Method of = t.getMethod("of", float[].class, int[].class);
        Random r = new Random(7);
        int[] shape = {1, 8, n, 64};
        Object q = of.invoke(null, gaussian(r, 8 * n * 64), shape);
        Object k = of.invoke(null, gaussian(r, 8 * n * 64), shape);
        Object v = of.invoke(null, gaussian(r, 8 * n * 64), shape);
        Object b = specC.getMethod("builder").invoke(null);
        Class<?> bc = b.getClass();
        bc.getMethod("kernel", kernelC).invoke(b, Enum.valueOf((Class) kernelC, "FLASH"));
        bc.getMethod("threads", int.class).invoke(b, threads);
        bc.getMethod("validate", boolean.class).invoke(b, false);
        if (causal) bc.getMethod("causal", alignC).invoke(b, Enum.valueOf((Class) alignC, "TOP_LEFT"));
        Object spec = bc.getMethod("build").invoke(b);
        Method sdpa = cl.loadClass("org.attn4j.core.attention.Attention").getMethod("sdpa", t, t, t, specC);
        return () -> invoke(sdpa, null, q, k, v, spec);
    }

    /** The neighborhood-2d variant, 7×7 on a 64×64 grid (n must be 4096), H=8, D=64. */
    static Runnable na2d(ClassLoader cl, int n, int threads) throws Exception {
        Class<?> t = cl.loadClass("org.attn4j.core.tensor.Tensor");
        Method of = t.getMethod("of", float[].class, int[].class);
        Random r = new Random(1);
        int[] shape = {1, 8, n, 64};
        Object q = of.invoke(null, gaussian(r, 8 * n * 64), shape);
        Object k = of.invoke(null, gaussian(r, 8 * n * 64), shape);
        Object v = of.invoke(null, gaussian(r, 8 * n * 64), shape);
        Class<?> settings = cl.loadClass("org.attn4j.variants.Settings");
        Object set = settings.getMethod("of", String[].class).invoke(null, (Object) new String[] {"grid=64x64", "kernel=7"});
        Object variant = cl.loadClass("org.attn4j.variants.VariantRegistry").getMethod("create", String.class, settings, long.class)
                .invoke(null, "neighborhood-2d", set, 0L);
        Method run = cl.loadClass("org.attn4j.variants.Variant").getMethod("run", t, t, t, int.class);
        return () -> invoke(run, variant, q, k, v, threads);
    }

    static void invoke(Method m, Object target, Object... args) {
        try {
            m.invoke(target, args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
