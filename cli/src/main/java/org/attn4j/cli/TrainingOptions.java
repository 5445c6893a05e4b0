package org.attn4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The options {@code attn4j train} and {@code attn4j compare} share: the task, the model's shape
 * other than its width, and the optimisation. Defaults follow Zoology's MQAR set-up (vocabulary 8192,
 * sequence 256, 16 key–value pairs) and GPT-2-style training (AdamW, warm-up then cosine decay).
 */
final class TrainingOptions {
    @Option(names = "--task", paramLabel = "NAME", defaultValue = "mqar",
            description = "task by name: mqar is Zoology's multi-query associative recall; an unknown name lists the known ones (default: ${DEFAULT-VALUE})")
    String task;

    @Option(names = "--seq-len", paramLabel = "T", defaultValue = "256", description = "sequence length (default: ${DEFAULT-VALUE})")
    int seqLen;

    @Option(names = "--kv-pairs", paramLabel = "K", defaultValue = "16", description = "key-value pairs per MQAR sequence (default: ${DEFAULT-VALUE})")
    int kvPairs;

    @Option(names = "--train-kv-pairs", paramLabel = "K,K,...", split = ",",
            description = "MQAR training mixture: each training sequence draws its pair count from this list; the held-out set keeps --kv-pairs (default: --kv-pairs alone)")
    List<Integer> trainKvPairs = new ArrayList<>();

    @Option(names = "--vocab", paramLabel = "V", defaultValue = "8192", description = "vocabulary size of synthetic tasks (default: ${DEFAULT-VALUE})")
    int vocab;

    @Option(names = "--text", paramLabel = "FILE|DIR", description = "training text for the lm task: a file, or a directory of documents")
    Path text;

    @Option(names = "--tokenizer", paramLabel = "byte|bpe:N|FILE", defaultValue = "byte",
            description = "lm task's vocabulary: byte, bpe:N (learned from the training text) or a tokenizer.json (default: ${DEFAULT-VALUE})")
    String tokenizer;

    @Option(names = "--copy-tokens", paramLabel = "K", defaultValue = "16", description = "tokens to copy in selective-copy (default: ${DEFAULT-VALUE})")
    int copyTokens;

    @Option(names = "--positions", paramLabel = "KIND", defaultValue = "learned",
            description = "position signal: learned, rope, alibi or none (default: ${DEFAULT-VALUE})")
    String positions;

    @Option(names = "--norm", paramLabel = "KIND", defaultValue = "layer", description = "normalisation: layer or rms (default: ${DEFAULT-VALUE})")
    String norm;

    @Option(names = "--mlp", paramLabel = "KIND", defaultValue = "gelu", description = "feed-forward block: gelu or swiglu (default: ${DEFAULT-VALUE})")
    String mlp;

    @Option(names = "--mlp-ratio", paramLabel = "R", defaultValue = "4",
            description = "MLP hidden width as a multiple of --d-model; 0 for attention-only blocks (default: ${DEFAULT-VALUE})")
    int mlpRatio;

    @Option(names = "--init-std", paramLabel = "STD", defaultValue = "0.02",
            description = "standard deviation of the initial embeddings and matrices; the residual projections get STD/sqrt(2·layers) (default: ${DEFAULT-VALUE}, GPT-2's)")
    float initStd;

    @Option(names = "--untied", description = "a separate output projection (lm_head) instead of the token embedding")
    boolean untied;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "a setting of the attention mechanism (repeatable), e.g. window=32")
    List<String> settings = new ArrayList<>();

    @Option(names = "--layers", paramLabel = "L", defaultValue = "2", description = "transformer blocks (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--heads", paramLabel = "H", defaultValue = "2", description = "attention heads; must divide --d-model (default: ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "1000", description = "optimiser steps at most (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "32", description = "sequences per step (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--accumulate", paramLabel = "N", defaultValue = "1", description = "micro-batches of --batch per optimiser step (default: ${DEFAULT-VALUE})")
    int accumulate;

    @Option(names = "--lr", paramLabel = "RATE", defaultValue = "1e-3", description = "peak learning rate (default: ${DEFAULT-VALUE})")
    float lr;

    @Option(names = "--min-lr", paramLabel = "RATE", description = "rate at the end of the cosine decay (default: --lr / 10)")
    Float minLr;

    @Option(names = "--warmup", paramLabel = "N", description = "steps of linear warm-up (default: --steps / 10)")
    Integer warmup;

    @Option(names = "--weight-decay", paramLabel = "λ", defaultValue = "0.1", description = "AdamW decoupled weight decay (default: ${DEFAULT-VALUE})")
    float weightDecay;

    @Option(names = "--grad-clip", paramLabel = "NORM", defaultValue = "1.0", description = "global gradient-norm clip, 0 for none (default: ${DEFAULT-VALUE})")
    float gradClip;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "worker threads, 0 for every processor (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--eval-every", paramLabel = "N", defaultValue = "50", description = "evaluate on the held-out set every N steps and after the last (default: ${DEFAULT-VALUE})")
    int evalEvery;

    @Option(names = "--eval-batches", paramLabel = "N", defaultValue = "4", description = "held-out batches of --batch sequences (default: ${DEFAULT-VALUE})")
    int evalBatches;

    @Option(names = "--checkpoint-every", paramLabel = "N",
            description = "save a checkpoint (weights, optimiser, position) every N steps and after the last, for --resume (default: --eval-every)")
    Integer checkpointEvery;

    @Option(names = "--target-accuracy", paramLabel = "ACC", description = "stop once held-out accuracy reaches this, in (0, 1] (default: never stop early)")
    Double targetAccuracy;

    @Option(names = "--time-limit", paramLabel = "DURATION",
            description = "stop after this much training time (e.g. 90s, 25m, 1.5h; a bare number is seconds), sessions before a --resume included: "
                    + "the step in progress ends, the model is evaluated and checkpointed, and the summary says it stopped on time (default: no limit)")
    String timeLimit;

    /** {@code --time-limit} in seconds, 0 when absent; IllegalArgumentException naming the option for a malformed or non-positive value. */
    double timeLimitSeconds() {
        if (timeLimit == null) return 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\s*([0-9]+(?:\\.[0-9]+)?)\\s*(s|m|h)?\\s*").matcher(timeLimit);
        if (!m.matches()) throw new IllegalArgumentException("--time-limit: expected a duration such as 90s, 25m or 1.5h, got '" + timeLimit + "'");
        double v = Double.parseDouble(m.group(1)) * (m.group(2) == null ? 1 : switch (m.group(2)) { case "m" -> 60; case "h" -> 3600; default -> 1; });
        if (!(v > 0) || Double.isInfinite(v)) throw new IllegalArgumentException("--time-limit: expected a positive duration, got '" + timeLimit + "'");
        return v;
    }

    /** Range checks of the options themselves, before anything is built; messages name the option. */
    void check() {
        positive("--seq-len", seqLen);
        positive("--kv-pairs", kvPairs);
        positive("--vocab", vocab);
        positive("--layers", layers);
        positive("--heads", heads);
        positive("--steps", steps);
        positive("--batch", batch);
        positive("--accumulate", accumulate);
        positive("--eval-every", evalEvery);
        positive("--eval-batches", evalBatches);
        if (threads < 0) throw new IllegalArgumentException("--threads: expected 0 (every processor) or a positive count, got " + threads);
        if (!(lr > 0) || !Float.isFinite(lr)) throw new IllegalArgumentException("--lr: expected a positive rate, got " + lr);
        if (minLr != null && !(minLr >= 0 && minLr <= lr)) throw new IllegalArgumentException("--min-lr: expected in [0, --lr=" + lr + "], got " + minLr);
        if (warmup != null && (warmup < 0 || warmup > steps)) throw new IllegalArgumentException("--warmup: expected in [0, --steps=" + steps + "], got " + warmup);
        if (!(weightDecay >= 0) || !Float.isFinite(weightDecay)) throw new IllegalArgumentException("--weight-decay: expected ≥ 0, got " + weightDecay);
        if (!(gradClip >= 0) || !Float.isFinite(gradClip)) throw new IllegalArgumentException("--grad-clip: expected ≥ 0 (0 for none), got " + gradClip);
        if (targetAccuracy != null && !(targetAccuracy > 0 && targetAccuracy <= 1)) {
            throw new IllegalArgumentException("--target-accuracy: expected in (0, 1], got " + targetAccuracy);
        }
        if (text != null && !Files.exists(text)) throw new IllegalArgumentException("--text: no such file or directory: " + text);
        positive("--copy-tokens", copyTokens);
        if (mlpRatio < 0) throw new IllegalArgumentException("--mlp-ratio: expected >= 0 (0: no MLP), got " + mlpRatio);
        for (int k : trainKvPairs) positive("--train-kv-pairs", k);
        if (!trainKvPairs.isEmpty() && !task.equals("mqar")) throw new IllegalArgumentException("--train-kv-pairs: only the mqar task has pairs, got --task " + task);
        if (!(initStd > 0) || !Float.isFinite(initStd)) throw new IllegalArgumentException("--init-std: expected a positive standard deviation, got " + initStd);
        if (checkpointEvery != null) positive("--checkpoint-every", checkpointEvery);
        timeLimitSeconds();
        oneOf("--positions", positions, POSITIONS);
        oneOf("--norm", norm, List.of("layer", "rms"));
        oneOf("--mlp", mlp, List.of("gelu", "swiglu"));
    }

    static final List<String> POSITIONS = List.of("learned", "rope", "alibi", "none");

    private static void oneOf(String option, String value, List<String> allowed) {
        if (!allowed.contains(value)) throw new IllegalArgumentException(option + ": expected one of " + String.join(", ", allowed) + ", got '" + value + "'");
    }

    int checkpointEvery() { return checkpointEvery != null ? checkpointEvery : evalEvery; }

    float minLearningRate() { return minLr != null ? minLr : lr / 10; }

    int warmupSteps() { return warmup != null ? warmup : Math.max(1, steps / 10); }

    private static void positive(String option, int v) {
        if (v <= 0) throw new IllegalArgumentException(option + ": expected > 0, got " + v);
    }

    /**
     * The option a library message is about: the library names its argument ({@code heads: must
     * divide dModel=64, got 3}); the user typed {@code --heads}. Unknown leading names are left as they are.
     */
    private static final Map<String, String> OPTION_OF = Map.ofEntries(
            Map.entry("task", "--task"), Map.entry("seq-len", "--seq-len"), Map.entry("seqLen", "--seq-len"),
            Map.entry("kv-pairs", "--kv-pairs"), Map.entry("kvPairs", "--kv-pairs"), Map.entry("vocab", "--vocab"),
            Map.entry("attention", "--attention"), Map.entry("heads", "--heads"), Map.entry("dModel", "--d-model"),
            Map.entry("layers", "--layers"), Map.entry("steps", "--steps"), Map.entry("batch", "--batch"),
            Map.entry("accumulate", "--accumulate"), Map.entry("evalEvery", "--eval-every"), Map.entry("gradClip", "--grad-clip"),
            Map.entry("text", "--text"), Map.entry("tokenizer", "--tokenizer"), Map.entry("copy-tokens", "--copy-tokens"),
            Map.entry("copyTokens", "--copy-tokens"), Map.entry("tokens", "--copy-tokens"),
            Map.entry("train-kv-pairs", "--train-kv-pairs"), Map.entry("mlpRatio", "--mlp-ratio"));

    /** {@code e}'s message with its leading argument name replaced by the option's; {@code fallback} prefixes names it does not know (null: none). */
    static IllegalArgumentException named(IllegalArgumentException e, String fallback) {
        String m = e.getMessage() == null ? "invalid value" : e.getMessage();
        if (m.startsWith("--")) return e;
        int colon = m.indexOf(':');
        String head = colon > 0 ? m.substring(0, colon) : "";
        String option = OPTION_OF.get(head);
        if (option != null) return new IllegalArgumentException(option + m.substring(colon), e);
        return fallback == null ? e : new IllegalArgumentException(fallback + " " + m, e);
    }
}
