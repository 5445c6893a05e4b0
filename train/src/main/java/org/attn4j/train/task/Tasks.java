package org.attn4j.train.task;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.train.text.BpeTrainer;
import org.attn4j.train.text.Document;
import org.attn4j.train.text.TextCorpus;
import org.attn4j.train.text.Tokenizers;

/**
 * The training tasks by name, as {@code attn4j train --task} takes them. Each name gives a seeded
 * training stream and a held-out set drawn from a different seed (for text: different documents).
 *
 * <ul>
 *   <li>{@code mqar}: {@link Mqar}, with {@code vocab}, {@code seqLen}, {@code kvPairs};</li>
 *   <li>{@code induction}: {@link Induction}, with {@code vocab}, {@code seqLen};</li>
 *   <li>{@code selective-copy}: {@link SelectiveCopy}, with {@code vocab}, {@code seqLen} and
 *       {@code copyTokens} (K);</li>
 *   <li>{@code lm}: {@link LanguageModeling} on {@code text} with {@code tokenizer}; the vocabulary
 *       is the tokenizer's ({@code vocab} is ignored), every tenth document is held out
 *       ({@link TextCorpus#split}).</li>
 * </ul>
 */
public final class Tasks {
    /**
     * Options common to the tasks; a task ignores what it has no use for.
     *
     * @param seqLen     sequence length T
     * @param vocab      vocabulary size (synthetic tasks)
     * @param kvPairs    key–value pairs (MQAR)
     * @param copyTokens tokens to copy K (selective copying; the Mamba paper's 16 by default)
     * @param text       a text file or directory of documents (lm), or null
     * @param tokenizer  {@code byte}, {@code bpe:N} or a {@code tokenizer.json} path (lm; see {@link Tokenizers})
     * @param trainKvPairs MQAR's training mixture: each training sequence draws its pair count uniformly from
     *                   this list (Zoology trains on several counts); empty for {@code kvPairs} alone. The
     *                   held-out set always has {@code kvPairs} pairs.
     */
    public record Options(int seqLen, int vocab, int kvPairs, int copyTokens, Path text, String tokenizer, List<Integer> trainKvPairs) {
        public Options {
            if (seqLen <= 0) throw new IllegalArgumentException("seq-len: expected > 0, got " + seqLen);
            if (vocab <= 0) throw new IllegalArgumentException("vocab: expected > 0, got " + vocab);
            if (kvPairs <= 0) throw new IllegalArgumentException("kv-pairs: expected > 0, got " + kvPairs);
            if (copyTokens <= 0) throw new IllegalArgumentException("copy-tokens: expected > 0, got " + copyTokens);
            Tokenizers.validate(tokenizer);
            trainKvPairs = List.copyOf(trainKvPairs == null ? List.of() : trainKvPairs);
            for (int k : trainKvPairs) {
                if (k <= 0) throw new IllegalArgumentException("train-kv-pairs: expected counts > 0, got " + trainKvPairs);
            }
        }

        public Options(int seqLen, int vocab, int kvPairs, int copyTokens, Path text, String tokenizer) {
            this(seqLen, vocab, kvPairs, copyTokens, text, tokenizer, List.of());
        }

        /** The synthetic tasks' options: 16 tokens to copy, no text, byte-level tokenizer. */
        public Options(int seqLen, int vocab, int kvPairs) {
            this(seqLen, vocab, kvPairs, 16, null, "byte");
        }

        public Options withCopyTokens(int k) { return new Options(seqLen, vocab, kvPairs, k, text, tokenizer, trainKvPairs); }

        public Options withText(Path t) { return new Options(seqLen, vocab, kvPairs, copyTokens, t, tokenizer, trainKvPairs); }

        public Options withTokenizer(String spec) { return new Options(seqLen, vocab, kvPairs, copyTokens, text, spec, trainKvPairs); }

        /** MQAR trained on a mixture of pair counts (see {@code trainKvPairs}); held out with {@code kvPairs}. */
        public Options withTrainKvPairs(List<Integer> ks) { return new Options(seqLen, vocab, kvPairs, copyTokens, text, tokenizer, ks); }
    }

    /**
     * A task ready to train on: its vocabulary size, its training stream and its held-out batches,
     * and for {@code lm} the tokenizer (null otherwise), to be saved with the model as {@code tokenizer.json}.
     */
    public record Prepared(String name, int vocab, int seqLen, Task train, List<Batch> heldOut, ByteLevelBpe tokenizer) {
        public Prepared(String name, int vocab, int seqLen, Task train, List<Batch> heldOut) {
            this(name, vocab, seqLen, train, heldOut, null);
        }
    }

    private static final List<String> NAMES = List.of("mqar", "induction", "selective-copy", "lm");

    private Tasks() {}

    /** The task names {@link #prepare} accepts. */
    public static List<String> names() { return NAMES; }

    /**
     * Builds task {@code name}: the training stream from {@code seed}, and {@code heldOutBatches}
     * held-out batches of {@code batchSize} from a seed derived from it (for {@code lm}: from the
     * held-out documents, at most that many). Throws IllegalArgumentException naming {@code task} for
     * an unknown name and the option for bad sizes; UncheckedIOException when the text cannot be read.
     */
    public static Prepared prepare(String name, Options o, long seed, int heldOutBatches, int batchSize) {
        switch (name) {
            case "mqar" -> {
                Mqar.Config c = new Mqar.Config(o.vocab(), o.seqLen(), o.kvPairs(), 0.01, false);
                int[] mix = o.trainKvPairs().isEmpty() ? new int[] {o.kvPairs()} : o.trainKvPairs().stream().mapToInt(Integer::intValue).toArray();
                Mqar stream;
                try {
                    stream = new Mqar(c, seed, mix);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(e.getMessage().replaceFirst("^kvChoices: kvPairs:", "train-kv-pairs:"), e);
                }
                return new Prepared(name, c.vocab(), c.seqLen(), stream,
                        Mqar.dataset(c, heldOutBatches, batchSize, heldOutSeed(seed)));
            }
            case "induction" -> {
                Induction.Config c = new Induction.Config(o.vocab(), o.seqLen());
                return new Prepared(name, c.vocab(), c.seqLen(), new Induction(c, seed),
                        Induction.dataset(c, heldOutBatches, batchSize, heldOutSeed(seed)));
            }
            case "selective-copy" -> {
                SelectiveCopy.Config c = new SelectiveCopy.Config(o.vocab(), o.seqLen(), o.copyTokens());
                return new Prepared(name, c.vocab(), c.seqLen(), new SelectiveCopy(c, seed),
                        SelectiveCopy.dataset(c, heldOutBatches, batchSize, heldOutSeed(seed)));
            }
            case "lm" -> {
                if (o.text() == null) throw new IllegalArgumentException("text: the lm task needs a text file or directory (--text FILE|DIR)");
                try {
                    TextCorpus.Split split = TextCorpus.split(TextCorpus.load(o.text()));
                    ByteLevelBpe tok = Tokenizers.resolve(o.tokenizer(), split.train());
                    int eot = tok.id(BpeTrainer.END_OF_TEXT);
                    int[] train = LanguageModeling.tokenize(split.train(), tok, eot);
                    int[] held = LanguageModeling.tokenize(split.heldOut(), tok, eot);
                    return new Prepared(name, tok.vocabSize(), o.seqLen(), new LanguageModeling(train, o.seqLen(), seed),
                            LanguageModeling.heldOut(held, o.seqLen(), heldOutBatches, batchSize), tok);
                } catch (IOException e) {
                    throw new UncheckedIOException("text: cannot read " + o.text() + ": " + e.getMessage(), e);
                }
            }
            default -> throw new IllegalArgumentException("task: unknown '" + name + "'; known: " + String.join(", ", NAMES));
        }
    }

    /** The held-out set's seed: far from the training seed so the two streams share nothing. */
    static long heldOutSeed(long seed) { return seed ^ 0x5DEECE66DL * 0x9E3779B97F4A7C15L; }
}
