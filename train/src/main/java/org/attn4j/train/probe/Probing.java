package org.attn4j.train.probe;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.attn4j.models.embed.Embedder;

/**
 * A probing experiment: the frozen encoder's token states of the train and eval texts are computed
 * once; then, for each pooling and each seed, a fresh head is trained on the train texts and its
 * accuracy measured on the eval texts. The bag-of-words baseline needs no encoder.
 */
public final class Probing {
    private Probing() {}

    /** How a text's token states become the classifier's input. */
    public enum Pooling {
        /** Learned queries attending over the token states ({@link AttentiveHead}). */
        ATTENTIVE,
        /** Mean of the token states, then a linear layer. */
        MEAN,
        /** The {@code [CLS]} token's state, then a linear layer. */
        CLS,
        /** No encoder: logistic regression on bag-of-words features ({@link BagOfWords}). */
        BOW;

        public String id() { return name().toLowerCase(Locale.ROOT); }

        /** Parses {@code attentive|mean|cls|bow}; {@code option} names the source in errors. */
        public static Pooling parse(String s, String option) {
            for (Pooling p : values()) if (p.id().equals(s.strip().toLowerCase(Locale.ROOT))) return p;
            throw new IllegalArgumentException(option + ": expected attentive, mean, cls, bow or all, got '" + s + "'");
        }
    }

    /** Eval accuracy of one pooling, one entry per seed. */
    public record Result(Pooling pooling, double[] accuracies) {
        public double mean() {
            double s = 0;
            for (double a : accuracies) s += a;
            return s / accuracies.length;
        }

        /** Sample standard deviation over seeds (0 for one seed). */
        public double sd() {
            if (accuracies.length < 2) return 0;
            double m = mean(), s = 0;
            for (double a : accuracies) s += (a - m) * (a - m);
            return Math.sqrt(s / (accuracies.length - 1));
        }
    }

    /** Options of a run besides the data. */
    public record Config(ProbeTrainer.Settings settings, int queries, int seeds, int encodeBatch) {
        public Config {
            if (queries < 1) throw new IllegalArgumentException("queries: expected >= 1, got " + queries);
            if (seeds < 1) throw new IllegalArgumentException("seeds: expected >= 1, got " + seeds);
            if (encodeBatch < 1) throw new IllegalArgumentException("encodeBatch: expected >= 1, got " + encodeBatch);
        }
    }

    /** The sorted class names of the training set; fails when fewer than two, or when eval has one train lacks. */
    public static List<String> classes(ProbeData.Split split) {
        Set<String> names = new TreeSet<>();
        for (LabeledText t : split.train()) names.add(t.label());
        if (names.size() < 2) throw new IllegalArgumentException("--train: expected at least 2 labels, got " + names);
        for (LabeledText t : split.eval()) {
            if (!names.contains(t.label())) throw new IllegalArgumentException("--eval: label '" + t.label() + "' does not occur in the training set " + names);
        }
        return List.copyOf(names);
    }

    /** Runs every pooling in {@code poolings} (in enum order); {@code log} gets one line per finished seed. */
    public static List<Result> run(Embedder embedder, ProbeData.Split split, EnumSet<Pooling> poolings, Config cfg, Consumer<String> log) {
        List<String> classes = classes(split);
        int[] trainY = labels(split.train(), classes), evalY = labels(split.eval(), classes);
        List<String> trainX = split.train().stream().map(LabeledText::text).toList(), evalX = split.eval().stream().map(LabeledText::text).toList();
        float[][] trainS = null, evalS = null;
        int h = 0;
        if (!EnumSet.of(Pooling.BOW).containsAll(poolings)) {
            long t0 = System.nanoTime();
            h = embedder.dimension();
            trainS = TokenStates.encode(embedder, trainX, cfg.encodeBatch());
            evalS = TokenStates.encode(embedder, evalX, cfg.encodeBatch());
            log.accept(String.format(Locale.ROOT, "encoded %d + %d texts with %s in %.1f s", trainX.size(), evalX.size(), embedder.name(), (System.nanoTime() - t0) / 1e9));
        }
        BagOfWords bow = poolings.contains(Pooling.BOW) ? BagOfWords.fit(trainX, 2, 20_000) : null;
        List<Result> out = new ArrayList<>();
        for (Pooling p : poolings) {
            double[] acc = new double[cfg.seeds()];
            for (int s = 0; s < cfg.seeds(); s++) {
                long seed = 1000L + s;
                Head train = head(p, trainS, trainX, h, cfg.queries(), classes.size(), bow, seed);
                Head eval = head(p, evalS, evalX, h, cfg.queries(), classes.size(), bow, seed);
                double loss = ProbeTrainer.fit(train, trainY, cfg.settings(), seed);
                System.arraycopy(train.params().values(), 0, eval.params().values(), 0, train.params().size());
                acc[s] = ProbeTrainer.accuracy(ProbeTrainer.predict(eval), evalY);
                log.accept(String.format(Locale.ROOT, "%s seed %d: final train loss %.4f, eval accuracy %.4f", p.id(), s, loss, acc[s]));
            }
            out.add(new Result(p, acc));
        }
        return out;
    }

    private static Head head(Pooling p, float[][] states, List<String> texts, int h, int queries, int classes, BagOfWords bow, long seed) {
        return switch (p) {
            case ATTENTIVE -> new AttentiveHead(states, h, queries, classes, seed);
            case MEAN -> LinearHead.dense(TokenStates.mean(states, h), h, classes, seed);
            case CLS -> LinearHead.dense(TokenStates.cls(states, h), h, classes, seed);
            case BOW -> bow.head(texts, classes, seed);
        };
    }

    private static int[] labels(List<LabeledText> texts, List<String> classes) {
        int[] y = new int[texts.size()];
        for (int i = 0; i < y.length; i++) y[i] = classes.indexOf(texts.get(i).label());
        return y;
    }
}
