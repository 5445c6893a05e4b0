package org.attn4j.train.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.weights.ModelWeights;
import org.attn4j.models.weights.SafetensorsWeights;
import org.attn4j.train.Parameters;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.optim.AdamW;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Checkpoint files, their round trip, and atomicity under a save that fails part-way. */
class CheckpointTest {
    private static final TransformerConfig LLAMA = TransformerConfig.llama(40, 8, 2, 16, 2);
    private static final TrainConfig TRAIN = TrainConfig.of(10, 2);

    @TempDir
    Path root;

    /** A model and optimiser with distinct, non-trivial values everywhere (moments included). */
    private static AdamW filled(TransformerLM model, long seed) {
        Random r = new Random(seed);
        AdamW opt = new AdamW(model.parameters(), 0.1f);
        float[] w = model.parameters().values(), m = opt.firstMoments(), v = opt.secondMoments();
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.nextGaussian();
            m[i] = (float) r.nextGaussian();
            v[i] = r.nextFloat();
        }
        opt.restoreSteps(7 + (int) seed);
        return opt;
    }

    @Test
    void roundTripIsBitExact() throws IOException {
        TransformerLM a = new TransformerLM(LLAMA, 2, 1, 1);
        AdamW optA = filled(a, 3);
        Path dir = Checkpoint.save(root, a, optA, new Checkpoint.State(5, 11, 42, 2, TRAIN), 2);
        assertEquals(dir, Checkpoint.latest(root));
        Checkpoint.Loaded c = Checkpoint.load(dir);
        assertEquals(LLAMA, c.config());
        assertEquals(new Checkpoint.State(5, 11, 42, 2, TRAIN), c.state());
        TransformerLM b = new TransformerLM(c.config(), 2, 1, 99); // other initial weights
        AdamW optB = new AdamW(b.parameters(), 0.1f);
        Checkpoint.restore(c, b, optB);
        assertArrayEquals(a.parameters().values(), b.parameters().values());
        assertArrayEquals(optA.firstMoments(), optB.firstMoments());
        assertArrayEquals(optA.secondMoments(), optB.secondMoments());
        assertEquals(optA.steps(), optB.steps());
    }

    @Test
    void filesAreStandardSafetensorsAndConfig() throws IOException {
        TransformerConfig gpt = TransformerConfig.gpt(40, 8, 2, 16, 2);
        TransformerLM model = new TransformerLM(gpt, 2, 1, 1);
        Path dir = Checkpoint.save(root, model, filled(model, 1), new Checkpoint.State(1, 1, 1, 1, TRAIN), 1);
        // Read back with models' safetensors reader: every tensor under its name and shape.
        ModelWeights w = SafetensorsWeights.readTensors(dir.resolve(Checkpoint.MODEL_FILE));
        Parameters p = model.parameters();
        assertEquals(p.params().size(), w.names().size());
        for (Parameters.Param t : p.params()) {
            Tensor x = w.get(t.name());
            assertArrayEquals(t.shape(), x.shape(), t.name());
            assertEquals(p.values()[t.offset() + t.size() - 1], x.toArray()[t.size() - 1], t.name());
        }
        byte[] bytes = Files.readAllBytes(dir.resolve(Checkpoint.MODEL_FILE));
        long headerLen = java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to 8 bytes");
        assertEquals(8 + headerLen + 4L * p.size(), bytes.length, "header + F32 data, nothing else");
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve(Checkpoint.CONFIG_FILE).toFile());
        assertEquals("gpt2", cfg.get("model_type").asText());
        assertEquals(16, cfg.get("n_embd").asInt());
        assertEquals(2, cfg.get("n_layer").asInt());
        assertEquals(40, cfg.get("vocab_size").asInt());
        assertTrue(cfg.get("tie_word_embeddings").asBoolean());
        ModelWeights opt = SafetensorsWeights.readTensors(dir.resolve(Checkpoint.OPTIMIZER_FILE));
        assertEquals(2 * p.params().size(), opt.names().size());
        assertTrue(opt.has("h.1.mlp.c_fc.weight.exp_avg_sq"));
    }

    /** A save that dies before any of its steps leaves the previous checkpoint as the latest, byte for byte. */
    @ParameterizedTest
    @ValueSource(strings = {"model.safetensors", "config.json", "optimizer.safetensors", "trainer_state.json", "rename", "latest"})
    void aSaveFailingPartWayLeavesThePreviousCheckpoint(String failAt) throws IOException {
        TransformerLM model = new TransformerLM(LLAMA, 2, 1, 1);
        AdamW opt = filled(model, 5);
        Path first = Checkpoint.save(root, model, opt, new Checkpoint.State(2, 2, 1, 1, TRAIN), 2);
        float[] saved = model.parameters().values().clone();
        byte[] firstBytes = Files.readAllBytes(first.resolve(Checkpoint.MODEL_FILE));
        // The weights change, then the next save fails at `failAt`.
        filled(model, 6);
        IOException crash = assertThrows(IOException.class, () -> Checkpoint.save(root, model, opt,
                new Checkpoint.State(4, 4, 1, 1, TRAIN), 2, f -> {
                    if (f.equals(failAt)) throw new IOException("simulated crash before " + f);
                }));
        assertTrue(crash.getMessage().contains(failAt));
        Path latest = Checkpoint.latest(root);
        assertEquals(first, latest, "latest still names the previous checkpoint");
        assertArrayEquals(firstBytes, Files.readAllBytes(latest.resolve(Checkpoint.MODEL_FILE)));
        TransformerLM back = Checkpoint.loadModel(latest, 2, 1);
        assertArrayEquals(saved, back.parameters().values());
        assertEquals(2, Checkpoint.load(latest).state().step());
        // The next successful save clears the debris and moves on.
        Path next = Checkpoint.save(root, model, opt, new Checkpoint.State(6, 6, 1, 1, TRAIN), 2);
        assertEquals(next, Checkpoint.latest(root));
        try (Stream<Path> s = Files.list(root)) {
            assertFalse(s.anyMatch(x -> x.getFileName().toString().startsWith(".tmp-")), "no temporaries left");
        }
    }

    @Test
    void keepsTheNewestAndRejectsAnotherModel() throws IOException {
        TransformerLM model = new TransformerLM(LLAMA, 2, 1, 1);
        AdamW opt = filled(model, 1);
        for (int s = 1; s <= 4; s++) Checkpoint.save(root, model, opt, new Checkpoint.State(s, s, 1, 1, TRAIN), 2);
        try (Stream<Path> s = Files.list(root)) {
            assertEquals(List.of("step-000003", "step-000004"), s.map(x -> x.getFileName().toString()).filter(n -> n.startsWith("step-")).sorted().toList());
        }
        Checkpoint.Loaded c = Checkpoint.load(Checkpoint.latest(root));
        TransformerLM other = new TransformerLM(LLAMA.withMlpRatio(2), 2, 1, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.restore(c, other, null));
        assertTrue(e.getMessage().startsWith("config:"), e.getMessage());
        assertNotNull(Checkpoint.latest(root));
        assertEquals(null, Checkpoint.latest(root.resolve("nothing-here")));
    }
}
