package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertGrad;
import org.attn4j.models.tokenizer.WordPieceTokenizer;
import org.attn4j.train.distill.Student;
import org.attn4j.train.distill.StudentExport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code attn4j distill} end to end on a tiny random teacher directory (width 16, 2 layers, MiniLM's
 * tokenizer): the student it writes loads in {@code embed} and {@code explain}; bad options exit 2
 * with one line naming the option.
 */
class DistillCommandTest {
    @TempDir Path dir;

    /** A tiny random BERT saved as a model directory, and a ten-line corpus. */
    Path teacher() throws Exception {
        WordPieceTokenizer tok = WordPieceTokenizer.embeddedMiniLm();
        BertConfig cfg = new BertConfig(16, 2, 2, 32, 64, tok.vocabSize(), 2, 1e-12, BertConfig.Pooling.MEAN);
        Random r = new Random(1);
        Map<String, float[]> p = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : BertGrad.expectedSizes(cfg).entrySet()) {
            float[] v = new float[e.getValue()];
            boolean gain = e.getKey().endsWith("LayerNorm.weight");
            for (int i = 0; i < v.length; i++) v[i] = (float) ((gain ? 1 : 0) + 0.2 * r.nextGaussian());
            p.put(e.getKey(), v);
        }
        byte[] json;
        try (var in = WordPieceTokenizer.class.getClassLoader().getResourceAsStream(WordPieceTokenizer.MINILM_RESOURCE)) {
            json = in.readAllBytes();
        }
        Path t = dir.resolve("teacher");
        StudentExport.save(t, new Student(cfg, p, null), json, Map.of());
        return t;
    }

    Path corpus() throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 20; i++) sb.append("The nation's budget in year ").append(1990 + i).append(" was debated for many weeks.\n");
        Path c = dir.resolve("corpus.txt");
        Files.writeString(c, sb);
        return c;
    }

    @Test
    void distilsSavesAndTheStudentLoadsInEmbedAndExplain() throws Exception {
        Path t = teacher(), c = corpus(), out = dir.resolve("student");
        CliTest.Run r = CliTest.run("distill", "--teacher", t.toString(), "--student-layers", "1", "--relation-heads", "2", "--corpus", c.toString(),
                "--steps", "3", "--batch", "2", "--out", out.toString(), "--eval-size", "2", "--bench-rounds", "1", "--threads", "1", "--checkpoint-every", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("distill step 3/3 loss"), r.err());
        assertTrue(r.out().contains("| mean cosine to the teacher, 2 held-out sentences | 1 |"), r.out());
        assertTrue(r.out().contains("| speed-up | 1 |"), r.out());
        for (String f : new String[] {"model.safetensors", "config.json", "tokenizer.json", "checkpoints/latest"}) assertTrue(Files.exists(out.resolve(f)), f);
        Path emb = dir.resolve("e.jsonl"), in = dir.resolve("in.txt");
        Files.writeString(in, "a short sentence\nanother one\n");
        CliTest.Run e = CliTest.run("embed", "--model", out.toString(), "--input", in.toString(), "--out", emb.toString());
        assertEquals(0, e.code(), e.err());
        assertEquals(2, Files.readAllLines(emb).size());
        Path json = dir.resolve("x.json");
        CliTest.Run x = CliTest.run("explain", "--model", out.toString(), "--no-report", "--json", json.toString(), "The budget was debated.");
        assertEquals(0, x.code(), x.err());
        assertTrue(Files.size(json) > 100);
    }

    @Test
    void badOptionsExit2WithOneLineNamingTheOption() throws Exception {
        Path t = teacher(), c = corpus(), out = dir.resolve("o");
        String[][] cases = {
            {"--student-layers", "0"},
            {"--student-layers", "3"},
            {"--student-hidden", "100"},
            {"--relation-heads", "5"},
            {"--teacher-layer", "2"},
            {"--steps", "-1"},
            {"--lr", "0"},
            {"--batch", "x"},
            {"--max-tokens", "1"},
            {"--teacher", dir.resolve("nothing").toString()},
            {"--corpus", dir.resolve("missing.txt").toString()},
        };
        String[] named = {"--student-layers", "--student-layers", "--student-hidden", "--relation-heads", "--teacher-layer", "--steps", "--lr", "--batch",
                "--max-tokens", "--teacher", "--corpus"};
        for (int i = 0; i < cases.length; i++) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("distill", "--out", out.toString()));
            args.addAll(java.util.List.of(cases[i]));
            if (!args.contains("--teacher")) args.addAll(java.util.List.of("--teacher", t.toString()));
            if (!args.contains("--student-layers")) args.addAll(java.util.List.of("--student-layers", "1"));
            if (!args.contains("--corpus")) args.addAll(java.util.List.of("--corpus", c.toString()));
            CliTest.Run r = CliTest.run(args.toArray(String[]::new));
            assertEquals(2, r.code(), args + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains(named[i]), named[i] + " not named in: " + r.err());
        }
        assertFalse(Files.exists(out.resolve("model.safetensors")), "nothing written on a bad option");
    }
}
