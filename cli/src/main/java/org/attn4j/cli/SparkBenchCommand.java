package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.io.Npy;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.embed.Embedder;
import org.attn4j.spark.Traffic;
import org.attn4j.spark.attention.DistributedAttention;
import org.attn4j.spark.embed.CorpusReaders;
import org.attn4j.spark.embed.EmbeddingJob;
import org.attn4j.spark.embed.EmbeddingOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code attn4j spark bench}: Spark against one process, measured side by side in one run. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Side-by-side measurements of the Spark jobs against one process.",
        subcommands = {SparkBenchCommand.Embed.class, SparkBenchCommand.Sdpa.class})
final class SparkBenchCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    private static final String[] WORDS = ("the of and a to in is was for on that with as by at from his her it an were which are this be also "
            + "had first one their its new after who they two have been has more other into all time when only may some city year during "
            + "between would about such then these over before used many most school under while where later three world people state "
            + "attention transformer sequence executor partition embedding cluster distributed").split(" ");

    /** Synthetic sentences of {@code words} words each (about 1.3 tokens per word with MiniLM's vocabulary). */
    static List<String> corpus(int n, int words, long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            for (int w = 0; w < words; w++) sb.append(w == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
            out.add(sb.append('.').toString());
        }
        return out;
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }

    @Command(name = "embed", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Embeds a synthetic corpus with one in-process embedder (as `attn4j embed --threads T`) and with Spark",
                    "on each --master, interleaved, in rounds. Spark's rate counts from the first task of the embedding job;",
                    "session start-up and executor start with model loading (a warm-up job) are reported apart."})
    static final class Embed implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--texts", defaultValue = "20000", description = "texts (default: ${DEFAULT-VALUE})") int texts;
        @Option(names = "--words", defaultValue = "56", description = "words per text (default: ${DEFAULT-VALUE}, about 64 tokens)") int words;
        @Option(names = "--threads", defaultValue = "2", description = "threads of the one-process embedder (default: ${DEFAULT-VALUE})") int threads;
        @Option(names = "--batch", defaultValue = "64", description = "texts per forward pass, both sides (default: ${DEFAULT-VALUE})") int batch;
        @Option(names = "--master", defaultValue = "local[2]", description = "Spark master to compare; repeat for several (default: ${DEFAULT-VALUE})") List<String> masters;
        @Option(names = "--rounds", defaultValue = "1", description = "rounds of all contenders (default: ${DEFAULT-VALUE})") int rounds;
        @Option(names = "--work", defaultValue = "target/spark-bench", description = "scratch directory (default: ${DEFAULT-VALUE})") Path work;

        @Override
        public Integer call() throws IOException, InterruptedException {
            if (texts < 1 || words < 1 || threads < 1 || batch < 1 || rounds < 1) throw new IllegalArgumentException("--texts, --words, --threads, --batch, --rounds: expected >= 1");
            PrintWriter o = spec.commandLine().getOut();
            List<String> corpus = corpus(texts, words, 42);
            Files.createDirectories(work);
            Path input = work.resolve("corpus.txt");
            Files.writeString(input, String.join("\n", corpus) + "\n", StandardCharsets.UTF_8);
            Embedder offline = Embedder.load(Embedder.MINILM).withThreads(threads).withBatchSize(batch);
            long tokens = 0;
            for (String t : corpus) tokens += offline.tokenizer().encode(t, offline.maxTokens()).length();
            o.printf(Locale.ROOT, "corpus: %d texts, %.1f tokens per text on average; %d cores%n", texts, tokens / (double) texts, Runtime.getRuntime().availableProcessors());
            offline.embed(corpus.subList(0, Math.min(texts, 4 * batch))); // warm-up
            for (int round = 1; round <= rounds; round++) {
                long cpu0 = processCpuNanos(), gc0 = gcMillis();
                long t0 = System.nanoTime();
                for (int from = 0; from < texts; from += batch) offline.run(corpus.subList(from, Math.min(texts, from + batch)));
                double offSec = (System.nanoTime() - t0) / 1e9;
                double offCpu = (processCpuNanos() - cpu0) / 1e9;
                o.printf(Locale.ROOT, "round %d  one process, %d threads: %.1f s, %.0f texts/s, %.0f tokens/s; CPU %.1f s (%.1f ms/ktok), GC %.1f s%n",
                        round, threads, offSec, texts / offSec, tokens / offSec, offCpu, offCpu * 1e6 / tokens, (gcMillis() - gc0) / 1e3);
                o.flush();
                for (String master : masters) {
                    long s0 = System.nanoTime();
                    SparkSession spark = SparkCommand.session(master, "attn4j bench embed");
                    try {
                        double startup = (System.nanoTime() - s0) / 1e9;
                        int cores = spark.sparkContext().defaultParallelism();
                        // Warm-up job: every executor loads the model once (and compiles its hot code) before the timed job.
                        Path warmOut = work.resolve("warm-out");
                        deleteTree(warmOut);
                        Path warmIn = work.resolve("warm.txt");
                        // As many texts per task as the one-process warm-up (4 batches), so every executor JVM has compiled
                        // the hot loops before the timed job, as the one process had.
                        Files.writeString(warmIn, String.join("\n", corpus.subList(0, Math.min(texts, 4 * batch * cores))) + "\n");
                        long w0 = System.nanoTime();
                        EmbeddingJob.run(spark, new EmbeddingJob.Spec(warmIn.toString(), CorpusReaders.Format.TEXT, warmOut.toString(),
                                EmbeddingJob.OutputFormat.PARQUET, "id", "text", cores, new EmbeddingOptions(Embedder.MINILM, batch, null, 1)));
                        double warm = (System.nanoTime() - w0) / 1e9;
                        Path out = work.resolve("out");
                        deleteTree(out);
                        TaskCpu cpu = new TaskCpu();
                        spark.sparkContext().addSparkListener(cpu);
                        EmbeddingJob.Summary s;
                        try {
                            s = EmbeddingJob.run(spark, new EmbeddingJob.Spec(input.toString(), CorpusReaders.Format.TEXT, out.toString(),
                                    EmbeddingJob.OutputFormat.PARQUET, "id", "text", 4 * cores, new EmbeddingOptions(Embedder.MINILM, batch, null, 1)));
                        } finally {
                            spark.sparkContext().removeSparkListener(cpu);
                        }
                        // Listener events arrive asynchronously: wait (at most 5 s) for every task's end.
                        for (int i = 0; i < 100 && cpu.tasks.get() < 4L * cores; i++) Thread.sleep(50);
                        double taskCpu = cpu.cpuNanos.get() / 1e9;
                        o.printf(Locale.ROOT, "round %d  spark %s: start-up %.1f s, warm-up job (model loads) %.1f s, job %.1f s from its first task: "
                                        + "%.0f texts/s, %.0f tokens/s = %.2fx one process; task CPU %.1f s (%.1f ms/ktok), task run time %.1f s, GC %.1f s, %d tasks%n",
                                round, master, startup, warm, s.taskSeconds(), s.rowsPerSecond(), s.tokensPerSecond(), s.tokensPerSecond() / (tokens / offSec),
                                taskCpu, taskCpu * 1e6 / Math.max(1, s.tokens()), cpu.runMillis.get() / 1e3, cpu.gcMillis.get() / 1e3, cpu.tasks.get());
                        o.flush();
                    } finally {
                        spark.stop();
                    }
                }
            }
            return 0;
        }
    }

    /** CPU time of this whole process (all threads, JIT and GC included), in nanoseconds. */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** Collection time of this JVM so far, all collectors, in milliseconds. */
    static long gcMillis() {
        long t = 0;
        for (GarbageCollectorMXBean g : ManagementFactory.getGarbageCollectorMXBeans()) t += Math.max(0, g.getCollectionTime());
        return t;
    }

    /**
     * Sums Spark's own task metrics over the tasks that end while it listens: CPU time of the task
     * threads (reading, embedding, writing; not the executors' JIT or GC threads), run time and GC time.
     */
    static final class TaskCpu extends SparkListener {
        final AtomicLong cpuNanos = new AtomicLong(), runMillis = new AtomicLong(), gcMillis = new AtomicLong(), tasks = new AtomicLong();

        @Override
        public void onTaskEnd(SparkListenerTaskEnd e) {
            if (e.taskMetrics() == null || !e.taskInfo().successful()) return;
            cpuNanos.addAndGet(e.taskMetrics().executorCpuTime());
            runMillis.addAndGet(e.taskMetrics().executorRunTime());
            gcMillis.addAndGet(e.taskMetrics().jvmGCTime());
            tasks.incrementAndGet();
        }
    }

    @Command(name = "sdpa", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Exact attention over N keys in S shards with Spark, against one process's Attention.sdpa on the same data:",
                    "time (second run, after a warm-up run), bytes moved, and the largest relative difference."})
    static final class Sdpa implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--n", defaultValue = "65536", description = "keys (default: ${DEFAULT-VALUE})") int n;
        @Option(names = "--d", defaultValue = "64", description = "head dimension (default: ${DEFAULT-VALUE})") int d;
        @Option(names = "--nq", defaultValue = "128", description = "queries (default: ${DEFAULT-VALUE})") int nq;
        @Option(names = "--heads", defaultValue = "1", description = "heads (default: ${DEFAULT-VALUE})") int heads;
        @Option(names = "--shards", defaultValue = "8", description = "shards (default: ${DEFAULT-VALUE})") int shards;
        @Option(names = "--causal", description = "bottom-right causal mask") boolean causal;
        @Option(names = "--master", defaultValue = "local[2]", description = "Spark master (default: ${DEFAULT-VALUE})") String master;
        @Option(names = "--threads", defaultValue = "2", description = "threads of the one-process run (default: ${DEFAULT-VALUE})") int threads;
        @Option(names = "--work", defaultValue = "target/spark-bench", description = "scratch directory for K.npy and V.npy (default: ${DEFAULT-VALUE})") Path work;

        @Override
        public Integer call() throws IOException, InterruptedException {
            if (n < 1 || d < 1 || nq < 1 || heads < 1 || threads < 1) throw new IllegalArgumentException("--n, --d, --nq, --heads, --threads: expected >= 1");
            PrintWriter o = spec.commandLine().getOut();
            Random r = new Random(7);
            Tensor q = gaussian(r, 1, heads, nq, d), k = gaussian(r, 1, heads, n, d), v = gaussian(r, 1, heads, n, d);
            Files.createDirectories(work);
            Path kf = work.resolve("K.npy"), vf = work.resolve("V.npy");
            Npy.write(kf, k);
            Npy.write(vf, v);
            AttentionSpec.Builder sb = AttentionSpec.builder();
            if (causal) sb.causal(org.attn4j.core.mask.CausalAlignment.BOTTOM_RIGHT);
            AttentionSpec spec1 = sb.threads(threads).build(), specS = sb.threads(1).build();
            Attention.sdpa(q, k, v, spec1); // warm-up
            long t0 = System.nanoTime();
            AttentionResult one = Attention.sdpa(q, k, v, spec1);
            double oneSec = (System.nanoTime() - t0) / 1e9;
            SparkSession spark = SparkCommand.session(master, "attn4j bench sdpa");
            try {
                var rdd = DistributedAttention.shardsFromNpy(spark, kf.toAbsolutePath().toString(), vf.toAbsolutePath().toString(), shards).cache();
                rdd.count(); // executors read their shards once; the timed runs start from data in place
                DistributedAttention.sdpa(spark, q, rdd, specS); // warm-up
                Traffic traffic = new Traffic();
                spark.sparkContext().addSparkListener(traffic);
                long s0 = System.nanoTime();
                AttentionResult dist = DistributedAttention.sdpa(spark, q, rdd, specS);
                double distSec = (System.nanoTime() - s0) / 1e9;
                traffic.await(shards, 3000);
                float[] a = one.output().toArray(), b = dist.output().toArray();
                double[] exact = exact(q, k, v, causal);
                double err = 0, scale = 0, errOne = 0, errDist = 0;
                for (int i = 0; i < a.length; i++) {
                    err = Math.max(err, Math.abs(a[i] - b[i]));
                    scale = Math.max(scale, Math.abs(exact[i]));
                    errOne = Math.max(errOne, Math.abs(a[i] - exact[i]));
                    errDist = Math.max(errDist, Math.abs(b[i] - exact[i]));
                }
                long kvBytes = 2L * heads * n * d * 4, partialBytes = (long) heads * nq * (d + 2) * 4;
                o.printf(Locale.ROOT, "keys %d, D %d, queries %d, heads %d, %d shards, master %s%n", n, d, nq, heads, shards, master);
                o.printf(Locale.ROOT, "one process (%d threads): %.3f s;  spark: %.3f s (%.2fx)%n", threads, oneSec, distSec, oneSec / distSec);
                o.printf(Locale.ROOT, "max |spark - one process| / max |output| = %.2e; against float64: one process %.2e, spark %.2e%n",
                        err / scale, errOne / scale, errDist / scale);
                o.printf(Locale.ROOT, "moved: queries broadcast %d bytes; task results %d bytes over %d tasks (one partial = %d bytes); shuffle %d bytes; "
                                + "K and V stay on the executors (%d bytes)%n", q.size() * 4, traffic.resultBytes.get(), traffic.tasks.get(),
                        partialBytes, traffic.shuffleWriteBytes.get(), kvBytes);
                o.flush();
                return 0;
            } finally {
                spark.stop();
            }
        }

        /** Attention in float64, row by row (B = 1): the yardstick both fp32 answers are measured against. */
        private static double[] exact(Tensor q, Tensor k, Tensor v, boolean causal) {
            int h = q.dim(1), nq = q.dim(2), d = q.dim(3), n = k.dim(2);
            double[] out = new double[h * nq * d], s = new double[n];
            float[] qd = q.toArray(), kd = k.toArray(), vd = v.toArray();
            double scale = 1 / Math.sqrt(d);
            for (int hh = 0; hh < h; hh++) {
                for (int i = 0; i < nq; i++) {
                    int visible = causal ? Math.min(n, i + n - nq + 1) : n;
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < visible; j++) {
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += (double) qd[(hh * nq + i) * d + c] * kd[(hh * n + j) * d + c];
                        s[j] = dot * scale;
                        max = Math.max(max, s[j]);
                    }
                    for (int j = 0; j < visible; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j < visible; j++) {
                        double p = s[j] / sum;
                        for (int c = 0; c < d; c++) out[(hh * nq + i) * d + c] += p * vd[(hh * n + j) * d + c];
                    }
                }
            }
            return out;
        }

        private static Tensor gaussian(Random r, int... shape) {
            int size = 1;
            for (int s : shape) size *= s;
            float[] x = new float[size];
            for (int i = 0; i < size; i++) x[i] = (float) r.nextGaussian();
            return Tensor.of(x, shape);
        }
    }
}
