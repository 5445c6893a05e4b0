package org.attn4j.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** Spark sessions for tests: everything on 127.0.0.1, scratch space under target/. */
public final class TestSessions {
    private TestSessions() {}

    static Path work() {
        try {
            Path w = Path.of(System.getProperty("attn4j.test.work", "target/spark-work")).toAbsolutePath();
            Files.createDirectories(w);
            return w;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh scratch directory under target/spark-work. */
    public static Path scratch(String prefix) {
        try {
            return Files.createTempDirectory(work(), prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A session on {@code master} in this JVM ({@code local[2,4]} retries failed tasks up to 4 times). */
    public static SparkSession local(String master) {
        return SparkSetup.builder(master, "attn4j-test").config("spark.local.dir", work().resolve("local").toString())
                .config("spark.sql.shuffle.partitions", "4").getOrCreate();
    }

    /**
     * Settings for executors that are separate JVMs started from this test class path: the class path
     * written out by the build, attn4j's JVM options, scratch directories under target/, up to 4
     * attempts per task. Needs JAVA_HOME and SPARK_HOME (a directory with a jars/ folder, created here)
     * in this JVM's environment; the surefire configuration sets them.
     */
    static SparkSession.Builder executorsFromTestClassPath(SparkSession.Builder b) throws IOException {
        String sparkHome = System.getenv("SPARK_HOME");
        if (sparkHome == null || System.getenv("JAVA_HOME") == null) {
            throw new IllegalStateException("executor JVMs need JAVA_HOME and SPARK_HOME in the environment (run the tests through Maven)");
        }
        Files.createDirectories(Path.of(sparkHome, "jars"));
        String cp = Files.readString(Path.of(System.getProperty("attn4j.test.classpath"))).trim();
        String classPath = System.getProperty("attn4j.test.dirs") + java.io.File.pathSeparator + cp;
        Path tmp = Files.createDirectories(work().resolve("executor-tmp"));
        return b.config("spark.executor.extraClassPath", classPath)
                .config("spark.executor.extraJavaOptions", SparkSetup.EXECUTOR_JVM_OPTIONS + " -Djava.io.tmpdir=" + tmp)
                .config("spark.local.dir", work().resolve("local").toString())
                .config("spark.task.maxFailures", "4")
                .config("spark.sql.shuffle.partitions", "4");
    }
}
