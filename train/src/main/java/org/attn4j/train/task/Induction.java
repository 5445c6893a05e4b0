package org.attn4j.train.task;

import java.util.List;
import java.util.Random;

/**
 * Induction / copy: a random sequence, then the same sequence again. Each example of length T holds
 * L = T/2 distinct tokens {@code s₀ … s_{L−1}} drawn uniformly from {@code [1, V)}, followed by the
 * same L tokens: {@code tokens = s ++ s}.
 *
 * <p>The target at every position is the next token ({@code targets[p] = tokens[p+1]}, and 0 at the
 * last position). Marked are the positions {@code p ∈ [L, T−1)}: there the model sees {@code s_j} a
 * second time and must predict {@code s_{j+1}}, which it can only do by finding the earlier
 * occurrence of {@code s_j} and copying the token after it (an induction head). The first token of
 * the copy ({@code p = L−1}) is not marked: nothing announces where the copy starts. Loss and
 * accuracy therefore count the L − 1 predictions of the second half. Tokens are distinct within a
 * sequence so that every marked position has exactly one right answer; hence V − 1 ≥ L.
 */
public final class Induction implements Task {

    /**
     * @param vocab  V (tokens drawn from {@code [1, V)}; id 0 is never used), at least T/2 + 1
     * @param seqLen T (even, ≥ 4)
     */
    public record Config(int vocab, int seqLen) {
        public Config {
            if (seqLen < 4 || seqLen % 2 != 0) throw new IllegalArgumentException("seqLen: expected an even length >= 4, got " + seqLen);
            if (vocab < seqLen / 2 + 1) throw new IllegalArgumentException("vocab: expected >= seqLen/2 + 1 = " + (seqLen / 2 + 1) + " (distinct tokens per sequence), got " + vocab);
        }

        /** Length L of the sequence that is repeated. */
        public int half() { return seqLen / 2; }
    }

    private final Config config;
    private final Random rnd;

    /** A stream of examples from {@code seed}. */
    public Induction(Config config, long seed) {
        this.config = config;
        this.rnd = new Random(seed);
    }

    public Config config() { return config; }

    @Override
    public Batch next(int batchSize) {
        int t = config.seqLen(), l = config.half();
        return Batch.generate(batchSize, t, (tokens, targets, mask, off) -> {
            int[] s = Draw.distinct(rnd, l, 1, config.vocab());
            System.arraycopy(s, 0, tokens, off, l);
            System.arraycopy(s, 0, tokens, off + l, l);
            for (int p = 0; p < t - 1; p++) targets[off + p] = tokens[off + p + 1];
            for (int p = l; p < t - 1; p++) mask[off + p] = true;
        });
    }

    /** A fixed evaluation set: {@code batches} batches of {@code batchSize} from {@code seed}. */
    public static List<Batch> dataset(Config config, int batches, int batchSize, long seed) {
        return new Induction(config, seed).take(batches, batchSize);
    }
}
