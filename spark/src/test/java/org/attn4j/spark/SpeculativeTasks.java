package org.attn4j.spark;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;

/**
 * Records speculative task attempts (so a speculation test cannot pass without one) and, per stage
 * and partition, whether the attempt that succeeded was the speculative one.
 */
public final class SpeculativeTasks extends SparkListener {
    /** "stage/partition" of every speculative attempt that started. */
    public final Set<String> started = ConcurrentHashMap.newKeySet();
    /** "stage/partition" of every successful attempt -> whether it was speculative. */
    public final Map<String, Boolean> succeeded = new ConcurrentHashMap<>();
    /** "stage/partition" of every attempt that ended without success -> Spark's reason. */
    public final Map<String, String> lost = new ConcurrentHashMap<>();

    static String key(int stage, int partition) { return stage + "/" + partition; }

    @Override
    public void onTaskStart(SparkListenerTaskStart e) {
        if (e.taskInfo().speculative()) started.add(key(e.stageId(), e.taskInfo().partitionId()));
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd e) {
        String k = key(e.stageId(), e.taskInfo().partitionId());
        if (e.taskInfo().successful()) succeeded.put(k, e.taskInfo().speculative());
        else lost.merge(k, e.reason().toString(), (a, b) -> a + "; " + b);
    }
}
