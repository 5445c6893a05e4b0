package org.attn4j.explain.importance;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import org.attn4j.explain.analysis.HeadImportance;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.embed.Embedder;

/**
 * Head importance by ablation and iterative head pruning (Michel, Levy and Neubig, "Are Sixteen
 * Heads Really Better than One?", NeurIPS 2019), on a sentence-embedding model.
 *
 * <p>The importance of head (l, h) is the mean over a sentence set of 1 − cos(e, e'), where e is
 * the pooled embedding of the model (with any already-pruned heads zeroed) and e' the pooled
 * embedding with head (l, h) zeroed as well, through {@link BertEncoder.Probe#headScale}. Each
 * ablation is one batched forward pass over all sentences.
 *
 * <p>Pruning removes the lowest-importance remaining heads in steps (by default 10 % of all heads,
 * ranked by the per-layer L2-normalised scores as in the paper), recomputing importance with the
 * pruned heads held at 0, and records the quality of each pruned model on {@link Paraphrases}.
 */
public final class HeadAblation {

    /** A head: layer and index within the layer. */
    public record Head(int layer, int head) {
        @Override
        public String toString() { return "L" + layer + "H" + head; }
    }

    /**
     * Importance scores {@code [layers][heads]}: raw mean (1 − cosine), clamped at 0 (rounding can
     * make a no-op ablation a hair negative), and {@link HeadImportance#normalisePerLayer} of it.
     * Pruned heads score 0 in both.
     */
    public record Scores(double[][] raw, double[][] normalised, int sentences) {
        /** The k heads with the highest raw score, best first (ties by layer, then head). */
        public List<Head> top(int k) {
            List<Head> all = new ArrayList<>();
            for (int l = 0; l < raw.length; l++) for (int h = 0; h < raw[l].length; h++) all.add(new Head(l, h));
            all.sort(Comparator.comparingDouble((Head x) -> -raw[x.layer()][x.head()]).thenComparingInt(Head::layer).thenComparingInt(Head::head));
            return all.subList(0, Math.min(k, all.size()));
        }
    }

    /**
     * One point of a pruning curve.
     *
     * @param fractionPruned pruned heads / all heads
     * @param accuracy       top-1 paraphrase retrieval accuracy of the pruned model
     * @param meanCosine     mean cosine between the pruned and the unpruned model's embeddings of all
     *                       sentences of the set (both sides)
     * @param pruned         the heads pruned so far, in pruning order
     */
    public record Step(double fractionPruned, double accuracy, double meanCosine, List<Head> pruned) {}

    /**
     * Pruning parameters.
     *
     * @param importanceSentences sentences (first sides of the set, from the start) used to recompute
     *                            importance at each step
     * @param stepFraction        fraction of all heads removed per step (at least one head)
     * @param maxFraction         stop once this fraction of heads is pruned (1 = all)
     * @param normalised          rank heads by per-layer normalised scores (the paper) or by raw scores
     * @param threads             worker threads per forward pass (0 = all processors)
     */
    public record Options(int importanceSentences, double stepFraction, double maxFraction, boolean normalised, int threads) {
        public Options {
            if (importanceSentences < 1) throw new IllegalArgumentException("importanceSentences: expected >= 1, got " + importanceSentences);
            if (!(stepFraction > 0 && stepFraction <= 1)) throw new IllegalArgumentException("stepFraction: expected in (0, 1], got " + stepFraction);
            if (!(maxFraction > 0 && maxFraction <= 1)) throw new IllegalArgumentException("maxFraction: expected in (0, 1], got " + maxFraction);
            if (threads < 0) throw new IllegalArgumentException("threads: expected >= 1 (or 0 for all), got " + threads);
        }

        /** 10 % of heads per step down to none left, importance on 12 sentences, all cores. */
        public static Options defaults() { return new Options(12, 0.10, 1.0, true, 0); }

        /** A fast run for tests: 25 % per step, importance on 4 sentences. */
        public static Options quick() { return new Options(4, 0.25, 1.0, true, 0); }
    }

    /** Token limit per sentence; the shipped sentences are far shorter. */
    public static final int MAX_TOKENS = 128;

    private final Embedder model;
    private final int layers, heads, threads;

    private HeadAblation(Embedder model, int threads) {
        this.model = model;
        BertConfig cfg = model.encoder().config();
        this.layers = cfg.layers();
        this.heads = cfg.heads();
        this.threads = threads;
    }

    /** Raw and normalised importance of every head of an unpruned model over the sentences (all cores). */
    public static Scores score(Embedder model, List<String> sentences) {
        return score(model, sentences, null, 0);
    }

    /**
     * Importance of every head over the sentences, with the heads in {@code pruned} (may be null)
     * zeroed in both the reference and the ablated passes; those heads score 0.
     */
    public static Scores score(Embedder model, List<String> sentences, boolean[][] pruned, int threads) {
        if (sentences == null || sentences.isEmpty()) throw new IllegalArgumentException("sentences: expected at least one");
        HeadAblation a = new HeadAblation(model, threads);
        return a.score(a.tokenize(sentences), pruned == null ? new boolean[a.layers][a.heads] : pruned);
    }

    /** The pruning curve on {@link Paraphrases#load()} with the given options. */
    public static List<Step> prune(Embedder model, Options options) {
        return prune(model, Paraphrases.load(), options);
    }

    /**
     * Iterative pruning: the first step is the unpruned model (fraction 0); each later step removes
     * the {@code round(stepFraction × heads)} (at least 1) lowest-ranked remaining heads (fewer at the end), after
     * recomputing importance on the first {@code importanceSentences} sentences of the set.
     */
    public static List<Step> prune(Embedder model, List<Paraphrases.Pair> pairs, Options options) {
        if (pairs == null || pairs.size() < 2) throw new IllegalArgumentException("pairs: expected at least 2");
        HeadAblation a = new HeadAblation(model, options.threads());
        int total = a.layers * a.heads;
        int perStep = Math.max(1, (int) Math.round(options.stepFraction() * total));
        int target = (int) Math.round(options.maxFraction() * total);

        List<String> all = new ArrayList<>(Paraphrases.sentences(pairs));
        all.addAll(Paraphrases.paraphrases(pairs));
        int[][] evalIds = a.tokenize(all);
        int[][] impIds = Arrays.copyOf(evalIds, Math.min(options.importanceSentences(), pairs.size()));

        boolean[][] pruned = new boolean[a.layers][a.heads];
        float[][] reference = a.embed(evalIds, pruned, -1, -1);
        List<Head> order = new ArrayList<>();
        List<Step> curve = new ArrayList<>();
        curve.add(a.evaluate(reference, reference, pairs.size(), 0, order));
        while (order.size() < target) {
            Scores s = a.score(impIds, pruned);
            double[][] rank = options.normalised() ? s.normalised() : s.raw();
            List<Head> remaining = new ArrayList<>();
            for (int l = 0; l < a.layers; l++) for (int h = 0; h < a.heads; h++) if (!pruned[l][h]) remaining.add(new Head(l, h));
            remaining.sort(Comparator.comparingDouble((Head x) -> rank[x.layer()][x.head()]).thenComparingInt(Head::layer).thenComparingInt(Head::head));
            int n = Math.min(perStep, target - order.size());
            for (Head x : remaining.subList(0, n)) {
                pruned[x.layer()][x.head()] = true;
                order.add(x);
            }
            float[][] now = a.embed(evalIds, pruned, -1, -1);
            curve.add(a.evaluate(reference, now, pairs.size(), (double) order.size() / total, order));
        }
        return Collections.unmodifiableList(curve);
    }

    private Step evaluate(float[][] reference, float[][] now, int pairs, double fraction, List<Head> order) {
        double cos = 0;
        for (int i = 0; i < now.length; i++) cos += cosine(reference[i], now[i]);
        double acc = Paraphrases.retrievalAccuracy(Arrays.copyOfRange(now, 0, pairs), Arrays.copyOfRange(now, pairs, 2 * pairs));
        return new Step(fraction, acc, cos / now.length, List.copyOf(order));
    }

    private Scores score(int[][] ids, boolean[][] pruned) {
        float[][] base = embed(ids, pruned, -1, -1);
        double[][] raw = new double[layers][heads];
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < heads; h++) {
                if (pruned[l][h]) continue;
                float[][] cut = embed(ids, pruned, l, h);
                double sum = 0;
                for (int i = 0; i < ids.length; i++) sum += 1 - cosine(base[i], cut[i]);
                raw[l][h] = Math.max(0, sum / ids.length);
            }
        }
        return new Scores(raw, HeadImportance.normalisePerLayer(raw), ids.length);
    }

    private int[][] tokenize(List<String> sentences) {
        int[][] ids = new int[sentences.size()][];
        for (int i = 0; i < ids.length; i++) ids[i] = model.tokenizer().encode(sentences.get(i), MAX_TOKENS).ids();
        return ids;
    }

    /** Pooled embeddings of all sequences in one forward pass, pruned heads and (layer, head) (if ≥ 0) zeroed. */
    private float[][] embed(int[][] ids, boolean[][] pruned, int layer, int head) {
        BertEncoder enc = model.encoder();
        BertEncoder.Output out = enc.forward(ids, null, threads, new BertEncoder.Probe() {
            @Override
            public float headScale(int l, int h) { return pruned[l][h] || (l == layer && h == head) ? 0f : 1f; }
        });
        float[][] e = new float[ids.length][];
        for (int b = 0; b < ids.length; b++) e[b] = Embedder.pool(out, b, enc.config().pooling());
        return e;
    }

    /** Cosine of two vectors (0 when either is all zeros). */
    static double cosine(float[] a, float[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
