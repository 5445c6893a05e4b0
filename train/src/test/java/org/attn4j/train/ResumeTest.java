package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.loop.Trainer;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.task.Batch;
import org.attn4j.train.task.Mqar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run interrupted after step k and resumed from its checkpoint gives, bit for bit, the losses,
 * gradient norms, evaluations and final weights of an uninterrupted run (same seed, same threads).
 * Gradient accumulation is on, so the training stream's position (two batches per step) matters.
 */
class ResumeTest {
    private static final Mqar.Config TASK = Mqar.Config.of(16, 2).withVocab(32);
    private static final TransformerConfig MODEL = TransformerConfig.gpt(32, 16, 2, 16, 2).withRope(true).withLearnedPositions(false);
    private static final TrainConfig TRAIN = TrainConfig.of(9, 4).withAccumulation(2).withLearningRate(3e-3f, 3e-4f).withWarmup(3).withEval(3, 2.0);
    private static final int THREADS = 2;
    private static final long SEED = 17;

    @TempDir
    Path dir;

    /** Thrown by the listener to stop a run as a crash would. */
    private static final class Interrupted extends RuntimeException {}

    @Test
    void resumedRunMatchesTheUninterruptedOne() throws IOException {
        List<Batch> heldOut = Mqar.dataset(TASK, 2, 4, 99);
        TransformerLM whole = new TransformerLM(MODEL, 4, THREADS, SEED);
        Trainer.Result full = new Trainer(whole, TRAIN).run(new Mqar(TASK, SEED), heldOut, null);

        // Checkpoints every 2 steps; the run dies after step 5 (index 4), so the latest checkpoint is step 4.
        TransformerLM first = new TransformerLM(MODEL, 4, THREADS, SEED);
        assertThrows(Interrupted.class, () -> new Trainer(first, TRAIN).checkpointEvery(dir, 2, 2, SEED)
                .run(new Mqar(TASK, SEED), heldOut, p -> {
                    if (p.step().step() == 4) throw new Interrupted();
                }));

        // A new process: other initial weights, a fresh optimiser, the task stream rebuilt from the seed.
        TransformerLM second = new TransformerLM(MODEL, 4, THREADS, SEED + 1);
        Trainer resumed = new Trainer(second, TRAIN).checkpointEvery(dir, 2, 2, SEED);
        assertEquals(4, resumed.resume(dir));
        Trainer.Result rest = resumed.run(new Mqar(TASK, SEED), heldOut, null);

        assertEquals(5, rest.steps().size());
        double[] expected = full.steps().subList(4, 9).stream().mapToDouble(Trainer.Step::loss).toArray();
        double[] actual = rest.steps().stream().mapToDouble(Trainer.Step::loss).toArray();
        assertArrayEquals(bits(expected), bits(actual), "losses of steps 4..8: " + Arrays.toString(expected) + " vs " + Arrays.toString(actual));
        assertArrayEquals(bits(full.steps().subList(4, 9).stream().mapToDouble(Trainer.Step::gradNorm).toArray()),
                bits(rest.steps().stream().mapToDouble(Trainer.Step::gradNorm).toArray()), "gradient norms");
        assertEquals(List.of(6, 9), rest.evals().stream().map(Trainer.Eval::step).toList());
        assertEquals(Double.doubleToRawLongBits(full.lastEval().loss()), Double.doubleToRawLongBits(rest.lastEval().loss()), "held-out loss");
        assertArrayEquals(whole.parameters().values(), second.parameters().values(), "final weights");
        assertTrue(expected[0] != expected[4], "the loss moved, so matching it means something");
    }

    @Test
    void resumeRefusesOtherSettingsAndStartsFreshWithoutCheckpoint() throws IOException {
        TransformerLM model = new TransformerLM(MODEL, 4, 1, SEED);
        Trainer t = new Trainer(model, TRAIN);
        assertEquals(0, t.resume(dir), "nothing to resume");
        new Trainer(model, TrainConfig.of(2, 4)).checkpointEvery(dir, 1, 1, SEED).run(new Mqar(TASK, SEED), Mqar.dataset(TASK, 1, 4, 5), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(model, TRAIN).resume(dir));
        assertTrue(e.getMessage().startsWith("resume:"), e.getMessage());
    }

    private static long[] bits(double[] a) {
        return Arrays.stream(a).mapToLong(Double::doubleToRawLongBits).toArray();
    }
}
