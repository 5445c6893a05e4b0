package org.attn4j.spark;

import java.util.Iterator;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * Passes rows through, but the first attempt of one partition's task misbehaves after
 * {@code afterRows} rows (by then it has handed rows on to the writer): it {@linkplain #fail fails},
 * or it {@linkplain #stall stalls} the way a task on a sick machine does, so that Spark speculates it.
 * Later attempts (retries, speculative copies) pass every row.
 */
public final class FirstAttemptFault implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final int partition, afterRows;
    private final long stallMillis; // < 0: fail instead

    private FirstAttemptFault(int partition, int afterRows, long stallMillis) {
        this.partition = partition;
        this.afterRows = afterRows;
        this.stallMillis = stallMillis;
    }

    /** The first attempt of {@code partition} throws after {@code afterRows} rows. */
    public static FirstAttemptFault fail(int partition, int afterRows) {
        return new FirstAttemptFault(partition, afterRows, -1);
    }

    /**
     * The first attempt of {@code partition} sleeps for up to {@code millis} after {@code afterRows}
     * rows; the sleep ends early when the task is killed (Spark interrupts the losing attempt once
     * another attempt succeeded or the stage finished).
     */
    public static FirstAttemptFault stall(int partition, int afterRows, long millis) {
        if (millis < 0) throw new IllegalArgumentException("millis: expected >= 0, got " + millis);
        return new FirstAttemptFault(partition, afterRows, millis);
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        TaskContext task = TaskContext.get();
        boolean faulty = task.partitionId() == partition && task.attemptNumber() == 0;
        return new Iterator<>() {
            int passed;

            @Override
            public boolean hasNext() { return rows.hasNext(); }

            @Override
            public Row next() {
                if (faulty && passed == afterRows) misbehave();
                passed++;
                return rows.next();
            }
        };
    }

    private void misbehave() {
        if (stallMillis < 0) throw new IllegalStateException("injected failure: partition " + partition + ", attempt 0");
        try {
            Thread.sleep(stallMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("stalled attempt of partition " + partition + " interrupted (killed)", e);
        }
    }
}
