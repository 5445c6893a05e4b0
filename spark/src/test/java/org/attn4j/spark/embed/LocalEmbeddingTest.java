package org.attn4j.spark.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.attn4j.spark.Corpus;
import org.attn4j.spark.EmbeddingChecks;
import org.attn4j.spark.FirstAttemptFault;
import org.attn4j.spark.FailedTasks;
import org.attn4j.spark.Offline;
import org.attn4j.spark.TestSessions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The embedding job in local mode (one JVM): equality with the offline embedder, bad rows, retries. */
class LocalEmbeddingTest {
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = TestSessions.local("local[2,4]");
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    @Test
    void textFileToParquetEqualsOfflineEmbeddingsAndKeepsBadLinesAsErrors() throws IOException {
        Path dir = TestSessions.scratch("text");
        List<String> texts = Corpus.sentences(150, 1);
        Set<Integer> bad = Set.of(3, 77);
        Path in = EmbeddingChecks.textFile(dir, texts, bad);
        String out = dir.resolve("out.parquet").toString();
        Integer maxTokens = 48; // some sentences are longer: the truncated flag must say so
        var spec = new EmbeddingJob.Spec(in.toString(), CorpusReaders.Format.TEXT, out, EmbeddingJob.OutputFormat.PARQUET, "id", "text", 3,
                EmbeddingOptions.defaults().withBatch(16).withMaxTokens(maxTokens));
        EmbeddingJob.Summary s = EmbeddingJob.run(spark, spec);

        List<Row> rows = spark.read().parquet(out).collectAsList();
        EmbeddingChecks.assertMatchesOffline(rows, texts, bad, maxTokens);
        assertTrue(rows.stream().anyMatch(r -> Boolean.TRUE.equals(r.getAs("truncated"))), "the corpus has truncated rows");
        long tokens = 0;
        for (int i = 0; i < texts.size(); i++) if (!bad.contains(i)) tokens += Offline.encode(texts.get(i), maxTokens).length();
        assertEquals(150, s.rows());
        assertEquals(2, s.errors());
        assertEquals(tokens, s.tokens());
        assertTrue(s.line(out).startsWith("embedded 150 rows (2 errors), " + tokens + " tokens"), s.line(out));
    }

    @Test
    void jsonlToJsonlWithStringIdsNullTextAndAMalformedLine() throws IOException {
        Path dir = TestSessions.scratch("jsonl");
        Path in = dir.resolve("docs.jsonl");
        Files.writeString(in, """
                {"doc": "a-1", "body": "The cat sat on the mat."}
                {"doc": "a-2", "body": null}
                {"doc": "a-3", "body": "Attention is all you need."
                {"doc": "a-4", "body": "Zürich café 東京"}
                """);
        String out = dir.resolve("out").toString();
        var spec = new EmbeddingJob.Spec(in.toString(), CorpusReaders.Format.JSONL, out, EmbeddingJob.OutputFormat.JSONL, "doc", "body", 0,
                EmbeddingOptions.defaults());
        EmbeddingJob.Summary s = EmbeddingJob.run(spark, spec);
        assertEquals(4, s.rows());
        assertEquals(2, s.errors());

        Map<String, Row> byId = spark.read().json(out).collectAsList().stream()
                .filter(r -> r.getAs("id") != null).collect(Collectors.toMap(r -> r.getAs("id"), r -> r));
        Row malformed = spark.read().json(out).collectAsList().stream().filter(r -> r.getAs("id") == null).findFirst().orElseThrow();
        assertTrue(((String) malformed.getAs("error")).startsWith("malformed JSON line: "), (String) malformed.getAs("error"));
        assertEquals("null text", byId.get("a-2").getAs("error"));
        assertNull(byId.get("a-2").getAs("embedding"));
        float[][] expected = Offline.embed(List.of("The cat sat on the mat.", "Zürich café 東京"), null);
        float[] a1 = EmbeddingChecks.floats(byId.get("a-1").getAs("embedding")), a4 = EmbeddingChecks.floats(byId.get("a-4").getAs("embedding"));
        for (int c = 0; c < a1.length; c++) {
            assertEquals(expected[0][c], a1[c], 1e-5f);
            assertEquals(expected[1][c], a4[c], 1e-5f);
        }
    }

    @Test
    void parquetInputWithLongIdsAndANullTextToParquet() throws IOException {
        Path dir = TestSessions.scratch("parquet-in");
        List<String> texts = Corpus.sentences(30, 3);
        String in = dir.resolve("in.parquet").toString();
        // A user's table: its own id and text column names, ids that are not line numbers, one null text.
        List<Row> input = new java.util.ArrayList<>();
        for (int i = 0; i < texts.size(); i++) input.add(org.apache.spark.sql.RowFactory.create(1000L + 7L * i, i == 11 ? null : texts.get(i)));
        var schema = new org.apache.spark.sql.types.StructType()
                .add("key", org.apache.spark.sql.types.DataTypes.LongType, false)
                .add("sentence", org.apache.spark.sql.types.DataTypes.StringType, true);
        spark.createDataFrame(input, schema).repartition(3).write().parquet(in);
        String out = dir.resolve("out.parquet").toString();
        var spec = new EmbeddingJob.Spec(in, CorpusReaders.Format.PARQUET, out, EmbeddingJob.OutputFormat.PARQUET, "key", "sentence", 2,
                EmbeddingOptions.defaults().withBatch(8));
        EmbeddingJob.Summary s = EmbeddingJob.run(spark, spec);
        assertEquals(30, s.rows());
        assertEquals(1, s.errors());

        Map<Long, Row> byId = spark.read().parquet(out).collectAsList().stream()
                .collect(Collectors.toMap(r -> ((Number) r.getAs("id")).longValue(), r -> r));
        assertEquals(30, byId.size(), "every id once");
        assertEquals("null text", byId.get(1000L + 7L * 11).getAs("error"));
        float[][] expected = Offline.embed(texts, null);
        for (int i = 0; i < texts.size(); i++) {
            if (i == 11) continue;
            Row r = byId.get(1000L + 7L * i);
            assertEquals(texts.get(i), r.getAs("text"));
            float[] got = EmbeddingChecks.floats(r.getAs("embedding"));
            for (int c = 0; c < got.length; c++) assertEquals(expected[i][c], got[c], 1e-5f, "row " + i + " component " + c);
        }
    }

    @Test
    void aTaskThatFailsMidPartitionIsRetriedAndEveryIdIsWrittenOnce() throws Exception {
        Path dir = TestSessions.scratch("retry");
        List<String> texts = Corpus.sentences(40, 2);
        Path in = EmbeddingChecks.textFile(dir, texts, Set.of());
        String out = dir.resolve("out.parquet").toString();
        FailedTasks failures = new FailedTasks();
        spark.sparkContext().addSparkListener(failures);
        try {
            Dataset<Row> lines = CorpusReaders.text(spark, in.toString(), 3);
            // The first attempt of partition 1 dies after 10 rows: by then the writer has already written two batches of 4.
            Dataset<Row> flaky = lines.mapPartitions(FirstAttemptFault.fail(1, 10), Encoders.row(lines.schema()));
            EmbeddingJob.write(CorpusEmbedding.embed(flaky, "id", "text", EmbeddingOptions.defaults().withBatch(4)), out, EmbeddingJob.OutputFormat.PARQUET);
            awaitFailure(failures);
        } finally {
            spark.sparkContext().removeSparkListener(failures);
        }
        EmbeddingChecks.assertMatchesOffline(spark.read().parquet(out).collectAsList(), texts, Set.of(), null);
    }

    static void awaitFailure(FailedTasks failures) throws InterruptedException {
        for (int i = 0; i < 100 && failures.failed.get() == 0; i++) Thread.sleep(50);
        assertTrue(failures.failed.get() >= 1, "the injected failure happened");
    }

    @Test
    void theTaskClosureCarriesNoModel() throws IOException {
        var f = new CorpusEmbedding.EmbedPartition(EmbeddingOptions.defaults(), 0, 1, 2, null);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream o = new ObjectOutputStream(bytes)) {
            o.writeObject(f);
        }
        assertTrue(bytes.size() < 2_000, "serialised closure: " + bytes.size() + " bytes");
    }

    @Test
    void badArgumentsAreNamed() throws IOException {
        Dataset<Row> df = spark.createDataFrame(List.of(new Doc(1, "x")), Doc.class);
        var e = assertThrows(IllegalArgumentException.class, () -> CorpusEmbedding.embed(df, "id", "body", EmbeddingOptions.defaults()));
        assertTrue(e.getMessage().startsWith("text column: expected one of ["), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> CorpusEmbedding.embed(df, "id", "id", EmbeddingOptions.defaults()));
        assertEquals("text column: expected 'id' to be a string column, got bigint", e2.getMessage());
        Path dir = TestSessions.scratch("exists");
        var spec = new EmbeddingJob.Spec(dir.resolve("none.txt").toString(), CorpusReaders.Format.TEXT, dir.toString(),
                EmbeddingJob.OutputFormat.PARQUET, "id", "text", 0, EmbeddingOptions.defaults());
        var e3 = assertThrows(IllegalArgumentException.class, () -> EmbeddingJob.run(spark, spec));
        assertTrue(e3.getMessage().startsWith("output: ") && e3.getMessage().endsWith("already exists (nothing was written)"), e3.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EmbeddingOptions.defaults().withBatch(0));
        assertFalse(Files.exists(dir.resolve("none.txt")));
    }

    /** A bean for createDataFrame. */
    public static final class Doc implements java.io.Serializable {
        private long id;
        private String text;

        public Doc() {}

        Doc(long id, String text) {
            this.id = id;
            this.text = text;
        }

        public long getId() { return id; }
        public void setId(long id) { this.id = id; }
        public String getText() { return text; }
        public void setText(String text) { this.text = text; }
    }
}
