package org.attn4j.spark;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

/** Counts task attempts that ended in failure (to prove an injected failure really happened). */
public final class FailedTasks extends SparkListener {
    public final AtomicInteger failed = new AtomicInteger();

    @Override
    public void onTaskEnd(SparkListenerTaskEnd e) {
        if (e.taskInfo().failed()) failed.incrementAndGet();
    }
}
