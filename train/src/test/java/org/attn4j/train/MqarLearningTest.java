package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.loop.Trainer;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.task.Batch;
import org.attn4j.train.task.Mqar;
import org.junit.jupiter.api.Test;

/**
 * A short MQAR run shows the model learns from context (a bounded number of steps, not a time limit,
 * so a slow machine takes longer but cannot fail it).
 *
 * <p>What the thresholds prove: every sequence draws fresh key→value pairs, so a model that ignores
 * the context can at best spread its bet over the V/2 possible values: loss ≥ ln(V/2) = ln 64 ≈ 4.16
 * and accuracy ≈ 1/64. A held-out loss a whole nat below that, and an accuracy of several times 1/64,
 * can only come from reading the pairs in the sequence. (Picking uniformly among the 4 values present
 * would give ln 4 ≈ 1.39 and 25 %; matching the queried key gives 0 and 100 %, which takes longer
 * than a unit test should run.)
 */
class MqarLearningTest {

    @Test
    void lossFallsBelowEveryContextFreePredictor() {
        int vocab = 128, seqLen = 64, batch = 32, steps = 250;
        Mqar.Config task = Mqar.Config.of(seqLen, 4).withVocab(vocab); // Zoology Figure 2 settings, smaller vocabulary
        TransformerLM model = new TransformerLM(TransformerConfig.gpt(vocab, seqLen, 2, 64, 2), batch, 2, 1);
        TrainConfig cfg = TrainConfig.of(steps, batch).withLearningRate(3e-3f, 3e-4f).withWarmup(25).withEval(50, 2.0);
        List<Batch> heldOut = Mqar.dataset(task, 4, batch, 1_000_001);
        Trainer.Eval start = Trainer.evaluate(model, heldOut, 0);
        Trainer.Result r = new Trainer(model, cfg).run(new Mqar(task, 1), heldOut, p -> {
            if (p.eval() != null) {
                System.out.printf("[mqar] step %d train loss %.3f held-out loss %.3f accuracy %.3f%n",
                        p.eval().step(), p.step().loss(), p.eval().loss(), p.eval().accuracy());
            }
        });
        Trainer.Eval end = r.lastEval();
        System.out.printf("[mqar] %d steps in %.1f s: held-out loss %.3f -> %.3f, accuracy %.3f -> %.3f%n",
                r.steps().size(), r.seconds(), start.loss(), end.loss(), start.accuracy(), end.accuracy());
        double contextFree = Math.log(vocab / 2.0);
        assertTrue(start.loss() > contextFree, "starts no better than chance: " + start.loss());
        assertTrue(end.loss() < contextFree - 1, "held-out loss " + end.loss() + " must be a nat below ln(V/2) = " + contextFree);
        assertTrue(end.accuracy() > 5.0 / 64, "held-out accuracy " + end.accuracy() + " must be well above 1/64");
    }
}
