package org.attn4j.spark.attention;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionPartial;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.io.Npy;
import org.attn4j.core.tensor.Tensor;

/**
 * Exact attention over keys and values spread across executors (tree attention): the queries are
 * broadcast, every task computes {@link Attention#partial} over its shards with their global key
 * positions (so causal, window, ALiBi and key lengths mean what they mean on one machine), and the
 * partials, O(B·Hq·Nq·Dv) each whatever the shard's length, are combined with Spark's
 * {@code treeAggregate} using {@link AttentionPartial#merge}. The driver then finishes the softmax.
 */
public final class DistributedAttention {
    private DistributedAttention() {}

    /**
     * Output [B, Hq, Nq, Dv] and log-sum-exp [B, Hq, Nq] of attention of {@code q} [B, Hq, Nq, D]
     * over the keys in {@code kvShards}, which must tile {@code [0, totalKeys)} exactly once (checked).
     * Mask and bias tensors are not supported (see {@link SpecWire}); {@code spec.threads()} is per
     * task (0 = 1).
     */
    public static AttentionResult sdpa(SparkSession spark, Tensor q, JavaRDD<KvShard> kvShards, AttentionSpec spec) {
        if (q == null || q.rank() != 4) throw new IllegalArgumentException("q: expected rank 4 [B, Hq, Nq, D], got " + (q == null ? "null" : "rank " + q.rank()));
        SpecWire wire = SpecWire.of(spec);
        int[] qShape = q.shape();
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<float[]> qData = sc.broadcast(q.contiguous().toArray());
        try {
            int partitions = Math.max(1, kvShards.getNumPartitions());
            int depth = Math.max(2, (int) Math.ceil(Math.log(partitions) / Math.log(2)));
            PartialWire merged = kvShards.treeAggregate(PartialWire.empty(),
                    (acc, shard) -> acc.merge(partialOf(qData.value(), qShape, shard, wire)),
                    PartialWire::merge, depth);
            if (merged.isEmpty()) throw new IllegalArgumentException("kvShards: expected at least one shard, got none");
            int total = merged.totalKeys();
            if (!Arrays.equals(merged.ranges(), new int[] {0, total})) {
                throw new IllegalArgumentException("kvShards: expected shards covering keys [0, " + total + ") exactly once, got ranges "
                        + Arrays.toString(merged.ranges()));
            }
            return merged.partial().finish();
        } finally {
            qData.destroy();
        }
    }

    /**
     * {@code shards} key shards read by the executors themselves from {@code k} [B, Hkv, N, D] and
     * {@code v} [B, Hkv, N, Dv] .npy files at a path every executor can read (a shared or replicated
     * file system): only the file names travel, each task keeps its own key range.
     */
    public static JavaRDD<KvShard> shardsFromNpy(SparkSession spark, String k, String v, int shards) throws java.io.IOException {
        int[] kShape = Npy.readHeader(Path.of(k)).shape(), vShape = Npy.readHeader(Path.of(v)).shape();
        if (kShape.length != 4) throw new IllegalArgumentException("k: expected [B, Hkv, N, D], got " + Arrays.toString(kShape));
        if (vShape.length != 4 || vShape[0] != kShape[0] || vShape[1] != kShape[1] || vShape[2] != kShape[2]) {
            throw new IllegalArgumentException("v: expected [" + kShape[0] + ", " + kShape[1] + ", " + kShape[2] + ", Dv], got " + Arrays.toString(vShape));
        }
        int n = kShape[2];
        if (shards < 1 || shards > n) throw new IllegalArgumentException("shards: expected 1.." + n + " (one key at least per shard), got " + shards);
        List<int[]> ranges = new ArrayList<>();
        for (int s = 0; s < shards; s++) ranges.add(new int[] {(int) ((long) n * s / shards), (int) ((long) n * (s + 1) / shards)});
        JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        return sc.parallelize(ranges, shards).map(r -> KvShard.slice(Npy.readFloat(Path.of(k)), Npy.readFloat(Path.of(v)), r[0], r[1]));
    }

    private static PartialWire partialOf(float[] q, int[] qShape, KvShard s, SpecWire wire) {
        AttentionPartial p = Attention.partial(Tensor.of(q, qShape), s.keys(), s.values(), wire.spec(), s.keyOffset(), s.totalKeys());
        return PartialWire.of(p, s.keyOffset(), s.keyOffset() + s.length(), s.totalKeys());
    }
}
