package org.attn4j.variants.linear;

/**
 * Hyper-parameters of {@link ChelaAttention}.
 *
 * @param shortLen taps of the short depthwise causal convolution; 1..64
 * @param rank     decaying exponentials per channel in the long convolution kernel; 1..16
 * @param causal   the linear attention sees keys j ≤ i only (the convolutions are always causal)
 * @param chunk    tokens per chunk of the causal linear attention; ≥ 1
 */
public record ChelaParams(int shortLen, int rank, boolean causal, int chunk) {
    public ChelaParams {
        if (shortLen < 1 || shortLen > 64) throw new IllegalArgumentException("short: expected 1..64, got " + shortLen);
        if (rank < 1 || rank > 16) throw new IllegalArgumentException("rank: expected 1..16, got " + rank);
        if (chunk < 1) throw new IllegalArgumentException("chunk: expected ≥ 1, got " + chunk);
    }

    public static ChelaParams defaults() { return new ChelaParams(3, 2, false, 64); }
}
