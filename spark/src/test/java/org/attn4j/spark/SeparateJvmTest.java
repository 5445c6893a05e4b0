package org.attn4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
 * Executors as separate JVMs ({@code local-cluster[2,1,1024]}): closures, broadcasts and partials
 * really cross process boundaries, and each executor loads the model itself.
 */
class SeparateJvmTest {
    static SparkSession spark;

    @BeforeAll
    static void start() throws Exception {
        spark = TestSessions.localCluster(2);
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
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

        // Ask every executor JVM how often it loaded a model: 4 tasks plus a retry ran, yet no JVM loaded more than once.
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
}
