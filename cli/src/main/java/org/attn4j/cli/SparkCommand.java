package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.io.Npy;
import org.attn4j.models.embed.Embedder;
import org.attn4j.spark.SparkSetup;
import org.attn4j.spark.Traffic;
import org.attn4j.spark.attention.DistributedAttention;
import org.attn4j.spark.embed.CorpusReaders;
import org.attn4j.spark.embed.EmbeddingJob;
import org.attn4j.spark.embed.EmbeddingOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code attn4j spark}: corpus embedding and sharded exact attention as Spark jobs. */
@Command(name = "spark", mixinStandardHelpOptions = true,
        description = {"attn4j on Apache Spark 4.2 (local[*] by default; local-cluster[N,C,MB] runs executors as separate JVMs).",
                "For a real cluster submit the spark module's assembly jar with spark-submit (see docs/spark.md)."},
        subcommands = {SparkCommand.Embed.class, SparkCommand.Sdpa.class, SparkBenchCommand.class})
final class SparkCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * A session for {@code master}. local-cluster executors are started from this process's class path
     * and need SPARK_HOME (a directory with a jars/ folder; the launcher provides one).
     */
    static SparkSession session(String master, String app) {
        SparkSession.Builder b = SparkSetup.builder(master, app);
        int executors = SparkSetup.localClusterExecutors(master);
        if (executors > 0) {
            String home = System.getenv("SPARK_HOME");
            if (home == null || !Files.isDirectory(Path.of(home, "jars"))) {
                throw new IllegalArgumentException("--master " + master + ": needs SPARK_HOME set to a directory with a jars/ folder (./attn4j sets one), got "
                        + (home == null ? "none" : home));
            }
            b.config("spark.executor.extraClassPath", System.getProperty("java.class.path"));
            // local-cluster's MB is the worker's memory; without this each executor would get Spark's default 1 GB heap.
            if (System.getProperty("spark.executor.memory") == null) b.config("spark.executor.memory", SparkSetup.localClusterExecutorMemory(master));
        }
        SparkSession spark = b.getOrCreate();
        if (executors > 0) SparkSetup.awaitExecutors(spark, executors, Duration.ofMinutes(3));
        return spark;
    }

    @Command(name = "embed", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Sentence embeddings of a corpus as a Spark job: text files (one text per line, id = line number from 0),",
                    "JSON lines or Parquet in; Parquet or JSON lines out (id, text, embedding, tokens, truncated, error).",
                    "Rows with a null text or invalid UTF-8 are kept with an error and counted, never dropped."})
    static final class Embed implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--input", required = true, paramLabel = "PATH", description = "text file, .jsonl or .parquet (file or directory)") String input;
        @Option(names = "--output", required = true, paramLabel = "PATH", description = "output directory (must not exist)") String output;
        @Option(names = "--model", paramLabel = "NAME|PATH", defaultValue = Embedder.MINILM, description = "all-minilm-l6-v2 (default), bge-small-en-v1.5, an .onnx file or a safetensors directory every executor can read") String model;
        @Option(names = "--master", paramLabel = "URL", defaultValue = "local[*]", description = "local[*] (default), local[N,F], local-cluster[N,C,MB], spark://host:port") String master;
        @Option(names = "--input-format", paramLabel = "FMT", description = "text, jsonl or parquet (default: from the extension; text otherwise)") String inputFormat;
        @Option(names = "--format", paramLabel = "FMT", defaultValue = "parquet", description = "output format: parquet (default) or jsonl") String format;
        @Option(names = "--text-column", paramLabel = "NAME", defaultValue = "text", description = "the text column of JSONL/Parquet input (default: ${DEFAULT-VALUE})") String textColumn;
        @Option(names = "--id-column", paramLabel = "NAME", defaultValue = "id", description = "the id column of JSONL/Parquet input (default: ${DEFAULT-VALUE})") String idColumn;
        @Option(names = "--batch", paramLabel = "N", defaultValue = "64", description = "texts per forward pass (default: ${DEFAULT-VALUE})") int batch;
        @Option(names = "--partitions", paramLabel = "N", defaultValue = "0", description = "partitions (default: as read; text input: at least the default parallelism)") int partitions;
        @Option(names = "--max-tokens", paramLabel = "N", description = "truncate inputs to N tokens, [CLS]/[SEP] included (default: the model's limit)") Integer maxTokens;
        @Option(names = "--threads-per-task", paramLabel = "T", defaultValue = "1", description = "worker threads per Spark task (default: ${DEFAULT-VALUE}; Spark runs one task per core)") int threadsPerTask;

        @Override
        public Integer call() throws IOException {
            if (batch < 1) throw new IllegalArgumentException("--batch: expected >= 1, got " + batch);
            if (partitions < 0) throw new IllegalArgumentException("--partitions: expected >= 1, got " + partitions);
            if (threadsPerTask < 1) throw new IllegalArgumentException("--threads-per-task: expected >= 1, got " + threadsPerTask);
            if (maxTokens != null && maxTokens < 2) throw new IllegalArgumentException("--max-tokens: expected >= 2, got " + maxTokens);
            EmbeddingJob.OutputFormat out;
            CorpusReaders.Format in;
            try {
                out = EmbeddingJob.OutputFormat.of(format);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--" + e.getMessage());
            }
            try {
                in = CorpusReaders.Format.of(inputFormat, input);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--input-format: " + e.getMessage().replaceFirst("^input format: ", ""));
            }
            if (!input.contains("://") && !Files.exists(Path.of(input))) throw new IllegalArgumentException("--input: " + input + " does not exist");
            if (!output.contains("://") && Files.exists(Path.of(output))) throw new IllegalArgumentException("--output: " + output + " already exists (nothing was written)");
            EmbeddingOptions options = new EmbeddingOptions(model, batch, maxTokens, threadsPerTask);
            long t0 = System.nanoTime();
            SparkSession spark = session(master, "attn4j embed");
            try {
                int parts = partitions > 0 ? partitions : in == CorpusReaders.Format.TEXT ? spark.sparkContext().defaultParallelism() : 0;
                double startup = (System.nanoTime() - t0) / 1e9;
                var job = new EmbeddingJob.Spec(input, in, output, out, idColumn, textColumn, parts, options);
                EmbeddingJob.Summary s = EmbeddingJob.run(spark, job);
                PrintWriter o = spec.commandLine().getOut();
                o.println("attn4j spark: " + s.line(output) + String.format(Locale.ROOT, " (Spark start-up %.1f s, master %s)", startup, master));
                o.flush();
                return 0;
            } finally {
                spark.stop();
            }
        }
    }

    @Command(name = "sdpa", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Exact attention with the keys and values split into shards across executors (tree attention):",
                    "each task computes a partial softmax over its shard, Spark's treeAggregate merges them; equal to `attn4j sdpa`.",
                    "Executors read their key range from --k/--v themselves: the files must be readable at the same path everywhere."})
    static final class Sdpa implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--q", required = true, paramLabel = "Q.npy", description = "queries [B, Hq, Nq, D] (read by the driver, broadcast)") Path q;
        @Option(names = "--k", required = true, paramLabel = "K.npy", description = "keys [B, Hkv, Nk, D]") Path k;
        @Option(names = "--v", required = true, paramLabel = "V.npy", description = "values [B, Hkv, Nk, Dv]") Path v;
        @Option(names = "--shards", paramLabel = "S", defaultValue = "8", description = "key shards (default: ${DEFAULT-VALUE})") int shards;
        @Option(names = "--out", required = true, paramLabel = "O.npy", description = "output [B, Hq, Nq, Dv] float32") Path out;
        @Option(names = "--lse", paramLabel = "LSE.npy", description = "also write log-sum-exp [B, Hq, Nq]") Path lse;
        @Option(names = "--master", paramLabel = "URL", defaultValue = "local[*]", description = "local[*] (default), local-cluster[N,C,MB], spark://host:port") String master;
        @Option(names = "--causal", paramLabel = "ALIGN", description = "top-left or bottom-right") String causal;
        @Option(names = "--window", paramLabel = "L,R", description = "sliding window around the bottom-right diagonal; 'inf' for an unbounded side") String window;
        @Option(names = "--alibi", description = "ALiBi with slopes 2^(-8h/H)") boolean alibi;
        @Option(names = "--softcap", paramLabel = "C", description = "logit soft-cap C*tanh(s/C)") Float softcap;
        @Option(names = "--scale", paramLabel = "S", description = "logit scale (default 1/sqrt(D))") Float scale;
        @Option(names = "--kv-lengths", paramLabel = "N,N,...", split = ",", description = "valid key count per batch entry") int[] kvLengths;
        @Option(names = "--threads-per-task", paramLabel = "T", defaultValue = "1", description = "kernel threads per Spark task (default: ${DEFAULT-VALUE})") int threadsPerTask;

        @Override
        public Integer call() throws IOException, InterruptedException {
            if (threadsPerTask < 1) throw new IllegalArgumentException("--threads-per-task: expected >= 1, got " + threadsPerTask);
            AttentionSpec.Builder b = AttentionSpec.builder().alibi(alibi).threads(threadsPerTask);
            if (causal != null) b.causal(SdpaCommand.parseCausal(causal));
            if (window != null) {
                int[] w = SdpaCommand.parseWindow(window);
                b.window(w[0], w[1]);
            }
            if (softcap != null) b.softcap(softcap);
            if (scale != null) b.scale(scale);
            if (kvLengths != null) b.kvLengths(kvLengths);
            var qt = SdpaCommand.read("--q", q);
            SdpaCommand.read("--k", k); // validates the file as the single-machine command does, before any executor starts
            if (!Files.isRegularFile(v)) throw new IllegalArgumentException("--v: file " + v + " does not exist");
            SparkSession spark = session(master, "attn4j sdpa");
            try {
                Traffic traffic = new Traffic();
                spark.sparkContext().addSparkListener(traffic);
                long t0 = System.nanoTime();
                var rdd = DistributedAttention.shardsFromNpy(spark, k.toAbsolutePath().toString(), v.toAbsolutePath().toString(), shards);
                AttentionResult r = DistributedAttention.sdpa(spark, qt, rdd, b.build());
                double seconds = (System.nanoTime() - t0) / 1e9;
                var files = new java.util.LinkedHashMap<Path, AtomicFiles.Content>();
                files.put(out, os -> Npy.write(os, r.output()));
                if (lse != null) files.put(lse, os -> Npy.write(os, r.lse()));
                AtomicFiles.writeAll(files);
                traffic.await(1, 2000);
                PrintWriter o = spec.commandLine().getOut();
                o.printf(Locale.ROOT, "attn4j spark: sdpa over %d shards in %.2f s; moved to the driver %d bytes of task results (query rows x Dv partials), "
                        + "%d bytes shuffled; query broadcast %d bytes -> %s%n", shards, seconds, traffic.resultBytes.get(),
                        traffic.shuffleWriteBytes.get(), qt.size() * 4, out);
                o.flush();
                return 0;
            } finally {
                spark.stop();
            }
        }
    }
}
