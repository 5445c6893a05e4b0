package org.attn4j.spark.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.spark.TestSessions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Tree attention over shards in local mode: equal to one machine for any shard count and order. */
class DistributedAttentionTest {
    static SparkSession spark;

    @BeforeAll
    static void start() {
        spark = TestSessions.local("local[3]");
    }

    @AfterAll
    static void stop() {
        if (spark != null) spark.stop();
    }

    @Test
    void equalsOneMachineForEveryShardCountOrderAndMask() {
        Random r = new Random(14);
        int b = 2, hq = 4, hkv = 2, nq = 9, nk = 257, d = 16;
        Tensor q = AttentionCases.gaussian(r, b, hq, nq, d), k = AttentionCases.gaussian(r, b, hkv, nk, d), v = AttentionCases.gaussian(r, b, hkv, nk, d);
        List<AttentionSpec> specs = List.of(
                AttentionSpec.defaults(),
                AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).build(),
                AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).window(40, 0).alibi(true).build(),
                AttentionSpec.builder().alibiSlopes(0.5f, 0.25f, 0.125f, 0.0625f).kvLengths(200, 257).softcap(30f).scale(0.3f).build());
        int[][] shardsAndPartitions = {{1, 1}, {2, 2}, {5, 3}, {16, 3}, {16, 16}};
        long seed = 0;
        for (AttentionSpec spec : specs) {
            for (int[] sp : shardsAndPartitions) AttentionCases.assertSameAsOneMachine(spark, q, k, v, spec, sp[0], sp[1], seed++);
        }
    }

    @Test
    void rowsThatSeeNoKeyAreZeroNotNaN() {
        Random r = new Random(3);
        // Bottom-right causal with more queries than keys: the first 4 queries see nothing.
        Tensor q = AttentionCases.gaussian(r, 1, 2, 9, 8), k = AttentionCases.gaussian(r, 1, 2, 5, 8), v = AttentionCases.gaussian(r, 1, 2, 5, 8);
        AttentionSpec spec = AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).build();
        for (int shards = 1; shards <= 5; shards++) AttentionCases.assertSameAsOneMachine(spark, q, k, v, spec, shards, 2, shards);
        var out = DistributedAttention.sdpa(spark, q, AttentionCases.shuffled(spark, k, v, 3, 2, 1), spec).output();
        for (int c = 0; c < 8; c++) assertEquals(0f, out.get(0, 0, 0, c));
    }

    @Test
    void missingDuplicatedOrForeignShardsAreRefused() {
        Random r = new Random(5);
        Tensor q = AttentionCases.gaussian(r, 1, 1, 3, 4), k = AttentionCases.gaussian(r, 1, 1, 20, 4), v = AttentionCases.gaussian(r, 1, 1, 20, 4);
        var sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<KvShard> shards = KvShard.split(k, v, 4);
        List<KvShard> missing = new ArrayList<>(shards.subList(0, 3));
        var e = assertThrows(IllegalArgumentException.class, () -> DistributedAttention.sdpa(spark, q, sc.parallelize(missing, 2), AttentionSpec.defaults()));
        assertEquals("kvShards: expected shards covering keys [0, 20) exactly once, got ranges [0, 15]", e.getMessage());
        List<KvShard> twice = new ArrayList<>(shards);
        twice.add(shards.get(1));
        var e2 = assertThrows(IllegalArgumentException.class, () -> DistributedAttention.sdpa(spark, q, sc.parallelize(twice, 2), AttentionSpec.defaults()));
        assertTrue(e2.getMessage().startsWith("kvShards: expected shards covering keys [0, 20) exactly once"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> DistributedAttention.sdpa(spark, q, sc.parallelize(shards, 2),
                AttentionSpec.builder().mask(BoolTensor.of(new boolean[60], 1, 1, 3, 20)).build()));
        assertTrue(e3.getMessage().startsWith("spec.mask: "), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> KvShard.split(k, v, 21));
        assertEquals("shards: expected 1..20 (one key at least per shard), got 21", e4.getMessage());
    }
}
