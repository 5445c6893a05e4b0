package org.attn4j.variants.contentsparse;

/**
 * Hyper-parameters of {@link MobaAttention}.
 *
 * @param block keys per block (&ge; 1; the last block may be shorter when N is not a multiple), or 0
 *              for the power of two nearest N/64, at least 16 (16 at N = 64, the paper's 512 at N = 32K)
 * @param topk  blocks each query attends, its own block included (&ge; 1): the own block plus the
 *              {@code topk − 1} fully-past blocks with the largest gates
 */
public record MobaParams(int block, int topk) {
    public MobaParams {
        if (block < 0) throw new IllegalArgumentException("block: expected >= 1, or 0 for automatic, got " + block);
        if (topk < 1) throw new IllegalArgumentException("topk: expected >= 1 (the own block counts), got " + topk);
    }

    /** The block size used for a sequence of n tokens. */
    public int blockFor(int n) {
        if (block > 0) return block;
        double target = Math.max(16, n / 64.0);
        return 1 << (int) Math.round(Math.log(target) / Math.log(2));
    }
}
