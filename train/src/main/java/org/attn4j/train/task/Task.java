package org.attn4j.train.task;

import java.util.ArrayList;
import java.util.List;

/** A seeded stream of training batches: the same seed gives the same batches in the same order. */
public interface Task {
    /** The next {@code batchSize} examples. */
    Batch next(int batchSize);

    /** The next {@code batches} batches of {@code batchSize}, in order (from a fresh stream: a fixed evaluation set). */
    default List<Batch> take(int batches, int batchSize) {
        if (batches < 0) throw new IllegalArgumentException("batches: expected >= 0, got " + batches);
        List<Batch> out = new ArrayList<>(batches);
        for (int i = 0; i < batches; i++) out.add(next(batchSize));
        return out;
    }
}
