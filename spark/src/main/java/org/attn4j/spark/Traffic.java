package org.attn4j.spark;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;

/**
 * Bytes moved by the tasks of a job, from Spark's task metrics: results sent to the driver,
 * shuffle written and read remotely, and the first task's launch time. Register with
 * {@code sparkContext().addSparkListener}; read after the job (events arrive asynchronously, so
 * {@link #await} first).
 */
public final class Traffic extends SparkListener {
    public final AtomicLong tasks = new AtomicLong(), failedTasks = new AtomicLong(), resultBytes = new AtomicLong(),
            shuffleWriteBytes = new AtomicLong(), shuffleRemoteReadBytes = new AtomicLong(), firstLaunchMillis = new AtomicLong(Long.MAX_VALUE);

    @Override
    public void onTaskStart(SparkListenerTaskStart e) {
        firstLaunchMillis.accumulateAndGet(e.taskInfo().launchTime(), Math::min);
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd e) {
        tasks.incrementAndGet();
        if (e.taskInfo().failed()) failedTasks.incrementAndGet();
        var m = e.taskMetrics();
        if (m == null) return;
        resultBytes.addAndGet(m.resultSize());
        shuffleWriteBytes.addAndGet(m.shuffleWriteMetrics().bytesWritten());
        shuffleRemoteReadBytes.addAndGet(m.shuffleReadMetrics().remoteBytesRead());
    }

    /** Waits (at most {@code millis}) until {@code expectedTasks} task ends arrived. */
    public void await(long expectedTasks, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (tasks.get() < expectedTasks && System.currentTimeMillis() < end) Thread.sleep(20);
    }
}
