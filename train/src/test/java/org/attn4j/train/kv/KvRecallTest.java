package org.attn4j.train.kv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.attn4j.models.decoder.DecoderModel;
import org.attn4j.models.decoder.HfDecoder;
import org.attn4j.models.decoder.KvPolicy;
import org.attn4j.train.export.HfExport;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.loop.Trainer;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.task.Batch;
import org.attn4j.train.task.Mqar;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MQAR recall through the decoder's KV cache against the training stack's own evaluation of the same
 * weights: with the whole cache it is the training forward's held-out accuracy; with a sliding window
 * of B keys it is the training forward with a window of B − 1 keys back (the model the window policy
 * claims to equal); a budget the sequence never reaches changes nothing for any policy.
 */
class KvRecallTest {
    private static final Mqar.Config TASK = new Mqar.Config(32, 16, 2, 0.01, false);
    private static final TransformerConfig MODEL = TransformerConfig.gpt(32, 16, 1, 16, 2).withInitStd(0.08f);

    @Test
    void recallThroughTheCacheEqualsTheTrainingForward(@TempDir Path dir) throws Exception {
        TransformerLM model = new TransformerLM(MODEL, 16, 1, 3);
        new Trainer(model, TrainConfig.of(40, 16).withLearningRate(1e-2f, 1e-3f).withWarmup(4))
                .run(new Mqar(TASK, 1), List.of(), null);
        HfExport.write(model, null, HfExport.Layout.GPT2, dir);
        DecoderModel decoder = HfDecoder.load(dir).threads(1);
        List<Batch> heldOut = Mqar.dataset(TASK, 4, 16, 99);

        KvRecall.Result full = KvRecall.evaluate(decoder, heldOut, new KvPolicy.Full());
        assertEquals(4 * 16 * 2, full.marked());
        Trainer.Eval train = Trainer.evaluate(model, heldOut, 0);
        assertEquals(train.accuracy(), full.accuracy(), 1e-12, "full cache = the training forward's accuracy");
        assertTrue(full.accuracy() > 0.2, "the check needs a model that recalls something: " + full.accuracy());

        for (int budget : new int[] {2, 5, 9}) {
            TransformerLM windowed = new TransformerLM(MODEL.withWindow(budget - 1), 16, 1, 3);
            System.arraycopy(model.parameters().values(), 0, windowed.parameters().values(), 0, model.parameters().size());
            double expected = Trainer.evaluate(windowed, heldOut, 0).accuracy();
            assertEquals(expected, KvRecall.evaluate(decoder, heldOut, new KvPolicy.Window(budget)).accuracy(), 1e-12, "window " + budget);
        }
        assertTrue(KvRecall.evaluate(decoder, heldOut, new KvPolicy.Window(2)).accuracy() < full.accuracy(),
                "two keys cannot hold a pair 4+ positions back");
        for (String p : new String[] {"window", "sinks", "h2o"}) {
            assertEquals(full, KvRecall.evaluate(decoder, heldOut, KvPolicy.of(p, 16)), p + " with a budget the sequence never exceeds");
        }
        assertThrows(IllegalArgumentException.class, () -> KvRecall.evaluate(decoder, List.of(), new KvPolicy.Full()));
    }
}
