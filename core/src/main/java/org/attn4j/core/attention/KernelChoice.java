package org.attn4j.core.attention;

/** Which kernel to run. {@link #AUTO} lets the dispatcher decide and say why. */
public enum KernelChoice {
    /** Pick by shape and request (see {@link Dispatcher}). */
    AUTO,
    /** Full score matrix, float64 accumulation: the oracle. Memory O(Nq·Nk) per head. */
    REFERENCE,
    /** Tiled online softmax in fp32, Vector API micro-kernels, threads over query tiles. */
    FLASH,
    /** Flash tiles with the key range split across threads and partials merged (few queries, many keys). */
    DECODE
}
