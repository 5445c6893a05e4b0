package org.attn4j.train.task;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Multi-query associative recall, as defined by Zoology (Arora et al., "Zoology: Measuring and
 * Improving Recall in Efficient Language Models", 2023, arXiv:2312.04927, and its
 * {@code multiquery_ar} generator). Each sequence of length T holds:
 * <ul>
 *   <li>positions {@code 0 .. 2K−1}: K key–value pairs {@code k₁ v₁ k₂ v₂ …}, the K keys distinct and
 *       drawn from {@code [1, V/2)}, the K values distinct and drawn from {@code [V/2, V)};</li>
 *   <li>then the same K keys again, key i at position {@code 2K + 2·gᵢ}, the gaps {@code gᵢ} distinct
 *       in {@code [0, (T − 2K)/2)} and drawn with probability ∝ {@code (g + 1)^(a − 1)} (a power law;
 *       Zoology's {@code power_a} = a = 0.01 puts most queries close to the pairs);</li>
 *   <li>every other position: a uniformly random token of {@code [0, V)} (Zoology's
 *       {@code random_non_queries}; with it off, token 0).</li>
 * </ul>
 * The target at a query position is its key's value, and only those K positions are marked: loss
 * and accuracy count nothing else. The generator follows Zoology's definition but not numpy's random
 * streams, so its sequences differ from Zoology's for the same seed.
 */
public final class Mqar implements Task {

    /**
     * @param vocab            V (even, &gt; seqLen, as Zoology requires)
     * @param seqLen           T (even)
     * @param kvPairs          K (4K ≤ T and K &lt; V/2)
     * @param powerA           the power-law parameter a of the query gaps (1 = uniform)
     * @param randomNonQueries fill unused positions with random tokens (else 0)
     */
    public record Config(int vocab, int seqLen, int kvPairs, double powerA, boolean randomNonQueries) {
        public Config {
            if (seqLen <= 0 || seqLen % 2 != 0) throw new IllegalArgumentException("seqLen: expected a positive even length, got " + seqLen);
            if (vocab <= seqLen) throw new IllegalArgumentException("vocab: expected > seqLen=" + seqLen + ", got " + vocab);
            if (kvPairs <= 0) throw new IllegalArgumentException("kvPairs: expected > 0, got " + kvPairs);
            if (4 * kvPairs > seqLen) throw new IllegalArgumentException("kvPairs: expected at most seqLen/4=" + seqLen / 4 + ", got " + kvPairs);
            if (kvPairs >= vocab / 2) throw new IllegalArgumentException("kvPairs: expected < vocab/2=" + vocab / 2 + ", got " + kvPairs);
            if (!(powerA > 0)) throw new IllegalArgumentException("powerA: expected > 0, got " + powerA);
        }

        /**
         * The settings of Zoology's Figure 2 sweep: vocab 8192, power law a = 0.01, filler 0
         * ({@code random_non_queries=False} there, although the generator's own default is True).
         */
        public static Config of(int seqLen, int kvPairs) {
            return new Config(8192, seqLen, kvPairs, 0.01, false);
        }

        public Config withVocab(int v) { return new Config(v, seqLen, kvPairs, powerA, randomNonQueries); }
    }

    private final Config config;
    private final Random rnd;
    private final int[] kvChoices;
    /** Weights of the gaps {@code 0 .. (T − 2·min K)/2}; a sequence with K pairs uses the first {@code (T − 2K)/2}. */
    private final double[] gapWeights;

    /** A stream of examples from {@code seed}, each with {@code config.kvPairs()} pairs. */
    public Mqar(Config config, long seed) {
        this(config, seed, new int[] {config.kvPairs()});
    }

    /**
     * A stream whose every sequence draws its number of pairs uniformly from {@code kvChoices}
     * (a mixture, as Zoology trains on several pair counts at once); {@code config.kvPairs()} is
     * then only the held-out count. One choice gives exactly the stream of {@link #Mqar(Config, long)}.
     * Each choice must satisfy what {@link Config} asks of K (checked, naming {@code kvChoices}).
     */
    public Mqar(Config config, long seed, int[] kvChoices) {
        if (kvChoices == null || kvChoices.length == 0) throw new IllegalArgumentException("kvChoices: expected at least one pair count, got none");
        int minK = Integer.MAX_VALUE;
        for (int k : kvChoices) {
            try {
                new Config(config.vocab(), config.seqLen(), k, config.powerA(), config.randomNonQueries());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("kvChoices: " + e.getMessage(), e);
            }
            minK = Math.min(minK, k);
        }
        this.config = config;
        this.rnd = new Random(seed);
        this.kvChoices = kvChoices.clone();
        int space = (config.seqLen() - 2 * minK) / 2;
        this.gapWeights = new double[space];
        for (int g = 0; g < space; g++) gapWeights[g] = Math.pow(g + 1, config.powerA() - 1);
    }

    public Config config() { return config; }

    /** The pair counts the stream draws from (one element: a single K). */
    public int[] kvChoices() { return kvChoices.clone(); }

    @Override
    public Batch next(int batchSize) {
        return Batch.generate(batchSize, config.seqLen(), this::example);
    }

    /** A fixed evaluation set: {@code batches} batches of {@code batchSize} from {@code seed} (use a seed the training stream does not). */
    public static List<Batch> dataset(Config config, int batches, int batchSize, long seed) {
        return new Mqar(config, seed).take(batches, batchSize);
    }

    private void example(int[] tokens, int[] targets, boolean[] mask, int off) {
        // one count: no draw, so the stream stays the single-K stream bit for bit
        int k = kvChoices.length == 1 ? kvChoices[0] : kvChoices[rnd.nextInt(kvChoices.length)];
        int t = config.seqLen(), half = config.vocab() / 2;
        int[] keys = distinct(k, 1, half);
        int[] values = distinct(k, half, config.vocab());
        for (int p = 0; p < t; p++) tokens[off + p] = config.randomNonQueries() ? rnd.nextInt(config.vocab()) : 0;
        for (int i = 0; i < k; i++) {
            tokens[off + 2 * i] = keys[i];
            tokens[off + 2 * i + 1] = values[i];
        }
        int[] gaps = powerLawGaps(k, (t - 2 * k) / 2);
        for (int i = 0; i < k; i++) {
            int p = off + 2 * k + 2 * gaps[i];
            tokens[p] = keys[i];
            targets[p] = values[i];
            mask[p] = true;
        }
    }

    /** {@code n} distinct integers drawn uniformly from {@code [from, to)}, in draw order. */
    private int[] distinct(int n, int from, int to) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int x;
            boolean repeat;
            do {
                x = from + rnd.nextInt(to - from);
                repeat = false;
                for (int j = 0; j < i; j++) repeat |= out[j] == x;
            } while (repeat);
            out[i] = x;
        }
        return out;
    }

    /** {@code n} distinct gaps of {@code [0, space)}, drawn one at a time with probability ∝ weight among those not yet drawn. */
    private int[] powerLawGaps(int n, int space) {
        boolean[] taken = new boolean[space];
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            double total = 0;
            for (int g = 0; g < space; g++) if (!taken[g]) total += gapWeights[g];
            double u = rnd.nextDouble() * total;
            int pick = -1;
            for (int g = 0; g < space; g++) {
                if (taken[g]) continue;
                pick = g; // the last untaken gap absorbs rounding at the top end
                u -= gapWeights[g];
                if (u < 0) break;
            }
            taken[pick] = true;
            out[i] = pick;
        }
        return out;
    }
}
