package org.attn4j.train.distill;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertGrad;
import org.attn4j.models.embed.Embedder;
import org.attn4j.models.tokenizer.WordPieceTokenizer;
import org.attn4j.train.Parameters;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distillation loop on a tiny random teacher (width 16, 4 layers, MiniLM's tokenizer and
 * vocabulary): a student equal to the teacher has loss and gradient 0; training lowers the loss;
 * untrained tensors stay put; a resumed run ends where an uninterrupted one does; the saved
 * directory loads with {@link Embedder#load} and embeds as the student computes.
 */
class DistillerTest {
    @TempDir Path dir;

    static final WordPieceTokenizer TOK = WordPieceTokenizer.embeddedMiniLm();
    static final BertConfig TEACHER = new BertConfig(16, 4, 2, 32, 40, TOK.vocabSize(), 2, 1e-12, BertConfig.Pooling.MEAN);
    static final List<String> SENTENCES = List.of("The budget was balanced for the first time in years.", "We must keep our promises to veterans.",
            "Congress passed the act without delay.", "Our economy is growing and wages are rising again.", "Peace abroad begins with strength at home.",
            "I ask you to join me tonight.");

    static Map<String, float[]> teacherParameters(long seed) {
        Random r = new Random(seed);
        Map<String, float[]> p = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : BertGrad.expectedSizes(TEACHER).entrySet()) {
            float[] v = new float[e.getValue()];
            boolean gain = e.getKey().endsWith("LayerNorm.weight");
            for (int i = 0; i < v.length; i++) v[i] = (float) ((gain ? 1 : 0) + (e.getKey().endsWith(".bias") || gain ? 0.1 : 0.35) * r.nextGaussian());
            p.put(e.getKey(), v);
        }
        return p;
    }

    static Distiller.Settings settings(int steps, int teacherLayer) {
        return new Distiller.Settings(2, teacherLayer, steps, 3, 3e-3f, 2, 0.01f, 1.0f, 16, 7, 1, 2, true);
    }

    @Test
    void aStudentEqualToTheTeacherHasZeroLossAndZeroGradient() throws Exception {
        Map<String, float[]> tp = teacherParameters(1);
        Student same = Student.of(TEACHER, tp, 4, 16, 0);
        assertArrayEquals(new int[] {0, 1, 2, 3}, same.teacherLayers());
        Distiller d = new Distiller(TEACHER, tp, TOK, same, settings(1, 3));
        assertEquals(0.0, d.loss(SENTENCES), 0.0);
        // one step: the gradient is exactly zero
        d.run(SENTENCES, null, false, s -> assertEquals(0.0, s.gradNorm(), 0.0, "gradient norm at the teacher"));
        // and a different student is not at zero
        Distiller other = new Distiller(TEACHER, tp, TOK, Student.of(TEACHER, tp, 2, 16, 0), settings(1, 3));
        assertTrue(other.loss(SENTENCES) > 1e-4, "a 2-layer student differs from its teacher");
    }

    @Test
    void trainingLowersTheLossAndLeavesUntrainedTensorsAlone() throws Exception {
        Map<String, float[]> tp = teacherParameters(2);
        Student init = Student.of(TEACHER, tp, 2, 16, 0);
        assertArrayEquals(new int[] {0, 3}, init.teacherLayers());
        Distiller d = new Distiller(TEACHER, tp, TOK, init, new Distiller.Settings(2, 3, 60, 6, 1e-2f, 3, 0.0f, 1.0f, 16, 3, 1, 100, true));
        double before = d.loss(SENTENCES);
        List<Double> losses = new ArrayList<>();
        d.run(SENTENCES, null, false, s -> losses.add(s.loss()));
        double after = d.loss(SENTENCES);
        assertTrue(after < 0.5 * before, "loss " + before + " -> " + after);
        Student trained = d.student();
        // the word table (copied from the teacher) and the last layer's attention output and FFN are not trained
        for (String frozen : List.of("embeddings.word_embeddings.weight", "encoder.layer.1.attention.output.dense.weight", "encoder.layer.1.intermediate.dense.bias",
                "encoder.layer.1.output.LayerNorm.weight")) {
            assertArrayEquals(init.parameters().get(frozen), trained.parameters().get(frozen), frozen);
            assertTrue(!d.parameters().contains(Distiller.PREFIX + frozen), frozen + " is not among the trained tensors");
        }
        for (String moved : List.of("encoder.layer.1.attention.self.value.weight", "encoder.layer.0.output.dense.weight", "embeddings.LayerNorm.bias")) {
            assertTrue(!java.util.Arrays.equals(init.parameters().get(moved), trained.parameters().get(moved)), moved + " should have moved");
        }
    }

    @Test
    void aResumedRunEndsWhereAnUninterruptedOneDoes() throws Exception {
        Map<String, float[]> tp = teacherParameters(3);
        Distiller whole = new Distiller(TEACHER, tp, TOK, Student.of(TEACHER, tp, 2, 16, 0), settings(4, 2));
        whole.run(SENTENCES, dir.resolve("a"), false, null);
        Distiller first = new Distiller(TEACHER, tp, TOK, Student.of(TEACHER, tp, 2, 16, 0), settings(2, 2));
        first.run(SENTENCES, dir.resolve("b"), false, null);
        Distiller resumed = new Distiller(TEACHER, tp, TOK, Student.of(TEACHER, tp, 2, 16, 0), settings(4, 2));
        // settings differ in steps: the checkpoint was made by a 2-step run, which a resume refuses
        var e = assertThrows(IllegalArgumentException.class, () -> resumed.run(SENTENCES, dir.resolve("b"), true, null));
        assertTrue(e.getMessage().contains("steps"), e.getMessage());
        // a 4-step run interrupted after its checkpoint at step 2 (checkpointEvery = 2)
        Distiller interrupted = new Distiller(TEACHER, tp, TOK, Student.of(TEACHER, tp, 2, 16, 0), settings(4, 2));
        assertThrows(IllegalStateException.class, () -> interrupted.run(SENTENCES, dir.resolve("c"), false, s -> {
            if (s.step() == 2) throw new IllegalStateException("stop");
        }));
        assertTrue(Files.isDirectory(dir.resolve("c/step-000002")));
        Distiller again = new Distiller(TEACHER, tp, TOK, Student.of(TEACHER, tp, 2, 16, 0), settings(4, 2));
        List<Integer> ran = new ArrayList<>();
        again.run(SENTENCES, dir.resolve("c"), true, s -> ran.add(s.step()));
        assertEquals(List.of(2, 3), ran, "continues after the checkpoint");
        Parameters a = whole.parameters(), b = again.parameters();
        assertArrayEquals(a.values(), b.values(), "bit-identical to the uninterrupted run");
    }

    @Test
    void theSavedDirectoryLoadsAndEmbedsAsTheStudentComputes() throws Exception {
        Map<String, float[]> tp = teacherParameters(4);
        Student s = Student.of(TEACHER, tp, 2, 16, 0);
        byte[] tokJson;
        try (var in = WordPieceTokenizer.class.getClassLoader().getResourceAsStream(WordPieceTokenizer.MINILM_RESOURCE)) {
            tokJson = in.readAllBytes();
        }
        Path out = dir.resolve("student");
        StudentExport.save(out, s, tokJson, Map.of("teacher", "tiny"));
        try (var files = Files.list(out)) {
            assertEquals(List.of("config.json", "model.safetensors", "tokenizer.json"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "the three files and no temporary left behind");
        }
        JsonNode cfg = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertEquals("bert", cfg.get("model_type").asText());
        assertEquals(2, cfg.get("num_hidden_layers").asInt());
        assertEquals("tiny", cfg.get("attn4j_distillation").get("teacher").asText());
        Embedder e = Embedder.load(out.toString()).withThreads(1);
        assertEquals(s.config(), e.encoder().config());
        float[][] got = e.embed(SENTENCES);
        BertGrad g = BertGrad.of(s.config(), s.parameters());
        for (int i = 0; i < SENTENCES.size(); i++) {
            var enc = TOK.encode(SENTENCES.get(i), s.config().maxPositions());
            BertGrad.Pass p = g.forward(g.input(new int[][] {enc.ids()}, new int[][] {enc.typeIds()}), null, 1);
            float[] want = BertGrad.normalise(p.pooled(0, BertConfig.Pooling.MEAN));
            assertArrayEquals(want, got[i], 2e-5f, "sentence " + i);
        }
    }

    @Test
    void spacedLayersKeepTheFirstAndTheLast() {
        assertArrayEquals(new int[] {0, 3, 5}, Student.spacedLayers(6, 3));
        assertArrayEquals(new int[] {5}, Student.spacedLayers(6, 1));
        assertArrayEquals(new int[] {0, 5}, Student.spacedLayers(6, 2));
        assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, Student.spacedLayers(6, 6));
        assertThrows(IllegalArgumentException.class, () -> Student.spacedLayers(6, 7));
    }

    @Test
    void aNarrowerStudentStartsFreshAndTrains() throws Exception {
        Map<String, float[]> tp = teacherParameters(5);
        Student narrow = Student.of(TEACHER, tp, 2, 8, 11);
        assertEquals(null, narrow.teacherLayers());
        assertEquals(8, narrow.config().hidden());
        assertEquals(1, narrow.config().heads(), "heads of the teacher's head width 8");
        Distiller d = new Distiller(TEACHER, tp, TOK, narrow, new Distiller.Settings(2, 3, 3, 3, 1e-3f, 0, 0.01f, 1f, 16, 1, 1, 10, true));
        assertTrue(d.parameters().contains(Distiller.PREFIX + "embeddings.word_embeddings.weight"), "a fresh word table is trained");
        d.run(SENTENCES, null, false, null);
        var e = assertThrows(IllegalArgumentException.class, () -> Student.of(TEACHER, tp, 2, 12, 0));
        assertTrue(e.getMessage().startsWith("studentHidden:"), e.getMessage());
        var r = assertThrows(IllegalArgumentException.class, () -> new Distiller(TEACHER, tp, TOK, Student.of(TEACHER, tp, 2, 16, 0),
                new Distiller.Settings(3, 3, 1, 3, 1e-3f, 0, 0.01f, 1f, 16, 1, 1, 10, true)));
        assertTrue(r.getMessage().startsWith("relationHeads:"), r.getMessage());
    }
}
