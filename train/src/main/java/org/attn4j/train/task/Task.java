package org.attn4j.train.task;

/** A seeded stream of training batches: the same seed gives the same batches in the same order. */
public interface Task {
    /** The next {@code batchSize} examples. */
    Batch next(int batchSize);
}
