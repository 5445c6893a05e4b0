package org.attn4j.spark;

import java.util.Iterator;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * Passes rows through, but the first attempt of one partition's task stalls after {@code afterRows}
 * rows (by then the task has already handed rows on to the writer) for up to {@code stallMillis},
 * the way a task on a sick machine does, so that Spark speculates it. The stall ends early when the
 * task is killed (Spark interrupts the losing attempt once another attempt succeeded).
 */
public final class SlowFirstAttempt implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final int partition, afterRows;
    private final long stallMillis;

    public SlowFirstAttempt(int partition, int afterRows, long stallMillis) {
        this.partition = partition;
        this.afterRows = afterRows;
        this.stallMillis = stallMillis;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        TaskContext task = TaskContext.get();
        boolean slow = task.partitionId() == partition && task.attemptNumber() == 0;
        return new Iterator<>() {
            int passed;

            @Override
            public boolean hasNext() { return rows.hasNext(); }

            @Override
            public Row next() {
                if (slow && passed == afterRows) stall();
                passed++;
                return rows.next();
            }
        };
    }

    private void stall() {
        try {
            Thread.sleep(stallMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("slow attempt of partition " + partition + " interrupted (killed)", e);
        }
    }
}
