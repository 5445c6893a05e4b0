package org.attn4j.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.deploy.master.Master$;
import org.apache.spark.deploy.worker.Worker$;
import org.apache.spark.rpc.RpcEnv;
import org.apache.spark.sql.SparkSession;
import scala.Option;

/**
 * A standalone Spark cluster inside the test JVM: one master and two workers, each worker on its own
 * host name ({@code 127.0.0.1} and {@code localhost}, both the loop-back address), each launching
 * one single-core executor JVM. Spark never runs a speculative copy of a task on a host where an
 * attempt of that task already ran, so {@code local[*]} and {@code local-cluster} (every executor on
 * one host name) can never speculate; two host names make it possible without leaving 127.0.0.1.
 */
public final class TwoHostCluster implements AutoCloseable {
    /** The workers' host names: two names of the loop-back address. */
    public static final List<String> HOSTS = List.of("127.0.0.1", "localhost");

    private final List<RpcEnv> daemons = new ArrayList<>();
    private SparkSession spark;

    private TwoHostCluster() {}

    /**
     * Starts the master and the workers, then a session on them with {@code settings} (key, value
     * pairs) on top of {@link TestSessions#executorsFromTestClassPath}; returns once both executors
     * registered (at most 90 s).
     */
    public static TwoHostCluster start(String appName, String... settings) throws IOException {
        if (settings.length % 2 != 0) throw new IllegalArgumentException("settings: expected key, value pairs, got " + settings.length + " strings");
        TwoHostCluster c = new TwoHostCluster();
        try {
            // As LocalSparkCluster does for local-cluster: no REST server, no external shuffle service.
            SparkConf daemonConf = new SparkConf(false).set("spark.master.rest.enabled", "false").set("spark.shuffle.service.enabled", "false");
            RpcEnv master = Master$.MODULE$.startRpcEnvAndEndpoint("127.0.0.1", 0, 0, daemonConf)._1();
            c.daemons.add(master);
            String url = "spark://127.0.0.1:" + master.address().port();
            Path work = Files.createDirectories(TestSessions.work().resolve("workers"));
            for (int i = 0; i < HOSTS.size(); i++) {
                c.daemons.add(Worker$.MODULE$.startRpcEnvAndEndpoint(HOSTS.get(i), 0, 0, 1, 1024, new String[] {url},
                        work.toString(), Option.apply(i + 1), daemonConf, Option.empty()));
            }
            // SparkSetup binds the driver to 127.0.0.1 for a spark://127.0.0.1 master.
            var b = TestSessions.executorsFromTestClassPath(SparkSetup.builder(url, appName))
                    .config("spark.executor.cores", "1").config("spark.cores.max", String.valueOf(HOSTS.size()))
                    .config("spark.executor.memory", "1g");
            for (int i = 0; i < settings.length; i += 2) b.config(settings[i], settings[i + 1]);
            c.spark = b.getOrCreate();
            SparkSetup.awaitExecutors(c.spark, HOSTS.size(), Duration.ofSeconds(90));
            return c;
        } catch (RuntimeException | IOException e) {
            c.close();
            throw e;
        }
    }

    public SparkSession spark() { return spark; }

    /** Stops the session (and with it the executors), then the workers and the master. */
    @Override
    public void close() {
        if (spark != null) spark.stop();
        for (int i = daemons.size() - 1; i >= 0; i--) {
            daemons.get(i).shutdown();
            daemons.get(i).awaitTermination();
        }
        daemons.clear();
    }
}
