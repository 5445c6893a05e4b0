package org.attn4j.train.loop;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.attn4j.train.Parameters;
import org.attn4j.train.checkpoint.Checkpoint;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.optim.AdamW;
import org.attn4j.train.optim.GradientClipping;
import org.attn4j.train.optim.LearningRate;
import org.attn4j.train.task.Batch;
import org.attn4j.train.task.Task;

/**
 * The training loop: for each step, zeroed gradients, forward and backward on {@code accumulate}
 * micro-batches from the task (their gradients averaged), global-norm clipping, the learning rate of the warm-up + cosine schedule, one AdamW step; every
 * {@code evalEvery} steps (and after the last), loss and accuracy on a held-out set, stopping early
 * once the accuracy reaches the target.
 *
 * <p>Checkpoints and resumption: with {@link #checkpointEvery}, an atomic {@link Checkpoint} is
 * written every K steps and after the last; {@link #resume} loads the latest one (weights, AdamW's
 * moments and step count, the loop's step and the training stream's position) so that
 * {@link #run} continues where it stopped. The training stream must be rebuilt from the same seed;
 * {@link #run} replays it to the saved position (the tasks are seeded generators, so drawing
 * and discarding the batches already used is exact and cheap). The model has no other randomness
 * (no dropout), so a resumed run at the same thread count gives bit for bit the losses of an
 * uninterrupted one.
 */
public final class Trainer {

    /** One optimiser step: training loss and accuracy on its batch, the rate used, the gradient norm before clipping. */
    public record Step(int step, double loss, double accuracy, float learningRate, double gradNorm) {}

    /** One evaluation after {@code step} steps (1-based count): loss and accuracy over the whole held-out set. */
    public record Eval(int step, double loss, double accuracy) {}

    /**
     * @param steps         every step taken
     * @param evals         every evaluation
     * @param reachedTarget whether training stopped because held-out accuracy reached the target
     * @param seconds       wall time of the run
     */
    public record Result(List<Step> steps, List<Eval> evals, boolean reachedTarget, double seconds, boolean stoppedOnTime) {
        public Result(List<Step> steps, List<Eval> evals, boolean reachedTarget, double seconds) {
            this(steps, evals, reachedTarget, seconds, false);
        }

        public Eval lastEval() { return evals.isEmpty() ? null : evals.get(evals.size() - 1); }
    }

    /**
     * What a listener sees: a step, and the evaluation made after it (null when none was);
     * {@code last} when no step follows (the step budget, the target or the time limit ended the run),
     * so whatever the listener records can reach the disk before the final checkpoint.
     */
    public record Progress(Step step, Eval eval, int totalSteps, boolean last) {
        public Progress(Step step, Eval eval, int totalSteps) {
            this(step, eval, totalSteps, step.step() + 1 == totalSteps);
        }
    }

    private final TransformerLM model;
    private final TrainConfig config;
    private final AdamW optimiser;
    private final LearningRate schedule;
    private Path checkpointRoot;
    private int checkpointEvery, keep = 2;
    private long seed;
    private int startStep;
    private long skipBatches;
    private double timeLimitSeconds; // 0: none

    public Trainer(TransformerLM model, TrainConfig config) {
        if (config.batch() > model.maxBatch()) {
            throw new IllegalArgumentException("batch: expected at most the model's maxBatch=" + model.maxBatch() + ", got " + config.batch());
        }
        this.model = model;
        this.config = config;
        this.optimiser = new AdamW(model.parameters(), config.weightDecay());
        this.schedule = new LearningRate(config.learningRate(), config.minLearningRate(), config.warmupSteps(), config.steps());
    }

    public AdamW optimiser() { return optimiser; }

    /**
     * Writes a checkpoint under {@code root} every {@code every} steps and after the last step,
     * keeping the newest {@code keep}; {@code seed} is recorded with it. Returns this trainer.
     */
    public Trainer checkpointEvery(Path root, int every, int keep, long seed) {
        if (every <= 0) throw new IllegalArgumentException("every: expected > 0, got " + every);
        if (keep <= 0) throw new IllegalArgumentException("keep: expected > 0, got " + keep);
        this.checkpointRoot = root;
        this.checkpointEvery = every;
        this.keep = keep;
        this.seed = seed;
        return this;
    }

    /**
     * Stops a {@link #run} once it has trained for {@code seconds} of wall time (measured from the start
     * of that call, so a resumed run gets the limit again): the step in progress finishes, the model is
     * evaluated on the held-out set (unless that step was just evaluated) and checkpointed as after a
     * last step, and the result says {@link Result#stoppedOnTime()}. The learning-rate schedule still
     * runs over {@code steps}, so a run stopped on time ends before the end of its cosine decay; choose
     * {@code steps} to fit the time and keep the limit as a bound. {@code 0} removes the limit.
     */
    public Trainer timeLimit(double seconds) {
        if (!(seconds >= 0) || Double.isInfinite(seconds)) throw new IllegalArgumentException("seconds: expected >= 0 (0 for no limit), got " + seconds);
        this.timeLimitSeconds = seconds;
        return this;
    }

    /**
     * Loads the latest checkpoint under {@code root} into the model and the optimiser and positions
     * the next {@link #run} after its step. Returns the steps already done (0, and nothing changes,
     * when {@code root} holds no checkpoint). Throws IllegalArgumentException when the checkpoint's
     * model config or training settings differ from this trainer's (the curve would not continue).
     */
    public int resume(Path root) throws IOException {
        Path dir = Checkpoint.latest(root);
        if (dir == null) return 0;
        Checkpoint.Loaded c = Checkpoint.load(dir);
        if (!c.state().train().equals(config)) {
            throw new IllegalArgumentException("resume: " + dir + " was written with " + c.state().train() + ", this run has " + config);
        }
        Checkpoint.restore(c, model, optimiser);
        this.startStep = c.state().step();
        this.skipBatches = c.state().batchesDrawn();
        return startStep;
    }

    /**
     * Runs up to {@code config.steps()} steps (from the resumed step, if {@link #resume} found one)
     * on batches from {@code train}, evaluating on {@code heldOut}. The result lists the steps of
     * this call only.
     */
    public Result run(Task train, List<Batch> heldOut, Consumer<Progress> listener) {
        long start = System.nanoTime();
        List<Step> steps = new ArrayList<>();
        List<Eval> evals = new ArrayList<>();
        Parameters params = model.parameters();
        long drawn = 0;
        for (; drawn < skipBatches; drawn++) train.next(config.batch()); // replay the stream to the saved position
        boolean reached = false, outOfTime = false;
        long deadline = start + (long) (timeLimitSeconds * 1e9);
        for (int s = startStep; s < config.steps() && !reached && !outOfTime; s++) {
            params.zeroGrad();
            double lossSum = 0;
            long marked = 0, correct = 0;
            for (int micro = 0; micro < config.accumulate(); micro++) {
                Batch b = train.next(config.batch());
                drawn++;
                lossSum += model.forward(b.tokens(), b.targets(), b.lossMask());
                marked += model.lastMarked();
                correct += model.lastCorrect();
                model.backward(); // accumulates into the gradient buffer
            }
            if (config.accumulate() > 1) {
                // The mean of the micro-batches' mean-loss gradients: the gradient of the whole
                // step's mean loss when every micro-batch marks as many positions (as MQAR does).
                float inv = 1f / config.accumulate();
                float[] g = params.grads();
                for (int i = 0; i < g.length; i++) g[i] *= inv;
            }
            double loss = lossSum / config.accumulate();
            double accuracy = marked == 0 ? 0 : (double) correct / marked;
            double norm = GradientClipping.clip(params, config.gradClip());
            float lr = schedule.at(s);
            optimiser.step(lr);
            Step step = new Step(s, loss, accuracy, lr, norm);
            steps.add(step);
            outOfTime = timeLimitSeconds > 0 && s + 1 < config.steps() && System.nanoTime() - deadline > 0;
            Eval eval = null;
            if ((s + 1) % config.evalEvery() == 0 || s + 1 == config.steps() || outOfTime) {
                eval = evaluate(model, heldOut, s + 1);
                evals.add(eval);
                reached = eval.accuracy() >= config.targetAccuracy();
            }
            boolean last = s + 1 == config.steps() || reached || outOfTime;
            // The listener sees the step before its checkpoint is written, so whatever it records about the
            // step (a metrics file) can be on disk before a checkpoint that a resume would continue after.
            if (listener != null) listener.accept(new Progress(step, eval, config.steps(), last));
            if (checkpointRoot != null && ((s + 1) % checkpointEvery == 0 || last)) {
                try {
                    Checkpoint.save(checkpointRoot, model, optimiser, new Checkpoint.State(s + 1, drawn, seed, model.threads(), config), keep);
                } catch (IOException e) {
                    throw new UncheckedIOException("checkpoint: could not write under " + checkpointRoot + ": " + e.getMessage(), e);
                }
            }
        }
        startStep = 0;
        skipBatches = 0;
        return new Result(steps, evals, reached, (System.nanoTime() - start) / 1e9, outOfTime && !reached);
    }

    /**
     * The seed of a run's initial weights, derived from the run's seed (which seeds its data), so
     * weights and data share no random stream. {@code attn4j train --seed S} initialises with
     * {@code modelSeed(S)}.
     */
    public static long modelSeed(long runSeed) { return runSeed * 0x9E3779B97F4A7C15L + 0x2545F4914F6CDD1DL; }

    /** Loss (mean over all marked positions) and accuracy of {@code model} on {@code batches}, without gradients. */
    public static Eval evaluate(TransformerLM model, List<Batch> batches, int step) {
        double lossSum = 0;
        long marked = 0, correct = 0;
        for (Batch b : batches) {
            double loss = model.evaluate(b.tokens(), b.targets(), b.lossMask());
            lossSum += loss * model.lastMarked();
            marked += model.lastMarked();
            correct += model.lastCorrect();
        }
        return new Eval(step, marked == 0 ? 0 : lossSum / marked, marked == 0 ? 0 : (double) correct / marked);
    }
}
