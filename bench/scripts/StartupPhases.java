import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.attn4j.models.embed.Embedder;

/**
 * Where a cold start's CPU goes, phase by phase: process CPU and wall time at main, for loading the
 * model, for the first embedding, the second, and ten more; then CPU per thread kind (main, C1/C2
 * compiler threads, GC, attn4j team) read from /proc (Linux). Run from the repository root after
 * a build, e.g.
 *   java --add-modules jdk.incubator.vector -XX:+UseParallelGC -cp "cli/target/attn4j-cli.jar:cli/target/lib/*" \
 *        bench/scripts/StartupPhases.java 1
 * The argument is the thread count (default 1). Add -Dattn4j.cache=off to time a load without the model cache.
 * (Run as a source file the program pays for compiling itself before main; compare phases, not the time at main.)
 */
public class StartupPhases {
    static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    static long cpu = OS.getProcessCpuTime(), wall = System.nanoTime();

    static void mark(String what) {
        long c = OS.getProcessCpuTime(), w = System.nanoTime();
        System.out.printf("%-16s cpu %6d ms   wall %6d ms%n", what, (c - cpu) / 1_000_000, (w - wall) / 1_000_000);
        cpu = c;
        wall = w;
    }

    public static void main(String[] args) throws Exception {
        System.out.printf("%-16s cpu %6d ms   wall %6d ms (JVM uptime)%n", "at main", cpu / 1_000_000, ManagementFactory.getRuntimeMXBean().getUptime());
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        Embedder e = Embedder.load(Embedder.MINILM).withThreads(threads);
        mark("load model");
        e.embed(List.of("The quick brown fox jumps over the lazy dog."));
        mark("first embed");
        e.embed(List.of("The quick brown fox jumps over the lazy cat."));
        mark("second embed");
        for (int i = 0; i < 10; i++) e.embed(List.of("The quick brown fox jumps over the lazy cat number " + i + "."));
        mark("ten more");
        Map<String, Long> perThread = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : tasks.toList()) {
                String stat = Files.readString(t.resolve("stat"));
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[0-9]+$", "#");
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                perThread.merge(name, (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1000 / 100, Long::sum); // clock ticks of 10 ms
            }
        } catch (java.io.IOException notLinux) {
            return;
        }
        System.out.println("CPU by thread (ms, 10 ms ticks):");
        perThread.forEach((k, v) -> { if (v > 0) System.out.printf("  %-24s %6d%n", k, v); });
    }
}
