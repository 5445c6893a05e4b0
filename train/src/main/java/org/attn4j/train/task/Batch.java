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

    /** Number of marked positions. */
    public int marked() {
        int m = 0;
        for (boolean b : lossMask) if (b) m++;
        return m;
    }
}
