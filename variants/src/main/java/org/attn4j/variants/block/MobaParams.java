package org.attn4j.variants.block;

/**
 * Hyper-parameters of {@link MobaAttention}.
 *
 * @param block keys per block (&ge; 1); the last block may be shorter when N is not a multiple
 * @param topk  blocks each query attends, its own block included (&ge; 1): the own block plus the
 *              {@code topk − 1} fully-past blocks with the largest gates
 */
public record MobaParams(int block, int topk) {
    public MobaParams {
        if (block < 1) throw new IllegalArgumentException("block: expected >= 1, got " + block);
        if (topk < 1) throw new IllegalArgumentException("topk: expected >= 1 (the own block counts), got " + topk);
    }
}
