package org.attn4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.attn4j.spark.embed.CorpusEmbedding;
import org.attn4j.spark.embed.CorpusReaders;
import org.attn4j.spark.embed.EmbeddingJob;
import org.attn4j.spark.embed.EmbeddingOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Exactly-once output under speculative execution: two single-core executor JVMs on two host names
 * ({@link TwoHostCluster}), speculation with aggressive settings, and one partition whose first
 * attempt stalls after it has passed rows to the writer. Spark starts a speculative copy on the
 * other executor, that copy commits, the stalled attempt is killed; the output must hold every input
 * id once with the offline embeddings.
 */
class SpeculationTest {
    static TwoHostCluster cluster;
    static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        cluster = TwoHostCluster.start("attn4j-test-speculation",
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
