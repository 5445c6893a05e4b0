package org.attn4j.spark;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.io.Npy;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.spark.attention.DistributedAttention;
import org.attn4j.spark.embed.CorpusReaders;
import org.attn4j.spark.embed.EmbeddingJob;
import org.attn4j.spark.embed.EmbeddingOptions;

/**
 * The assembly jar's entry point for {@code spark-submit} (the master and resources come from
 * spark-submit; paths are the cluster's, e.g. hdfs:// or s3a://):
 * <pre>
 * spark-submit --class org.attn4j.spark.SubmitMain attn4j-spark-assembly.jar embed --input IN --output OUT
 *     [--model NAME|PATH] [--format parquet|jsonl] [--input-format text|jsonl|parquet] [--text-column text]
 *     [--id-column id] [--batch 64] [--partitions N] [--max-tokens N]
 * spark-submit --class org.attn4j.spark.SubmitMain attn4j-spark-assembly.jar sdpa --q Q.npy --k K.npy --v V.npy
 *     --out O.npy [--shards 8] [--causal top-left|bottom-right]
 * </pre>
 * ({@code sdpa} reads Q on the driver and writes O there; K and V must be readable at the same local
 * path on every executor.)
 */
public final class SubmitMain {
    private SubmitMain() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !Set.of("embed", "sdpa").contains(args[0])) {
            throw new IllegalArgumentException("command: expected embed or sdpa as the first argument, got " + (args.length == 0 ? "nothing" : "'" + args[0] + "'"));
        }
        Map<String, String> o = options(args, args[0].equals("embed")
                ? Set.of("--input", "--output", "--model", "--format", "--input-format", "--text-column", "--id-column", "--batch", "--partitions", "--max-tokens")
                : Set.of("--q", "--k", "--v", "--out", "--shards", "--causal"));
        SparkSession spark = SparkSession.builder().appName("attn4j " + args[0]).getOrCreate();
        try {
            if (args[0].equals("embed")) {
                String in = required(o, "--input");
                var spec = new EmbeddingJob.Spec(in, CorpusReaders.Format.of(o.get("--input-format"), in), required(o, "--output"),
                        EmbeddingJob.OutputFormat.of(o.getOrDefault("--format", "parquet")), o.getOrDefault("--id-column", "id"),
                        o.getOrDefault("--text-column", "text"), Integer.parseInt(o.getOrDefault("--partitions", "0")),
                        new EmbeddingOptions(o.getOrDefault("--model", EmbeddingOptions.defaults().model()), Integer.parseInt(o.getOrDefault("--batch", "64")),
                                o.containsKey("--max-tokens") ? Integer.valueOf(o.get("--max-tokens")) : null, 1));
                System.out.println("attn4j spark: " + EmbeddingJob.run(spark, spec).line(spec.output()));
            } else {
                AttentionSpec.Builder b = AttentionSpec.builder().threads(1);
                if (o.containsKey("--causal")) b.causal(o.get("--causal").equals("top-left") ? CausalAlignment.TOP_LEFT : CausalAlignment.BOTTOM_RIGHT);
                int shards = Integer.parseInt(o.getOrDefault("--shards", "8"));
                var q = Npy.readFloat(java.nio.file.Path.of(required(o, "--q")));
                AttentionResult r = DistributedAttention.sdpa(spark, q,
                        DistributedAttention.shardsFromNpy(spark, required(o, "--k"), required(o, "--v"), shards), b.build());
                Npy.write(java.nio.file.Path.of(required(o, "--out")), r.output());
                System.out.printf(Locale.ROOT, "attn4j spark: sdpa over %d shards -> %s%n", shards, o.get("--out"));
            }
        } finally {
            spark.stop();
        }
    }

    private static Map<String, String> options(String[] args, Set<String> known) {
        Map<String, String> m = new HashMap<>();
        for (int i = 1; i < args.length; i += 2) {
            if (!known.contains(args[i])) throw new IllegalArgumentException("option: expected one of " + List.copyOf(known) + ", got '" + args[i] + "'");
            if (i + 1 >= args.length) throw new IllegalArgumentException(args[i] + ": expected a value, got none");
            m.put(args[i], args[i + 1]);
        }
        return m;
    }

    private static String required(Map<String, String> o, String name) {
        String v = o.get(name);
        if (v == null) throw new IllegalArgumentException(name + ": required, got none");
        return v;
    }
}
