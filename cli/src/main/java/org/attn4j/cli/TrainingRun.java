package org.attn4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attn4j.train.checkpoint.Checkpoint;
import org.attn4j.train.export.HfExport;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.loop.Trainer;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.report.Chart;
import org.attn4j.train.report.Figure;
import org.attn4j.train.report.RunOutcome;
import org.attn4j.train.task.Tasks;
import org.attn4j.variants.Settings;
import org.attn4j.variants.trainable.ExactTrainableAttention;
import org.attn4j.variants.trainable.TrainableAttention;
import org.attn4j.variants.trainable.TrainableRegistry;

/**
 * One training run, from options to the files of its output directory. {@link #plan} checks every
 * option and builds the task (cheap: no model yet), so a command can validate all its runs before it
 * trains any; {@link #execute} trains and writes:
 * <ul>
 *   <li>{@value #CONFIG}: every option of the run, before training starts;</li>
 *   <li>{@value #METRICS}: one JSON object per optimiser step ({@code "type":"step"}) and per
 *       evaluation ({@code "type":"eval"}), rewritten whole and atomically every few seconds, after
 *       each evaluation, at the end and when the JVM is interrupted, so it is always a valid prefix
 *       of the run;</li>
 *   <li>{@value #PLOT} and {@value #PAGE}: loss and accuracy against steps, as a PNG and as a
 *       self-contained web page (inline SVG, no scripts), rewritten with the metrics after every
 *       evaluation and at the end;</li>
 *   <li>{@value #SUMMARY}: the run's result, written last: a run is finished exactly when it exists.</li>
 * </ul>
 */
final class TrainingRun {
    static final String CONFIG = "config.json", METRICS = "metrics.jsonl", PLOT = "curves.png", PAGE = "report.html", SUMMARY = "summary.json",
            CHECKPOINTS = "checkpoints";

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper LINES = new ObjectMapper();

    /** Target accuracy that is never reached: the trainer's way of saying "no early stop". */
    private static final double NEVER = 2.0;

    /**
     * A run whose every option has been checked.
     *
     * @param attention     the mechanism as written ({@code NAME} or {@code NAME:key=value:...})
     * @param attentionName the registry name
     * @param settings      the mechanism's settings: those in {@code attention}, then {@code --set}
     */
    record Plan(TrainingOptions options, String attention, String attentionName, Map<String, String> settings, int dModel, long seed,
                Tasks.Prepared task, TrainableAttention mechanism, TransformerConfig model, TrainConfig training) {

        long tokensPerStep() { return (long) training.batch() * training.accumulate() * task.seqLen(); }

        /** A directory name for this run inside a comparison: mechanism, width and seed, in characters safe on every file system. */
        String dirName() { return attention.replaceAll("[^A-Za-z0-9._=-]", "_").replace('=', '-') + "-d" + dModel + "-s" + seed; }
    }

    private TrainingRun() {}

    /**
     * Checks the options of one run and prepares its task; IllegalArgumentException naming the option
     * for anything wrong (unknown task or attention, a variant without a backward, sizes that do not
     * fit together).
     */
    static Plan plan(TrainingOptions o, String attention, int dModel, long seed) {
        o.check();
        if (dModel <= 0) throw new IllegalArgumentException("--d-model: expected > 0, got " + dModel);
        if (dModel % o.heads != 0) throw new IllegalArgumentException("--heads: must divide --d-model=" + dModel + ", got " + o.heads);

        // The mechanism: NAME[:key=value]... plus --set.
        String[] parts = attention.split(":", -1);
        String name = parts[0].trim();
        if (name.isEmpty()) throw new IllegalArgumentException("--attention: expected NAME or NAME:key=value, got '" + attention + "'");
        List<String> pairs = new ArrayList<>(Arrays.asList(parts).subList(1, parts.length));
        for (String p : pairs) {
            if (p.indexOf('=') <= 0) throw new IllegalArgumentException("--attention: expected NAME:key=value[:key=value], got '" + attention + "'");
        }
        pairs.addAll(o.settings);
        TrainableAttention mechanism;
        Map<String, String> settings = new LinkedHashMap<>();
        try {
            Settings s = Settings.parse(pairs);
            mechanism = TrainableRegistry.create(name, s);
            for (String p : pairs) settings.put(p.substring(0, p.indexOf('=')).trim(), p.substring(p.indexOf('=') + 1).trim());
        } catch (IllegalArgumentException e) {
            throw TrainingOptions.named(e, "--set");
        }

        if (o.text != null && !o.task.equals("lm")) throw new IllegalArgumentException("--text: task '" + o.task + "' reads no text (only lm does)");
        Tasks.Prepared task;
        try {
            Tasks.Options to = new Tasks.Options(o.seqLen, o.vocab, o.kvPairs, o.copyTokens, o.text, o.tokenizer, o.trainKvPairs);
            task = Tasks.prepare(o.task, to, seed, o.evalBatches, o.batch);
        } catch (IllegalArgumentException e) {
            throw TrainingOptions.named(e, null);
        }

        TransformerConfig model;
        TrainConfig training;
        try {
            model = modelConfig(o, mechanism, name, settings, task, dModel);
            training = new TrainConfig(o.steps, o.batch, o.accumulate, o.lr, o.minLearningRate(), o.warmupSteps(), o.weightDecay,
                    o.gradClip, o.evalEvery, o.targetAccuracy == null ? NEVER : o.targetAccuracy);
        } catch (IllegalArgumentException e) {
            throw TrainingOptions.named(e, null);
        }
        return new Plan(o, attention, name, settings, dModel, seed, task, mechanism, model, training);
    }

    /**
     * THE MODEL FROM THE OPTIONS: the one place a run's {@link TransformerConfig} is chosen. The
     * model's attention is the mechanism by name with its settings ({@code full} takes its ALiBi and
     * window as the config's own components); the model builds it again from the config, so a
     * checkpoint's config.json names it. Layer choices (RoPE, RMSNorm, SwiGLU, untied output) keep
     * GPT-2's defaults until options select them.
     */
    static TransformerConfig modelConfig(TrainingOptions o, TrainableAttention mechanism, String name, Map<String, String> settings,
                                         Tasks.Prepared task, int dModel) {
        TransformerConfig c = TransformerConfig.gpt(task.vocab(), task.seqLen(), o.layers, dModel, o.heads).withMlpRatio(o.mlpRatio).withInitStd(o.initStd)
                .withLearnedPositions(o.positions.equals("learned")).withRope(o.positions.equals("rope"))
                .withNorm(o.norm.equals("rms") ? TransformerConfig.Norm.RMS : TransformerConfig.Norm.LAYER)
                .withMlp(o.mlp.equals("swiglu") ? TransformerConfig.Mlp.SWIGLU : TransformerConfig.Mlp.GELU)
                .withTiedOutput(!o.untied);
        boolean alibi = o.positions.equals("alibi");
        if (mechanism instanceof ExactTrainableAttention exact) return c.withAlibi(alibi || exact.alibi()).withWindow(exact.window());
        if (alibi) throw new IllegalArgumentException("--positions: alibi is added inside the engine's full attention, not in '" + name + "'");
        List<String> pairs = new ArrayList<>();
        settings.forEach((k, v) -> pairs.add(k + "=" + v));
        TransformerConfig withMechanism = c.withAttention(name, pairs);
        withMechanism.createAttention().parameters(o.heads, dModel / o.heads, task.seqLen()); // shape constraints fail here, named
        return withMechanism;
    }

    /** The model's initial weights come from a seed of their own, so weights and data share no random stream. */
    static long modelSeed(long seed) { return Trainer.modelSeed(seed); }

    /**
     * Trains {@code plan} into {@code dir} (created if missing) and returns its summary. Files of an
     * earlier, unfinished attempt in {@code dir} are replaced, unless {@code resume}: then the run
     * continues from the newest checkpoint in {@value #CHECKPOINTS} (weights, AdamW state, step and
     * the position in the training stream), keeping the metrics recorded up to that step, so the
     * files end as those of an uninterrupted run (bit for bit in the losses at the same thread count).
     * Without a checkpoint to continue from it starts again.
     *
     * @param bar a redrawn progress bar (else plain lines)
     */
    static ObjectNode execute(Plan plan, Path dir, PrintWriter err, String label, boolean bar, boolean resume, Export export) throws IOException {
        Files.createDirectories(dir);
        Path checkpoints = dir.resolve(CHECKPOINTS);
        boolean continuing = resume && Checkpoint.latest(checkpoints) != null;
        if (!continuing) {
            for (String f : List.of(SUMMARY, PLOT, PAGE, METRICS)) Files.deleteIfExists(dir.resolve(f));
            deleteTree(checkpoints);
        }
        ObjectNode config = config(plan);
        AtomicFiles.write(dir.resolve(CONFIG), out -> JSON.writeValue(out, config));

        TransformerLM model = new TransformerLM(plan.model(), plan.training().batch(), plan.options().threads, modelSeed(plan.seed()));
        long parameters = model.parameters().size();
        Trainer trainer = new Trainer(model, plan.training())
                .checkpointEvery(checkpoints, plan.options().checkpointEvery(), 2, plan.seed())
                .timeLimit(plan.options().timeLimitSeconds());
        Recorder rec = new Recorder(dir, config, plan.tokensPerStep(), plan.options().checkpointEvery());
        if (continuing) {
            int done;
            try {
                done = trainer.resume(checkpoints);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--resume: " + e.getMessage(), e);
            }
            rec.reload(done);
            // --time-limit bounds the run's training time, the sessions before this resume included
            // (at least one step runs in a session that resumes past it).
            double limit = plan.options().timeLimitSeconds();
            if (limit > 0) trainer.timeLimit(Math.max(1e-9, limit - rec.earlierSeconds));
            err.printf(java.util.Locale.ROOT, "attn4j: resuming %s after step %d of %d%n", dir, done, plan.training().steps());
            err.flush();
        }
        TrainingProgress progress = new TrainingProgress(err, label, plan.tokensPerStep(), bar);
        Thread onInterrupt = new Thread(rec::writeInterrupted, "attn4j-train-interrupted");
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        Trainer.Result result;
        try {
            result = trainer.run(plan.task().train(), plan.task().heldOut(), p -> {
                rec.record(p);
                progress.update(p);
            });
        } finally {
            progress.finish();
            try {
                Runtime.getRuntime().removeShutdownHook(onInterrupt);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already exiting: the hook writes what there is
            }
        }
        ObjectNode summary = rec.summary(plan, parameters);
        summary.put("threads", model.threads()); // as resolved: bit-identical reruns need the same count
        summary.put("stopped_on_time", result.stoppedOnTime());
        rec.finish(summary);
        if (export != null) {
            HfExport.write(model, plan.task().tokenizer(), export.layout(), export.dir());
            err.println("attn4j: exported the model in " + export.layout() + " layout into " + export.dir());
            err.flush();
        }
        return summary;
    }

    /** Where and in which Hugging Face layout the trained model is exported. */
    record Export(Path dir, HfExport.Layout layout) {}

    /**
     * The export of {@code plan}'s model into {@code dir}, checked now against a model of the same
     * shape (so a model the layout cannot hold is refused before training, naming {@code --export}):
     * Llama's layout for a model with RMSNorm, SwiGLU or RoPE, GPT-2's otherwise.
     */
    static Export export(Plan plan, Path dir) {
        TransformerConfig m = plan.model();
        HfExport.Layout layout = m.norm() == TransformerConfig.Norm.RMS || m.mlp() == TransformerConfig.Mlp.SWIGLU || m.rope()
                ? HfExport.Layout.LLAMA : HfExport.Layout.GPT2;
        try {
            HfExport.tensors(TransformerLM.declare(m), HfExport.Architecture.of(m), layout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--export: the model cannot be written in " + layout + " layout: " + e.getMessage(), e);
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IllegalArgumentException("--export: " + dir + " is a file, not a directory");
        return new Export(dir, layout);
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (java.util.stream.Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** Every option of the run and what follows from them (vocabulary, parameter count, tokens per step). */
    static ObjectNode config(Plan p) {
        TrainingOptions o = p.options();
        ObjectNode root = JSON.createObjectNode();
        ObjectNode task = root.putObject("task");
        task.put("name", o.task).put("seq_len", p.task().seqLen()).put("vocab", p.task().vocab()).put("kv_pairs", o.kvPairs)
                .put("copy_tokens", o.copyTokens).put("text", o.text == null ? null : o.text.toString())
                .put("tokenizer", o.tokenizer).put("eval_batches", o.evalBatches);
        if (!o.trainKvPairs.isEmpty()) o.trainKvPairs.forEach(task.putArray("train_kv_pairs")::add);
        ObjectNode att = root.putObject("attention");
        att.put("spec", p.attention()).put("name", p.attentionName());
        ObjectNode set = att.putObject("settings");
        p.settings().forEach(set::put);
        TransformerConfig m = p.model();
        root.putObject("model").put("layers", m.layers()).put("d_model", m.dModel()).put("heads", m.heads()).put("mlp_ratio", m.mlpRatio())
                .put("vocab", m.vocab()).put("seq_len", m.seqLen()).put("learned_positions", m.learnedPositions()).put("alibi", m.alibi())
                .put("window", m.window()).put("rope", m.rope()).put("norm", o.norm).put("mlp", o.mlp).put("tied_output", m.tiedOutput())
                .put("init_std", m.initStd())
                .put("parameters", TransformerLM.declare(m).size());
        TrainConfig t = p.training();
        ObjectNode training = root.putObject("training");
        training.put("steps", t.steps()).put("batch", t.batch()).put("accumulate", t.accumulate())
                .put("lr", t.learningRate()).put("min_lr", t.minLearningRate()).put("warmup", t.warmupSteps())
                .put("weight_decay", t.weightDecay()).put("grad_clip", t.gradClip()).put("eval_every", t.evalEvery())
                .put("target_accuracy", o.targetAccuracy).put("seed", p.seed()).put("model_seed", modelSeed(p.seed()))
                .put("threads", o.threads).put("tokens_per_step", p.tokensPerStep());
        if (o.timeLimit != null) training.put("time_limit_seconds", o.timeLimitSeconds()); // absent without one: older runs still match
        return root;
    }

    /**
     * Checks that the run in {@code dir} was made with {@code plan}'s options, so a finished run is
     * never reported (or reused by a comparison) for options it was not trained with.
     * IllegalArgumentException naming {@code option} and the first setting that differs.
     */
    static void checkSameOptions(Plan plan, Path dir, String option) throws IOException {
        Path file = dir.resolve(CONFIG);
        if (!Files.exists(file)) throw new IllegalArgumentException(option + ": " + dir + " has a summary but no " + CONFIG);
        JsonNode had = JSON.readTree(file.toFile());
        JsonNode now = JSON.readTree(JSON.writeValueAsString(config(plan))); // through text, so numbers compare as they read back
        String diff = firstDifference(had, now, "");
        if (diff != null) {
            throw new IllegalArgumentException(option + ": the run in " + dir + " was trained with other options (" + diff
                    + "); choose another directory or remove that run");
        }
    }

    /** Whether {@code dir}'s {@value #CONFIG} records exactly {@code plan}'s options. */
    static boolean sameOptions(Plan plan, Path dir) throws IOException {
        JsonNode had = JSON.readTree(dir.resolve(CONFIG).toFile());
        return firstDifference(had, JSON.readTree(JSON.writeValueAsString(config(plan))), "") == null;
    }

    /** The first leaf where {@code a} and {@code b} differ, as {@code path: a vs b}; null when equal. */
    static String firstDifference(JsonNode a, JsonNode b, String path) {
        if (a.isObject() && b.isObject()) {
            java.util.Set<String> keys = new java.util.LinkedHashSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                String d = firstDifference(a.path(k), b.path(k), path.isEmpty() ? k : path + "." + k);
                if (d != null) return d;
            }
            return null;
        }
        return a.equals(b) ? null : path + ": " + (a.isMissingNode() ? "absent" : a.toString()) + " vs " + (b.isMissingNode() ? "absent" : b.toString());
    }

    /**
     * The summary of a run from all its steps and evaluations (a resumed run's include those before
     * the interruption) and its wall time (the sessions' together).
     */
    static ObjectNode summary(Plan p, List<Trainer.Step> steps, List<Trainer.Eval> evals, double seconds, long parameters) {
        Trainer.Eval last = evals.get(evals.size() - 1);
        double best = 0;
        int stepsTo99 = -1;
        for (Trainer.Eval e : evals) {
            best = Math.max(best, e.accuracy());
            if (stepsTo99 < 0 && e.accuracy() >= 0.99) stepsTo99 = e.step();
        }
        boolean reached = last.accuracy() >= p.training().targetAccuracy();
        long tokens = steps.size() * p.tokensPerStep();
        ObjectNode s = JSON.createObjectNode();
        s.put("task", p.options().task).put("attention", p.attention()).put("d_model", p.dModel()).put("layers", p.model().layers())
                .put("heads", p.model().heads()).put("seed", p.seed()).put("steps", steps.size()).put("max_steps", p.training().steps())
                .put("final_loss", last.loss()).put("final_accuracy", last.accuracy()).put("best_accuracy", best);
        if (stepsTo99 > 0) s.put("steps_to_99", stepsTo99);
        else s.putNull("steps_to_99");
        s.put("reached_target", reached).put("wall_seconds", seconds).put("tokens", tokens)
                .put("tokens_per_second", tokens / Math.max(seconds, 1e-9)).put("parameters", parameters)
                .put("finished", Instant.now().toString());
        return s;
    }

    /** A finished run's summary file as a comparison row reads it. */
    static RunOutcome outcome(JsonNode s) {
        return new RunOutcome(s.path("attention").asText(), s.path("d_model").asInt(), s.path("seed").asLong(),
                s.path("final_accuracy").asDouble(), s.path("final_loss").asDouble(), s.path("steps_to_99").isNumber() ? s.path("steps_to_99").asInt() : -1,
                s.path("wall_seconds").asDouble(), s.path("tokens_per_second").asDouble(), s.path("parameters").asLong());
    }

    /**
     * The run's growing record: steps and evaluations in memory, {@value #METRICS} rewritten from them.
     * Synchronised because the interrupt hook may write while the training thread records.
     */
    private static final class Recorder {
        private final Path dir;
        private final ObjectNode config;
        private final long tokensPerStep;
        private final long start = System.nanoTime();
        private double earlierSeconds; // wall time of the sessions before a resume
        private final int checkpointEvery;
        private final StringBuilder lines = new StringBuilder();
        private final List<Trainer.Step> steps = new ArrayList<>();
        private final List<Trainer.Eval> evals = new ArrayList<>();
        private long lastWrite = System.nanoTime();
        private boolean closed; // finished, or interrupted: nothing more is written

        Recorder(Path dir, ObjectNode config, long tokensPerStep, int checkpointEvery) {
            this.checkpointEvery = checkpointEvery;
            this.dir = dir;
            this.config = config;
            this.tokensPerStep = tokensPerStep;
        }

        synchronized void record(Trainer.Progress p) {
            if (closed) return; // the JVM is exiting and the hook has written what there was
            Trainer.Step s = p.step();
            double seconds = seconds();
            steps.add(s);
            line(LINES.createObjectNode().put("type", "step").put("step", s.step() + 1).put("loss", s.loss()).put("accuracy", s.accuracy())
                    .put("lr", s.learningRate()).put("grad_norm", s.gradNorm()).put("tokens", (s.step() + 1) * tokensPerStep)
                    .put("seconds", seconds));
            if (p.eval() != null) {
                evals.add(p.eval());
                line(LINES.createObjectNode().put("type", "eval").put("step", p.eval().step()).put("loss", p.eval().loss())
                        .put("accuracy", p.eval().accuracy()).put("seconds", seconds));
            }
            // Rewriting costs O(file); space the rewrites out as the file grows (2 s + 1 s per MB). After an
            // evaluation the curves and the page are rewritten too, so a run killed outright still has them.
            try {
                // A checkpoint follows this step: the metrics reach the disk first, so a resume finds every step it continues after.
                boolean checkpoint = (s.step() + 1) % checkpointEvery == 0 || p.last();
                if (p.eval() != null) {
                    Map<Path, AtomicFiles.Content> files = new LinkedHashMap<>();
                    putMetrics(files);
                    putReport(files, null, "In progress: written after step " + p.eval().step() + " of " + p.totalSteps() + ".");
                    AtomicFiles.writeAll(files);
                    lastWrite = System.nanoTime();
                } else if (checkpoint || System.nanoTime() - lastWrite > 2_000_000_000L + lines.length() * 1_000L) {
                    Map<Path, AtomicFiles.Content> files = new LinkedHashMap<>();
                    putMetrics(files);
                    AtomicFiles.writeAll(files);
                    lastWrite = System.nanoTime();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private double seconds() { return earlierSeconds + (System.nanoTime() - start) / 1e9; }

        /**
         * Takes back the lines of {@value #METRICS} up to step {@code done} (the checkpoint's step;
         * later lines belong to steps that will run again) and their steps and evaluations.
         */
        synchronized void reload(int done) throws IOException {
            Path file = dir.resolve(METRICS);
            if (!Files.exists(file)) throw new IllegalArgumentException("--resume: " + dir + " has a checkpoint but no " + METRICS);
            for (String l : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (l.isBlank()) continue;
                JsonNode n = LINES.readTree(l);
                int step = n.path("step").asInt();
                if (step > done) continue;
                if (n.path("type").asText().equals("step")) {
                    steps.add(new Trainer.Step(step - 1, n.path("loss").asDouble(), n.path("accuracy").asDouble(),
                            (float) n.path("lr").asDouble(), n.path("grad_norm").asDouble()));
                } else {
                    evals.add(new Trainer.Eval(step, n.path("loss").asDouble(), n.path("accuracy").asDouble()));
                }
                lines.append(l).append('\n');
                earlierSeconds = Math.max(earlierSeconds, n.path("seconds").asDouble());
            }
            if (steps.size() != done) {
                throw new IllegalArgumentException("--resume: " + METRICS + " in " + dir + " records " + steps.size()
                        + " steps, the checkpoint " + done + "; the run cannot be continued consistently");
            }
        }

        synchronized ObjectNode summary(Plan plan, long parameters) {
            return TrainingRun.summary(plan, steps, evals, seconds(), parameters);
        }

        private void line(ObjectNode n) {
            try {
                lines.append(LINES.writeValueAsString(n)).append('\n');
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private void putMetrics(Map<Path, AtomicFiles.Content> files) {
            byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
            files.put(dir.resolve(METRICS), out -> out.write(bytes));
        }

        /** The end: metrics, plot and page together, then the summary last. */
        synchronized void finish(ObjectNode summary) throws IOException {
            if (closed) return;
            Map<Path, AtomicFiles.Content> files = new LinkedHashMap<>();
            putMetrics(files);
            putReport(files, summary, null);
            AtomicFiles.writeAll(files);
            AtomicFiles.write(dir.resolve(SUMMARY), out -> JSON.writeValue(out, summary));
            closed = true;
        }

        /**
         * Interrupted (Ctrl-C): what was measured so far, without a summary, so the run counts as
         * unfinished. The metrics go first and alone, so a failure drawing the curves cannot lose them.
         */
        synchronized void writeInterrupted() {
            if (closed) return;
            closed = true;
            try {
                Map<Path, AtomicFiles.Content> files = new LinkedHashMap<>();
                putMetrics(files);
                AtomicFiles.writeAll(files);
                if (!steps.isEmpty()) {
                    files.clear();
                    putReport(files, null, "Interrupted after step " + steps.size() + ": this run did not finish.");
                    AtomicFiles.writeAll(files);
                }
            } catch (IOException | RuntimeException e) {
                System.err.println("attn4j: could not save the interrupted run's files: " + e);
            }
        }

        private void putReport(Map<Path, AtomicFiles.Content> files, ObjectNode summary, String note) {
            Figure fig = curves(steps, evals, config.path("attention").path("spec").asText() + ", d_model " + config.path("model").path("d_model").asInt());
            String page = TrainingPages.run(config, summary, note, fig, evals);
            files.put(dir.resolve(PLOT), fig::writePng);
            files.put(dir.resolve(PAGE), out -> out.write(page.getBytes(StandardCharsets.UTF_8)));
        }
    }

    /** Loss (training steps and held-out) and accuracy (the same) against optimiser steps. */
    static Figure curves(List<Trainer.Step> steps, List<Trainer.Eval> evals, String title) {
        double[] sx = new double[steps.size()], sLoss = new double[steps.size()], sAcc = new double[steps.size()];
        for (int i = 0; i < sx.length; i++) {
            sx[i] = steps.get(i).step() + 1;
            sLoss[i] = steps.get(i).loss();
            sAcc[i] = steps.get(i).accuracy();
        }
        double[] ex = new double[evals.size()], eLoss = new double[evals.size()], eAcc = new double[evals.size()];
        for (int i = 0; i < ex.length; i++) {
            ex[i] = evals.get(i).step();
            eLoss[i] = evals.get(i).loss();
            eAcc[i] = evals.get(i).accuracy();
        }
        Chart loss = Chart.builder().title("loss — " + title).xLabel("step").yLabel("cross-entropy (nats)")
                .line("training batch", sx, sLoss).points("held-out", ex, eLoss, null).build();
        Chart acc = Chart.builder().title("accuracy — " + title).xLabel("step").yLabel("accuracy").yRange(0, 1)
                .line("training batch", sx, sAcc).points("held-out", ex, eAcc, null).build();
        return new Figure(List.of(loss, acc), 760, 300);
    }
}
