package org.attn4j.train.task;

import java.util.List;

/**
 * The training tasks by name, as {@code attn4j train --task} takes them. Each name gives a seeded
 * training stream and a held-out set drawn from a different seed (for text: different documents).
 */
public final class Tasks {
    /**
     * Options common to the tasks; a task ignores what it has no use for.
     *
     * @param seqLen  sequence length T
     * @param vocab   vocabulary size (synthetic tasks)
     * @param kvPairs key–value pairs (MQAR)
     */
    public record Options(int seqLen, int vocab, int kvPairs) {
        public Options {
            if (seqLen <= 0) throw new IllegalArgumentException("seq-len: expected > 0, got " + seqLen);
            if (vocab <= 0) throw new IllegalArgumentException("vocab: expected > 0, got " + vocab);
            if (kvPairs <= 0) throw new IllegalArgumentException("kv-pairs: expected > 0, got " + kvPairs);
        }
    }

    /** A task ready to train on: its vocabulary size, its training stream and its held-out batches. */
    public record Prepared(String name, int vocab, int seqLen, Task train, List<Batch> heldOut) {}

    private static final List<String> NAMES = List.of("mqar");

    private Tasks() {}

    /** The task names {@link #prepare} accepts. */
    public static List<String> names() { return NAMES; }

    /**
     * Builds task {@code name}: the training stream from {@code seed}, and {@code heldOutBatches}
     * held-out batches of {@code batchSize} from a seed derived from it. Throws
     * IllegalArgumentException naming {@code task} for an unknown name and the option for bad sizes.
     */
    public static Prepared prepare(String name, Options o, long seed, int heldOutBatches, int batchSize) {
        switch (name) {
            case "mqar" -> {
                Mqar.Config c = new Mqar.Config(o.vocab(), o.seqLen(), o.kvPairs(), 0.01, false);
                return new Prepared(name, c.vocab(), c.seqLen(), new Mqar(c, seed),
                        Mqar.dataset(c, heldOutBatches, batchSize, heldOutSeed(seed)));
            }
            default -> throw new IllegalArgumentException("task: unknown '" + name + "'; known: " + String.join(", ", NAMES));
        }
    }

    /** The held-out set's seed: far from the training seed so the two streams share nothing. */
    static long heldOutSeed(long seed) { return seed ^ 0x5DEECE66DL * 0x9E3779B97F4A7C15L; }
}
