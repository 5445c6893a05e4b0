package org.attn4j.spark;

import java.util.Iterator;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/** Passes rows through, but the first attempt of one partition's task throws after {@code afterRows} rows. */
public final class FailFirstAttempt implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final int partition, afterRows;

    public FailFirstAttempt(int partition, int afterRows) {
        this.partition = partition;
        this.afterRows = afterRows;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
        TaskContext task = TaskContext.get();
        boolean fail = task.partitionId() == partition && task.attemptNumber() == 0;
        return new Iterator<>() {
            int passed;

            @Override
            public boolean hasNext() { return rows.hasNext(); }

            @Override
            public Row next() {
                if (fail && passed == afterRows) throw new IllegalStateException("injected failure: partition " + partition + ", attempt 0");
                passed++;
                return rows.next();
            }
        };
    }
}
