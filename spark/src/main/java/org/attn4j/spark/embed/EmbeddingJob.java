package org.attn4j.spark.embed;

import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * The whole corpus job: read, embed, write, summarise. The output is written through Spark's file
 * committer (task attempts write to temporary files, only each task's one successful attempt is
 * committed), so retried or speculative tasks leave each id exactly once; if the job fails, an
 * output directory it created is removed.
 */
public final class EmbeddingJob {
    private EmbeddingJob() {}

    /** Output formats: Parquet, or JSON lines (one part file per partition, as Spark writes them). */
    public enum OutputFormat { PARQUET, JSONL;
        public static OutputFormat of(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "parquet" -> PARQUET;
                case "jsonl", "json" -> JSONL;
                default -> throw new IllegalArgumentException("format: expected parquet or jsonl, got '" + name + "'");
            };
        }
    }

    /** A job: where from, where to, which columns, how many partitions (0 = as read), how to embed. */
    public record Spec(String input, CorpusReaders.Format inputFormat, String output, OutputFormat outputFormat,
                       String idColumn, String textColumn, int partitions, EmbeddingOptions options) {
        public Spec {
            if (input == null || input.isBlank()) throw new IllegalArgumentException("input: expected a path, got '" + input + "'");
            if (output == null || output.isBlank()) throw new IllegalArgumentException("output: expected a path, got '" + output + "'");
            if (partitions < 0) throw new IllegalArgumentException("partitions: expected >= 1 (or 0 for as read), got " + partitions);
        }
    }

    /**
     * What a run did. {@code taskSeconds} runs from the embedding job's first task start to the end
     * of the write; {@code wallSeconds} is the whole {@link #run} call.
     */
    public record Summary(long rows, long errors, long tokens, double taskSeconds, double wallSeconds) {
        public double tokensPerSecond() { return tokens / Math.max(taskSeconds, 1e-9); }
        public double rowsPerSecond() { return rows / Math.max(taskSeconds, 1e-9); }

        /** The one-line summary the command prints. */
        public String line(String output) {
            return String.format(Locale.ROOT, "embedded %d rows (%d errors), %d tokens in %.1f s from the first task (%.0f tokens/s, %.0f rows/s), wall %.1f s -> %s",
                    rows, errors, tokens, taskSeconds, tokensPerSecond(), rowsPerSecond(), wallSeconds, output);
        }
    }

    /** The dataset the job would write (read, repartitioned if asked, embedded), with its counters. */
    public static Dataset<Row> plan(SparkSession spark, Spec spec, CorpusEmbedding.Counters counters) {
        Dataset<Row> in = CorpusReaders.read(spark, spec.input(), spec.inputFormat(), Math.max(1, spec.partitions()));
        if (spec.partitions() > 0 && in.rdd().getNumPartitions() != spec.partitions()) in = in.repartition(spec.partitions());
        return CorpusEmbedding.embed(in, spec.idColumn(), spec.textColumn(), spec.options(), counters);
    }

    /** Runs {@code spec} to completion, or fails leaving no output directory it created. */
    public static Summary run(SparkSession spark, Spec spec) throws IOException {
        long start = System.nanoTime();
        var sc = spark.sparkContext();
        CorpusEmbedding.Counters counters = new CorpusEmbedding.Counters(sc.longAccumulator("attn4j.rows"),
                sc.longAccumulator("attn4j.errors"), sc.longAccumulator("attn4j.tokens"));
        Path out = new Path(spec.output());
        FileSystem fs = out.getFileSystem(sc.hadoopConfiguration());
        if (fs.exists(out)) throw new IllegalArgumentException("output: " + spec.output() + " already exists (nothing was written)");
        Dataset<Row> embedded = plan(spark, spec, counters);
        FirstTask first = new FirstTask();
        sc.addSparkListener(first);
        try {
            write(embedded, spec.output(), spec.outputFormat());
        } catch (RuntimeException e) {
            if (fs.exists(out)) fs.delete(out, true);
            throw e;
        } finally {
            sc.removeSparkListener(first);
        }
        long end = System.currentTimeMillis();
        double taskSeconds = first.launchMillis.get() == Long.MAX_VALUE ? 0 : (end - first.launchMillis.get()) / 1e3;
        return new Summary(counters.rows().value(), counters.errors().value(), counters.tokens().value(), taskSeconds,
                (System.nanoTime() - start) / 1e9);
    }

    /** Writes an embedded dataset through Spark's committer; fails if {@code output} exists. */
    public static void write(Dataset<Row> embedded, String output, OutputFormat format) {
        var w = embedded.write().mode(SaveMode.ErrorIfExists);
        if (format == OutputFormat.PARQUET) w.parquet(output);
        else w.json(output);
    }

    /** Earliest task launch time the driver saw (its clock, milliseconds). */
    private static final class FirstTask extends SparkListener {
        final AtomicLong launchMillis = new AtomicLong(Long.MAX_VALUE);

        @Override
        public void onTaskStart(SparkListenerTaskStart e) {
            launchMillis.accumulateAndGet(e.taskInfo().launchTime(), Math::min);
        }
    }
}
