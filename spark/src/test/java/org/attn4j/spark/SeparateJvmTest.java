package org.attn4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.spark.attention.AttentionCases;
import org.attn4j.spark.embed.CorpusEmbedding;
import org.attn4j.spark.embed.CorpusReaders;
import org.attn4j.spark.embed.EmbeddingJob;
import org.attn4j.spark.embed.EmbeddingOptions;
import org.attn4j.spark.embed.ExecutorModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Executors as separate JVMs: closures, broadcasts and partials really cross process boundaries,
 * each executor loads the model itself, and output is exactly once under task retries and under
 * speculative execution.
 *
 * <p>One cluster serves all of it, because starting executor JVMs (and their first task: Spark SQL's
 * classes and the model) is what these tests spend most of their time on: a standalone master and two
 * workers on two host names of the loop-back address ({@link TwoHostCluster}), one single-core executor
 * JVM each, with aggressive speculation. Two host names are needed for speculation (Spark never runs a
 * speculative copy on a host where an attempt of that task already ran, so {@code local-cluster}, whose
 * executors share one host name, cannot speculate). The retry and attention tests do not depend on
 * speculation: a speculative copy of any of their tasks must leave the same answer, which they check.
 */
class SeparateJvmTest {
    static TwoHostCluster cluster;
    static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        cluster = TwoHostCluster.start("attn4j-test-executor-jvms",
                "spark.speculation", "true",
                "spark.speculation.interval", "100ms",
                // speculate a task once half of the stage's tasks finished and it ran 1.5x their median, and at least 1 s
                "spark.speculation.quantile", "0.5",
                "spark.speculation.multiplier", "1.5",
                "spark.speculation.minTaskRuntime", "1s",
                // judge by running time alone, not by the rows-per-second rate (a stalled task reports no rate)
                "spark.speculation.efficiency.enabled", "false",
                "spark.locality.wait", "0s");
        spark = cluster.spark();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    @Test
    void embeddingSurvivesAFailedFirstAttemptAndEachExecutorLoadsTheModelOnce() throws Exception {
        Path dir = TestSessions.scratch("cluster");
        List<String> texts = Corpus.sentences(60, 4);
        Set<Integer> bad = Set.of(11);
        Path in = EmbeddingChecks.textFile(dir, texts, bad);
        String out = dir.resolve("out.parquet").toString();
        FailedTasks failures = new FailedTasks();
        spark.sparkContext().addSparkListener(failures);
        try {
            Dataset<Row> lines = CorpusReaders.text(spark, in.toString(), 4);
            Dataset<Row> flaky = lines.mapPartitions(FirstAttemptFault.fail(2, 6), Encoders.row(lines.schema()));
            EmbeddingJob.write(CorpusEmbedding.embed(flaky, "id", "text", EmbeddingOptions.defaults().withBatch(4)), out, EmbeddingJob.OutputFormat.PARQUET);
            for (int i = 0; i < 100 && failures.failed.get() == 0; i++) Thread.sleep(50);
            assertTrue(failures.failed.get() >= 1, "the injected failure happened");
        } finally {
            spark.sparkContext().removeSparkListener(failures);
        }
        EmbeddingChecks.assertMatchesOffline(spark.read().parquet(out).collectAsList(), texts, bad, null);

        // Ask every executor JVM how often it loaded a model: 4 tasks plus a retry (and any speculative copies) ran, yet no JVM loaded more than once.
        long driver = ProcessHandle.current().pid();
        List<String> reports = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(List.of(1, 2, 3, 4, 5, 6, 7, 8), 8)
                .map(x -> ProcessHandle.current().pid() + ":" + ExecutorModels.loads()).distinct().collect();
        Map<Long, Integer> loads = new TreeMap<>();
        for (String s : reports) loads.put(Long.parseLong(s.split(":")[0]), Integer.parseInt(s.split(":")[1]));
        assertFalse(loads.containsKey(driver), "tasks ran outside the driver JVM: " + loads);
        assertTrue(loads.values().stream().allMatch(n -> n <= 1), "model loads per executor JVM: " + loads);
        assertTrue(loads.values().stream().anyMatch(n -> n == 1), "model loads per executor JVM: " + loads);
        assertEquals(3, spark.sparkContext().statusTracker().getExecutorInfos().length, "two executors and the driver");
    }

    @Test
    void distributedAttentionAcrossProcessesEqualsOneMachine() {
        Random r = new Random(8);
        Tensor q = AttentionCases.gaussian(r, 1, 4, 7, 16), k = AttentionCases.gaussian(r, 1, 2, 300, 16), v = AttentionCases.gaussian(r, 1, 2, 300, 16);
        AttentionSpec spec = AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).window(100, 0).alibi(true).build();
        for (int shards : new int[] {3, 8}) AttentionCases.assertSameAsOneMachine(spark, q, k, v, spec, shards, Math.min(shards, 4), shards);
    }

    @Test
    void aSpeculativeCopyOfAStalledTaskLeavesEveryIdOnceWithOfflineEmbeddings() throws Exception {
        Path dir = TestSessions.scratch("speculation");
        List<String> texts = Corpus.sentences(64, 7);
        Set<Integer> bad = Set.of(20);
        Path in = EmbeddingChecks.textFile(dir, texts, bad);
        String out = dir.resolve("out.parquet").toString();
        int slowPartition = 1;
        SpeculativeTasks tasks = new SpeculativeTasks();
        spark.sparkContext().addSparkListener(tasks);
        long t0 = System.nanoTime();
        try {
            Dataset<Row> lines = CorpusReaders.text(spark, in.toString(), 4);
            // The first attempt of partition 1 stalls after 6 rows (one batch of 4 is already embedded and handed to the
            // writer) for up to 5 minutes: far longer than the whole job takes with a speculative copy, even on a loaded machine.
            Dataset<Row> slow = lines.mapPartitions(FirstAttemptFault.stall(slowPartition, 6, 300_000), Encoders.row(lines.schema()));
            EmbeddingJob.write(CorpusEmbedding.embed(slow, "id", "text", EmbeddingOptions.defaults().withBatch(4)), out, EmbeddingJob.OutputFormat.PARQUET);
            // Listener events arrive asynchronously: wait (at most 10 s) until the killed attempt has reported.
            for (int i = 0; i < 200 && tasks.lost.keySet().stream().noneMatch(k -> k.endsWith("/" + slowPartition)); i++) Thread.sleep(50);
        } finally {
            spark.sparkContext().removeSparkListener(tasks);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        String stage = tasks.started.stream().filter(k -> k.endsWith("/" + slowPartition)).findFirst().orElse(null);
        assertTrue(stage != null, "a speculative attempt of partition " + slowPartition + " started; speculative starts: " + tasks.started);
        assertEquals(Boolean.TRUE, tasks.succeeded.get(stage), "the speculative attempt is the one that succeeded: " + tasks.succeeded);
        assertTrue(tasks.lost.getOrDefault(stage, "").contains("TaskKilled"), "the stalled first attempt was killed: " + tasks.lost);
        assertTrue(seconds < 300, "the job finished before the stall would have ended by itself: " + seconds + " s");

        // One committed file per partition and nothing else: no second copy of partition 1, no attempt's leftovers.
        List<String> files;
        try (var list = Files.list(Path.of(out))) {
            files = list.map(p -> p.getFileName().toString()).filter(n -> !n.endsWith(".crc")).sorted().toList();
        }
        assertEquals(5, files.size(), "output files: " + files);
        assertEquals("_SUCCESS", files.get(0), "output files: " + files);
        for (int p = 0; p < 4; p++) assertTrue(files.get(p + 1).startsWith("part-0000" + p + "-"), "output files: " + files);

        EmbeddingChecks.assertMatchesOffline(spark.read().parquet(out).collectAsList(), texts, bad, null);
    }
}
