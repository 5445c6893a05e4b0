package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.loop.Trainer;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.task.Batch;
import org.attn4j.train.task.Mqar;
import org.junit.jupiter.api.Test;

/** The training loop's bookkeeping: gradient accumulation, evaluation points, early stop, the time limit. */
class TrainerTest {
    private static final Mqar.Config TASK = Mqar.Config.of(32, 4).withVocab(64);
    private static final TransformerConfig MODEL = TransformerConfig.gpt(64, 32, 2, 16, 2);

    /**
     * Two micro-batches of 4 give the gradient of one batch of 8: the task stream yields the same 8
     * sequences either way, and every MQAR sequence marks 4 positions, so the mean of the two means
     * is the mean over all 32. (Not bit-identical: the sums run in another order.)
     */
    @Test
    void accumulationEqualsTheWholeBatch() {
        float[] whole = gradientAfterOneStep(TrainConfig.of(1, 8).withGradClip(0), 8);
        float[] accumulated = gradientAfterOneStep(TrainConfig.of(1, 4).withAccumulation(2).withGradClip(0), 4);
        double scale = 0;
        for (float g : whole) scale = Math.max(scale, Math.abs(g));
        assertTrue(scale > 0);
        for (int i = 0; i < whole.length; i++) {
            assertEquals(whole[i], accumulated[i], 1e-5 * scale + 1e-4 * Math.abs(whole[i]), "gradient [" + i + "]");
        }
    }

    private static float[] gradientAfterOneStep(TrainConfig cfg, int maxBatch) {
        TransformerLM model = new TransformerLM(MODEL, maxBatch, 1, 5);
        new Trainer(model, cfg).run(new Mqar(TASK, 9), Mqar.dataset(TASK, 1, maxBatch, 10), null);
        return model.parameters().grads().clone(); // the optimiser leaves the (unclipped) gradient in place
    }

    @Test
    void evaluatesEveryKStepsAndAfterTheLast() {
        TransformerLM model = new TransformerLM(MODEL, 4, 1, 5);
        Trainer.Result r = new Trainer(model, TrainConfig.of(7, 4).withEval(3, 2.0))
                .run(new Mqar(TASK, 1), Mqar.dataset(TASK, 2, 4, 2), null);
        assertEquals(7, r.steps().size());
        assertEquals(List.of(3, 6, 7), r.evals().stream().map(Trainer.Eval::step).toList());
        assertFalse(r.reachedTarget());
    }

    @Test
    void stopsEarlyAtTheTargetAccuracy() {
        TransformerLM model = new TransformerLM(MODEL, 4, 1, 5);
        List<Batch> heldOut = Mqar.dataset(TASK, 2, 4, 2);
        // A target of 0 is reached at the first evaluation.
        Trainer.Result r = new Trainer(model, TrainConfig.of(50, 4).withEval(2, 0.0)).run(new Mqar(TASK, 1), heldOut, null);
        assertTrue(r.reachedTarget());
        assertEquals(2, r.steps().size());
    }

    /**
     * A limit already spent after the first step: that step ends, is evaluated (3 is not an
     * evaluation step) and checkpointed as a last step, and the result says it stopped on time.
     */
    @Test
    void stopsCleanlyOnTheTimeLimit(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        TransformerLM model = new TransformerLM(MODEL, 4, 1, 5);
        List<Trainer.Progress> seen = new java.util.ArrayList<>();
        Trainer.Result r = new Trainer(model, TrainConfig.of(50, 4).withEval(3, 2.0))
                .checkpointEvery(dir, 10, 2, 0).timeLimit(1e-9)
                .run(new Mqar(TASK, 1), Mqar.dataset(TASK, 2, 4, 2), seen::add);
        assertTrue(r.stoppedOnTime());
        assertFalse(r.reachedTarget());
        assertEquals(1, r.steps().size());
        assertEquals(List.of(1), r.evals().stream().map(Trainer.Eval::step).toList());
        assertEquals(1, seen.size());
        assertTrue(seen.get(0).last(), "the listener is told no step follows");
        assertEquals(1, org.attn4j.train.checkpoint.Checkpoint.load(org.attn4j.train.checkpoint.Checkpoint.latest(dir)).state().step());

        // A limit far away changes nothing: every step, evaluations at 3, 6, 7, not stopped on time.
        TransformerLM again = new TransformerLM(MODEL, 4, 1, 5);
        Trainer.Result full = new Trainer(again, TrainConfig.of(7, 4).withEval(3, 2.0)).timeLimit(3600)
                .run(new Mqar(TASK, 1), Mqar.dataset(TASK, 2, 4, 2), null);
        assertFalse(full.stoppedOnTime());
        assertEquals(7, full.steps().size());
        assertEquals(List.of(3, 6, 7), full.evals().stream().map(Trainer.Eval::step).toList());
        assertThrows(IllegalArgumentException.class, () -> new Trainer(again, TrainConfig.of(7, 4)).timeLimit(-1));
    }
}
