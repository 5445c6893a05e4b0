package org.attn4j.variants.contentsparse;

/**
 * Hyper-parameters of {@link TcaAttention}.
 *
 * @param block     queries per block sharing one key selection (&ge; 1); its own block is always attended
 * @param topk      at most this many other keys kept per query block (&ge; 1): the token budget
 * @param threshold estimated probability mass to cover (0 &lt; threshold &le; 1; 1 = always the full
 *                  budget): the shortest best-first prefix of keys whose estimated mass reaches it
 * @param causal    whether query i sees only keys j &le; i
 */
public record TcaParams(int block, int topk, double threshold, boolean causal) {
    public TcaParams {
        if (block < 1) throw new IllegalArgumentException("block: expected >= 1, got " + block);
        if (topk < 1) throw new IllegalArgumentException("topk: expected >= 1 (keys kept per query block), got " + topk);
        if (!(threshold > 0 && threshold <= 1)) {
            throw new IllegalArgumentException("threshold: expected a probability mass in (0, 1] (1 = keep the full topk), got " + threshold);
        }
    }
}
