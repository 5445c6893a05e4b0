package org.attn4j.spark.attention;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.tensor.Tensor;

/** Random problems and the comparison with single-machine attention, shared by local and separate-JVM tests. */
public final class AttentionCases {
    private AttentionCases() {}

    public static Tensor gaussian(Random r, int... shape) {
        int n = 1;
        for (int s : shape) n *= s;
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = (float) r.nextGaussian();
        return Tensor.of(d, shape);
    }

    /** Shards in a shuffled order spread over {@code partitions} partitions. */
    public static JavaRDD<KvShard> shuffled(SparkSession spark, Tensor k, Tensor v, int shards, int partitions, long seed) {
        List<KvShard> list = new ArrayList<>(KvShard.split(k, v, shards));
        Collections.shuffle(list, new Random(seed));
        return JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(list, partitions);
    }

    /** Distributed output and log-sum-exp equal {@link Attention#sdpa}'s to 1e-6 relative (max-norm); no NaN. */
    public static void assertSameAsOneMachine(SparkSession spark, Tensor q, Tensor k, Tensor v, AttentionSpec spec, int shards, int partitions, long seed) {
        AttentionResult one = Attention.sdpa(q, k, v, spec.toBuilder().returnLse(true).build());
        AttentionResult dist = DistributedAttention.sdpa(spark, q, shuffled(spark, k, v, shards, partitions, seed), spec);
        String what = "shards=" + shards + " partitions=" + partitions + " seed=" + seed;
        assertEquals(java.util.Arrays.toString(one.output().shape()), java.util.Arrays.toString(dist.output().shape()), what);
        assertClose(one.output().toArray(), dist.output().toArray(), what + " output");
        assertClose(finite(one.lse().toArray()), finite(dist.lse().toArray()), what + " lse");
    }

    private static float[] finite(float[] a) {
        float[] o = a.clone();
        for (int i = 0; i < o.length; i++) if (o[i] == Float.NEGATIVE_INFINITY) o[i] = -1e30f; // fully masked rows: both must say −inf
        return o;
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        double scale = 0, err = 0;
        for (int i = 0; i < expected.length; i++) {
            assertTrue(!Float.isNaN(actual[i]), what + ": NaN at " + i);
            scale = Math.max(scale, Math.abs(expected[i]));
            err = Math.max(err, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(err <= 1e-6 * Math.max(scale, 1e-30), what + ": max |diff| " + err + " > 1e-6 x max |expected| " + scale);
    }
}
