package org.attn4j.train.task;

import java.util.List;
import java.util.Random;

/**
 * Selective copying, the synthetic task of the Mamba paper (Gu &amp; Dao 2023, arXiv:2312.00752,
 * §3.1): K data tokens scattered at random positions among noise, which the model must reproduce in
 * order after a delimiter. Unlike plain copying, the spacing varies from example to example, so a
 * fixed time-invariant kernel cannot solve it; the model has to select by content.
 *
 * <p>Vocabulary: id 0 is the noise (blank) token, id {@code V − 1} is the delimiter, and the data
 * tokens are drawn uniformly (with repetition) from {@code [1, V − 1)}. Each example of length T:
 * <ul>
 *   <li>positions {@code [0, T − K)}: the noise region, 0 everywhere except K distinct positions
 *       (uniform, kept in ascending order) holding the data tokens {@code d₁ … d_K};</li>
 *   <li>positions {@code [T − K, T)}: the delimiter, K times.</li>
 * </ul>
 * The target at the i-th delimiter position ({@code T − K + i − 1}) is {@code dᵢ}; those K positions
 * are the only ones marked, so the loss counts only the answers. (The answer slots carry the
 * delimiter, not the previous answer, so no answer can be read off its neighbour.) Targets elsewhere
 * are 0.
 */
public final class SelectiveCopy implements Task {

    /**
     * @param vocab  V: noise 0, data {@code [1, V−1)}, delimiter V − 1; at least 3
     * @param seqLen T; the noise region {@code T − K} must be at least K long
     * @param tokens K, the number of data tokens to copy (the Mamba paper uses 16)
     */
    public record Config(int vocab, int seqLen, int tokens) {
        public Config {
            if (vocab < 3) throw new IllegalArgumentException("vocab: expected >= 3 (noise, delimiter and a data token), got " + vocab);
            if (tokens <= 0) throw new IllegalArgumentException("tokens: expected > 0, got " + tokens);
            if (seqLen < 2 * tokens) throw new IllegalArgumentException("seqLen: expected >= 2 * tokens = " + 2 * tokens + ", got " + seqLen);
        }

        /** The delimiter id, V − 1. */
        public int delimiter() { return vocab - 1; }

        /** Length of the noise region, T − K. */
        public int region() { return seqLen - tokens; }
    }

    /** The noise token. */
    public static final int NOISE = 0;

    private final Config config;
    private final Random rnd;

    /** A stream of examples from {@code seed}. */
    public SelectiveCopy(Config config, long seed) {
        this.config = config;
        this.rnd = new Random(seed);
    }

    public Config config() { return config; }

    @Override
    public Batch next(int batchSize) {
        int k = config.tokens(), region = config.region();
        return Batch.generate(batchSize, config.seqLen(), (tokens, targets, mask, off) -> {
            int[] where = Draw.sortedPositions(rnd, k, region);
            for (int i = 0; i < k; i++) {
                int d = 1 + rnd.nextInt(config.vocab() - 2);
                tokens[off + where[i]] = d;
                int answer = off + region + i;
                tokens[answer] = config.delimiter();
                targets[answer] = d;
                mask[answer] = true;
            }
        });
    }

    /** A fixed evaluation set: {@code batches} batches of {@code batchSize} from {@code seed}. */
    public static List<Batch> dataset(Config config, int batches, int batchSize, long seed) {
        return new SelectiveCopy(config, seed).take(batches, batchSize);
    }
}
