package org.attn4j.spark;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/**
 * Spark sessions for attn4j jobs: the JVM options Spark 4.2 needs on JDK 25, attn4j's own, and
 * loop-back binding for local masters.
 */
public final class SparkSetup {
    private SparkSetup() {}

    /** Options the driver JVM must be started with (Spark's module list, then attn4j's). Executors get Spark's from Spark itself. */
    public static final List<String> DRIVER_JVM_OPTIONS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "--sun-misc-unsafe-memory-access=allow",
            "--enable-native-access=ALL-UNNAMED",
            "--add-modules=jdk.incubator.vector");

    /** What executors need on top of Spark's own options: the Vector API module attn4j's kernels use. */
    public static final String EXECUTOR_JVM_OPTIONS = "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED";

    /**
     * A session builder for {@code master} ({@code local[*]}, {@code local[N,F]}, {@code local-cluster[N,C,MB]},
     * {@code spark://host:port}, ...). Local masters bind driver and block manager to 127.0.0.1 and run
     * without the web UI; executors get {@link #EXECUTOR_JVM_OPTIONS} unless the caller sets
     * {@code spark.executor.extraJavaOptions} itself.
     */
    public static SparkSession.Builder builder(String master, String appName) {
        if (master == null || master.isBlank()) throw new IllegalArgumentException("master: expected local[*], local-cluster[N,C,MB] or spark://host:port, got '" + master + "'");
        SparkSession.Builder b = SparkSession.builder().master(master).appName(appName)
                .config("spark.executor.extraJavaOptions", EXECUTOR_JVM_OPTIONS)
                .config("spark.executorEnv.SPARK_SCALA_VERSION", "2.13");
        if (isLocal(master)) {
            b.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false");
        }
        return b;
    }

    /** True for masters that run on this machine only (local modes and local-cluster). */
    public static boolean isLocal(String master) {
        String m = master.toLowerCase(Locale.ROOT);
        return m.startsWith("local") || m.startsWith("spark://127.0.0.1") || m.startsWith("spark://localhost");
    }

    /**
     * Waits until {@code executors} executors (besides the driver) have registered. A failing executor
     * launch never fails a job (the master relaunches forever), so a deadline turns it into an error.
     */
    public static void awaitExecutors(SparkSession spark, int executors, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (spark.sparkContext().statusTracker().getExecutorInfos().length < executors + 1) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("executors: expected " + executors + " to register within " + timeout.toSeconds() + " s, got "
                        + (spark.sparkContext().statusTracker().getExecutorInfos().length - 1)
                        + " (for local-cluster: are JAVA_HOME and SPARK_HOME, a directory with a jars/ folder, set in the driver's environment?)");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for executors", e);
            }
        }
    }

    /**
     * The memory, in MB, of each worker of a {@code local-cluster[N,C,MB]} master, or 0 for other masters.
     * Spark gives each executor {@code spark.executor.memory} (1 GB by default), not this figure; a
     * launcher that wants executors to use what the master string says must set it (see
     * {@link #localClusterExecutorMemory}).
     */
    public static int localClusterMemoryMb(String master) {
        var m = java.util.regex.Pattern.compile("local-cluster\\[\\s*\\d+\\s*,\\s*\\d+\\s*,\\s*(\\d+)\\s*]").matcher(master.trim());
        return m.matches() ? Integer.parseInt(m.group(1)) : 0;
    }

    /**
     * {@code spark.executor.memory} for a {@code local-cluster[N,C,MB]} master: {@code MB} megabytes
     * ({@code "2048m"}), so that each single executor per worker gets the worker's memory, or null for
     * other masters.
     */
    public static String localClusterExecutorMemory(String master) {
        int mb = localClusterMemoryMb(master);
        return mb > 0 ? mb + "m" : null;
    }

    /** The executor count a {@code local-cluster[N,C,MB]} master asks for, or 0 for other masters. */
    public static int localClusterExecutors(String master) {
        var m = java.util.regex.Pattern.compile("local-cluster\\[\\s*(\\d+)\\s*,.*").matcher(master.trim());
        return m.matches() ? Integer.parseInt(m.group(1)) : 0;
    }
}
