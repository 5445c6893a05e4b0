package org.attn4j.train.task;

/**
 * A batch of {@code batch} sequences of {@code seqLen} tokens, all arrays {@code [batch, seqLen]}
 * row-major: the input tokens, the token expected at each position, and the positions that count
 * in the loss and the accuracy (targets elsewhere are ignored).
 */
public record Batch(int batch, int seqLen, int[] tokens, int[] targets, boolean[] lossMask) {
    public Batch {
        if (batch <= 0) throw new IllegalArgumentException("batch: expected > 0, got " + batch);
        if (seqLen <= 0) throw new IllegalArgumentException("seqLen: expected > 0, got " + seqLen);
        int n = Math.multiplyExact(batch, seqLen);
        if (tokens.length != n) throw new IllegalArgumentException("tokens: expected " + n + " ids, got " + tokens.length);
        if (targets.length != n) throw new IllegalArgumentException("targets: expected " + n + " ids, got " + targets.length);
        if (lossMask.length != n) throw new IllegalArgumentException("lossMask: expected " + n + " flags, got " + lossMask.length);
    }

    /** Writes one example: positions {@code [offset, offset + seqLen)} of the three arrays of a batch. */
    @FunctionalInterface
    public interface Example {
        void write(int[] tokens, int[] targets, boolean[] lossMask, int offset);
    }

    /**
     * A batch of {@code batchSize} examples written by {@code example} in order (example {@code b} at
     * offset {@code b·seqLen}) into zeroed arrays; the loop the synthetic tasks share. Throws
     * IllegalArgumentException, naming {@code batchSize}, when it is not positive.
     */
    public static Batch generate(int batchSize, int seqLen, Example example) {
        if (batchSize <= 0) throw new IllegalArgumentException("batchSize: expected > 0, got " + batchSize);
        int n = Math.multiplyExact(batchSize, seqLen);
        int[] tokens = new int[n], targets = new int[n];
        boolean[] mask = new boolean[n];
        for (int b = 0; b < batchSize; b++) example.write(tokens, targets, mask, b * seqLen);
        return new Batch(batchSize, seqLen, tokens, targets, mask);
    }

    /** Number of marked positions. */
    public int marked() {
        int m = 0;
        for (boolean b : lossMask) if (b) m++;
        return m;
    }
}
