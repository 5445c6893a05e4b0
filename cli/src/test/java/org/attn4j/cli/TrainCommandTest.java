package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.models.weights.ModelWeights;
import org.attn4j.models.weights.SafetensorsWeights;
import org.attn4j.variants.VariantFactory;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.trainable.TrainableRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code attn4j train}: option validation, and the files of a tiny run. */
class TrainCommandTest {
    @TempDir Path dir;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A model and task small enough to train in well under a second; options in {@code more} replace the defaults. */
    static List<String> tiny(String... more) {
        List<String> defaults = List.of("--task", "mqar", "--seq-len", "16", "--kv-pairs", "2", "--vocab", "32", "--layers", "1",
                "--heads", "2", "--steps", "6", "--batch", "4", "--eval-every", "3", "--eval-batches", "1", "--threads", "1");
        List<String> given = Arrays.asList(more), a = new ArrayList<>();
        for (int i = 0; i < defaults.size(); i += 2) {
            if (!given.contains(defaults.get(i))) a.addAll(defaults.subList(i, i + 2));
        }
        a.addAll(given);
        return a;
    }

    static CliTest.Run train(List<String> args) {
        List<String> all = new ArrayList<>(List.of("train"));
        all.addAll(args);
        return CliTest.run(all.toArray(String[]::new));
    }

    /** A variant that exists but has no backward, if the library has one. */
    static String untrainableVariant() {
        return VariantRegistry.all().stream().map(f -> f.info().name()).filter(n -> !TrainableRegistry.isTrainable(n)).findFirst().orElseThrow();
    }

    static Stream<Object[]> badOptions() {
        return Stream.of(
                new Object[] {List.of("--task", "nope"), "--task"},
                new Object[] {List.of("--attention", "no-such-attention"), "--attention"},
                new Object[] {List.of("--attention", untrainableVariant()), "--attention"},
                new Object[] {List.of("--d-model", "30", "--heads", "4"), "--heads"},
                new Object[] {List.of("--d-model", "0"), "--d-model"},
                new Object[] {List.of("--kv-pairs", "5"), "--kv-pairs"},        // 4·5 > seq-len 16
                new Object[] {List.of("--vocab", "16"), "--vocab"},             // vocab must exceed seq-len
                new Object[] {List.of("--seq-len", "15"), "--seq-len"},         // MQAR needs an even length
                new Object[] {List.of("--steps", "0"), "--steps"},
                new Object[] {List.of("--steps", "many"), "--steps"},
                new Object[] {List.of("--batch", "-1"), "--batch"},
                new Object[] {List.of("--lr", "0"), "--lr"},
                new Object[] {List.of("--warmup", "99"), "--warmup"},
                new Object[] {List.of("--target-accuracy", "1.5"), "--target-accuracy"},
                new Object[] {List.of("--set", "windw=4"), "--set"},
                new Object[] {List.of("--set", "window=-3"), "window"},
                new Object[] {List.of("--attention", "full:window=x"), "window"},
                new Object[] {List.of("--attention", "full:window"), "--attention"},
                new Object[] {List.of("--attention", "full:window=2", "--set", "window=3"), "window"}, // given twice
                new Object[] {List.of("--text", "/no/such/file.txt"), "--text"},
                new Object[] {List.of("--text", "."), "--text"},                  // mqar reads no text
                new Object[] {List.of("--task", "lm"), "--text"},                 // lm needs one
                new Object[] {List.of("--task", "lm", "--text", ".", "--tokenizer", "bpe:x"), "--tokenizer"},
                new Object[] {List.of("--task", "selective-copy", "--copy-tokens", "0"), "--copy-tokens"},
                new Object[] {List.of("--positions", "sinusoidal"), "--positions"},
                new Object[] {List.of("--norm", "batch"), "--norm"},
                new Object[] {List.of("--mlp", "relu"), "--mlp"},
                new Object[] {List.of("--checkpoint-every", "0"), "--checkpoint-every"},
                new Object[] {List.of("--time-limit", "5x"), "--time-limit"},
                new Object[] {List.of("--time-limit", "0"), "--time-limit"},
                new Object[] {List.of("--init-std", "0"), "--init-std"},
                new Object[] {List.of("--mlp-ratio", "-1"), "--mlp-ratio"},
                new Object[] {List.of("--mlp-ratio", "0", "--export", "exported"), "--export"},     // both layouts need an MLP
                new Object[] {List.of("--train-kv-pairs", "2,5"), "--train-kv-pairs"},             // 4·5 > seq-len 16
                new Object[] {List.of("--train-kv-pairs", "0"), "--train-kv-pairs"},
                new Object[] {List.of("--train-kv-pairs", "2,x"), "--train-kv-pairs"},
                new Object[] {List.of("--task", "induction", "--train-kv-pairs", "2"), "--train-kv-pairs"},
                new Object[] {List.of("--positions", "none", "--export", "exported"), "--export"},   // GPT-2 needs learned positions
                new Object[] {List.of("--norm", "rms", "--export", "exported"), "--export"},         // Llama needs SwiGLU and RoPE too
                new Object[] {List.of("--attention", "linear", "--positions", "alibi"), "--positions"}, // ALiBi lives in full attention
                new Object[] {List.of("--unknown-option", "1"), "--unknown-option"});
    }

    @ParameterizedTest
    @MethodSource("badOptions")
    void badOptionsExitTwoWithOneLineNamingTheOptionAndWriteNothing(List<String> bad, String option) {
        Path out = dir.resolve("run");
        List<String> args = tiny(bad.toArray(String[]::new));
        args.addAll(List.of("--out", out.toString()));
        CliTest.Run r = train(args);
        assertEquals(2, r.code(), r.err());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), "expected one line, got:\n" + r.err());
        assertTrue(line.startsWith("attn4j: error: "), line);
        assertTrue(line.contains(option), "expected the message to name " + option + ": " + line);
        assertFalse(Files.exists(out), "nothing may be written for bad options");
    }

    @Test
    void missingOutIsOneLineToo() {
        CliTest.Run r = train(tiny());
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("--out"), r.err());
    }

    @Test
    void tinyRunWritesMetricsConfigSummaryPlotAndPage() throws IOException {
        Path out = dir.resolve("runs/tiny");
        CliTest.Run r = train(tiny("--d-model", "16", "--seed", "3", "--out", out.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("held-out accuracy"), r.out());
        assertTrue(r.err().contains("train step 3/6"), "plain progress lines after each evaluation when stderr is no terminal:\n" + r.err());

        // metrics.jsonl: every line one JSON object; 6 steps numbered 1..6, evaluations after steps 3 and 6
        List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
        List<JsonNode> steps = new ArrayList<>(), evals = new ArrayList<>();
        for (String l : lines) {
            JsonNode n = JSON.readTree(l);
            (n.path("type").asText().equals("step") ? steps : evals).add(n);
            assertTrue(n.path("loss").isNumber() && Double.isFinite(n.path("loss").asDouble()), l);
            double acc = n.path("accuracy").asDouble();
            assertTrue(acc >= 0 && acc <= 1, l);
        }
        assertEquals(6, steps.size());
        for (int i = 0; i < 6; i++) assertEquals(i + 1, steps.get(i).path("step").asInt());
        assertEquals(List.of(3, 6), evals.stream().map(e -> e.path("step").asInt()).toList());
        assertEquals(6L * 4 * 16, steps.get(5).path("tokens").asLong(), "tokens = steps × batch × sequence");

        JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals("mqar", config.path("task").path("name").asText());
        assertEquals(16, config.path("task").path("seq_len").asInt());
        assertEquals(2, config.path("task").path("kv_pairs").asInt());
        assertEquals("full", config.path("attention").path("name").asText());
        assertEquals(16, config.path("model").path("d_model").asInt());
        assertEquals(1, config.path("model").path("layers").asInt());
        assertEquals(6, config.path("training").path("steps").asInt());
        assertEquals(3, config.path("training").path("seed").asLong());
        assertEquals(1e-3, config.path("training").path("lr").asDouble(), 1e-9);

        // the summary agrees with the last evaluation line, and the parameter count with GPT-2's layout:
        // wte V·C + wpe T·C + per block (2 LayerNorms 4C, c_attn 3C²+3C, c_proj C²+C, fc 4C²+4C, proj 4C²+C) + ln_f 2C
        JsonNode s = JSON.readTree(out.resolve("summary.json").toFile());
        assertEquals(evals.get(1).path("accuracy").asDouble(), s.path("final_accuracy").asDouble());
        assertEquals(evals.get(1).path("loss").asDouble(), s.path("final_loss").asDouble());
        assertEquals(6, s.path("steps").asInt());
        int c = 16;
        long params = 32L * c + 16L * c + (4L * c + 3L * c * c + 3 * c + c * c + c + 4L * c * c + 4 * c + 4L * c * c + c) + 2 * c;
        assertEquals(params, s.path("parameters").asLong());
        assertEquals(params, config.path("model").path("parameters").asLong());
        assertTrue(s.path("wall_seconds").asDouble() > 0);
        assertEquals(6L * 4 * 16 / s.path("wall_seconds").asDouble(), s.path("tokens_per_second").asDouble(), 1e-6 * s.path("tokens_per_second").asDouble());

        BufferedImage png = ImageIO.read(out.resolve("curves.png").toFile());
        assertNotNull(png, "curves.png must decode as an image");
        assertEquals(760, png.getWidth());
        assertEquals(600, png.getHeight());
        assertTrue(countColour(png, 0x0072B2) > 20, "the training curve (first palette colour) is drawn");
        assertTrue(countColour(png, 0xD55E00) > 20, "the held-out points (second palette colour) are drawn");

        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.contains("<svg") && html.strip().endsWith("</html>"), html);
        assertFalse(html.contains("<script"), "no scripts");
        assertFalse(html.replace("http://www.w3.org/2000/svg", "").contains("http"), "nothing fetched from elsewhere");
        assertTrue(html.contains("polyline"), "the curves are inline SVG");
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(List.of("checkpoints", "config.json", "curves.png", "metrics.jsonl", "report.html", "summary.json"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left");
        }
    }

    /** An attention-only model (--mlp-ratio 0) trained on a mixture of pair counts: the config records both, the count has no MLP. */
    @Test
    void attentionOnlyModelOnAPairMixture() throws IOException {
        Path out = dir.resolve("mix");
        CliTest.Run r = train(tiny("--d-model", "16", "--mlp-ratio", "0", "--train-kv-pairs", "1,2,4", "--out", out.toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode config = JSON.readTree(out.resolve("config.json").toFile());
        assertEquals(List.of(1, 2, 4), JSON.convertValue(config.path("task").path("train_kv_pairs"), new com.fasterxml.jackson.core.type.TypeReference<List<Integer>>() {}));
        assertEquals(0, config.path("model").path("mlp_ratio").asInt());
        int c = 16;   // wte, wpe, one block of ln_1 + c_attn + c_proj, ln_f
        long params = 32L * c + 16L * c + (2L * c + 3L * c * c + 3 * c + c * c + c) + 2 * c;
        assertEquals(params, config.path("model").path("parameters").asLong());
        assertTrue(Double.isFinite(JSON.readTree(out.resolve("summary.json").toFile()).path("final_loss").asDouble()));
    }

    /**
     * {@code --time-limit} spent after the first step: the run stops there cleanly, evaluated and
     * checkpointed, with a summary that says so, and the limit is recorded with the options.
     */
    @Test
    void timeLimitStopsCleanlyWithACheckpointAndSaysSo() throws IOException {
        Path out = dir.resolve("timed");
        CliTest.Run r = train(tiny("--d-model", "16", "--steps", "500", "--time-limit", "0.000001s", "--out", out.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("after 1 steps (stopped on --time-limit)"), r.out());
        JsonNode s = JSON.readTree(out.resolve("summary.json").toFile());
        assertTrue(s.path("stopped_on_time").asBoolean());
        assertEquals(1, s.path("steps").asInt());
        assertEquals(500, s.path("max_steps").asInt());
        assertEquals(1e-6, JSON.readTree(out.resolve("config.json").toFile()).path("training").path("time_limit_seconds").asDouble(), 1e-12);
        assertTrue(Files.exists(out.resolve("checkpoints/latest")), "the stop is checkpointed");
        long evals = Files.readAllLines(out.resolve("metrics.jsonl")).stream().filter(l -> l.contains("\"eval\"")).count();
        assertEquals(1, evals, "the last step is evaluated");

        Path untimed = dir.resolve("untimed");
        assertEquals(0, train(tiny("--d-model", "16", "--time-limit", "1h", "--out", untimed.toString())).code());
        JsonNode u = JSON.readTree(untimed.resolve("summary.json").toFile());
        assertFalse(u.path("stopped_on_time").asBoolean());
        assertEquals(6, u.path("steps").asInt());
    }

    /**
     * A resumed run's time limit counts the sessions before it: a run whose recorded training time is
     * already past the limit takes one more step and stops on time instead of training to the end.
     */
    @Test
    void timeLimitCountsTheSessionsBeforeAResume() throws IOException {
        Path out = dir.resolve("resumed");
        List<String> args = tiny("--d-model", "16", "--steps", "6", "--checkpoint-every", "3", "--time-limit", "1h", "--out", out.toString());
        assertEquals(0, train(args).code());
        // Make it an unfinished run stopped after step 3 that had trained for 2 hours by then.
        Files.delete(out.resolve("summary.json"));
        Files.writeString(out.resolve("checkpoints/latest"), "step-000003");
        List<String> kept = new ArrayList<>();
        for (String l : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(l);
            if (n.path("step").asInt() <= 3) kept.add(l.replaceAll("\"seconds\":[0-9.eE+-]+", "\"seconds\":7200.0"));
        }
        Files.write(out.resolve("metrics.jsonl"), kept);
        List<String> resume = new ArrayList<>(args);
        resume.add("--resume");
        CliTest.Run r = train(resume);
        assertEquals(0, r.code(), r.err());
        JsonNode s = JSON.readTree(out.resolve("summary.json").toFile());
        assertTrue(s.path("stopped_on_time").asBoolean(), s.toString());
        assertEquals(4, s.path("steps").asInt(), "one step in the resumed session, then the limit");
    }

    /**
     * Llama's layers from the options (RoPE, RMSNorm, SwiGLU, untied), trained and exported in Llama's
     * layout: the export's tensors are the final checkpoint's, split and renamed.
     */
    @Test
    void llamaOptionsTrainAndExportInLlamaLayout() throws IOException {
        Path out = dir.resolve("llama"), hf = dir.resolve("llama-hf");
        CliTest.Run r = train(tiny("--d-model", "16", "--positions", "rope", "--norm", "rms", "--mlp", "swiglu", "--untied",
                "--out", out.toString(), "--export", hf.toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("LLAMA layout"), r.err());

        JsonNode model = JSON.readTree(out.resolve("config.json").toFile()).path("model");
        assertTrue(model.path("rope").asBoolean());
        assertFalse(model.path("learned_positions").asBoolean());
        assertEquals("rms", model.path("norm").asText());
        assertEquals("swiglu", model.path("mlp").asText());
        assertFalse(model.path("tied_output").asBoolean());
        // wte V·C + per block (two RMSNorm γ 2C, c_attn 3C²+3C, c_proj C²+C, SwiGLU c_fc 2·4C·C + 2·4C, c_proj 4C·C + C) + ln_f C + lm_head V·C
        int c = 16, v = 32;
        long params = (long) v * c + (2L * c + 3L * c * c + 3 * c + c * c + c + 8L * c * c + 8 * c + 4L * c * c + c) + c + (long) v * c;
        assertEquals(params, model.path("parameters").asLong());

        JsonNode config = JSON.readTree(hf.resolve("config.json").toFile());
        assertEquals("llama", config.path("model_type").asText());
        assertEquals(4 * c, config.path("intermediate_size").asInt());
        assertFalse(config.path("tie_word_embeddings").asBoolean());
        assertEquals(10000.0, config.path("rope_theta").asDouble());
        assertFalse(Files.exists(hf.resolve("tokenizer.json")), "a synthetic task has no tokenizer");

        ModelWeights trained = SafetensorsWeights.readTensors(out.resolve("checkpoints/step-000006/model.safetensors"));
        ModelWeights exported = SafetensorsWeights.readTensors(hf.resolve("model.safetensors"));
        float[] qkv = trained.get("h.0.attn.c_attn.weight", 3 * c, c).toArray(), fc = trained.get("h.0.mlp.c_fc.weight", 8 * c, c).toArray();
        assertArrayEquals(Arrays.copyOfRange(qkv, 0, c * c), exported.get("model.layers.0.self_attn.q_proj.weight", c, c).toArray());
        assertArrayEquals(Arrays.copyOfRange(qkv, 2 * c * c, 3 * c * c), exported.get("model.layers.0.self_attn.v_proj.weight", c, c).toArray());
        assertArrayEquals(Arrays.copyOfRange(fc, 4 * c * c, 8 * c * c), exported.get("model.layers.0.mlp.up_proj.weight", 4 * c, c).toArray());
        assertArrayEquals(trained.get("lm_head.weight").toArray(), exported.get("lm_head.weight", v, c).toArray());
        assertArrayEquals(trained.get("wte").toArray(), exported.get("model.embed_tokens.weight", v, c).toArray());
        Tensor norm = exported.get("model.norm.weight", c);
        assertArrayEquals(trained.get("ln_f.weight").toArray(), norm.toArray());
    }

    /** The lm task from the command line: a text file, a BPE vocabulary learned from it, exported as GPT-2 with its tokenizer.json. */
    @Test
    void lmTaskOnATextFileWithBpeExportsGpt2WithTokenizer() throws IOException {
        Path text = dir.resolve("text");
        Files.createDirectories(text);
        StringBuilder sb = new StringBuilder();
        for (int d = 0; d < 10; d++) {
            for (int i = 0; i < 40; i++) sb.append("the state of the union is strong, said speaker ").append(d).append(" in year ").append(1790 + i).append(". ");
            Files.writeString(text.resolve("doc" + d + ".txt"), sb.toString());
            sb.setLength(0);
        }
        Path out = dir.resolve("lm"), hf = dir.resolve("lm-hf");
        CliTest.Run r = train(tiny("--task", "lm", "--text", text.toString(), "--tokenizer", "bpe:300", "--d-model", "16",
                "--out", out.toString(), "--export", hf.toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode task = JSON.readTree(out.resolve("config.json").toFile()).path("task");
        assertEquals(300, task.path("vocab").asInt(), "the model's vocabulary is the tokenizer's");
        assertEquals("bpe:300", task.path("tokenizer").asText());
        JsonNode config = JSON.readTree(hf.resolve("config.json").toFile());
        assertEquals("gpt2", config.path("model_type").asText());
        assertEquals(300, config.path("vocab_size").asInt());
        JsonNode tok = JSON.readTree(hf.resolve("tokenizer.json").toFile());
        assertEquals("BPE", tok.path("model").path("type").asText());
        assertEquals(300, tok.path("model").path("vocab").size() + tok.path("added_tokens").size()
                - countAddedInVocab(tok), "every id of the model has a token");
    }

    private static int countAddedInVocab(JsonNode tok) {
        int n = 0;
        for (JsonNode a : tok.path("added_tokens")) if (tok.path("model").path("vocab").has(a.path("content").asText())) n++;
        return n;
    }

    /** Selective copying takes --copy-tokens; the run records it. */
    @Test
    void selectiveCopyTakesCopyTokens() throws IOException {
        Path out = dir.resolve("copy");
        CliTest.Run r = train(tiny("--task", "selective-copy", "--copy-tokens", "4", "--out", out.toString()));
        assertEquals(0, r.code(), r.err());
        assertEquals(4, JSON.readTree(out.resolve("config.json").toFile()).path("task").path("copy_tokens").asInt());
        CliTest.Run tooMany = train(tiny("--task", "selective-copy", "--copy-tokens", "9", "--out", dir.resolve("x").toString()));
        assertEquals(2, tooMany.code());
        assertTrue(tooMany.err().contains("--seq-len") || tooMany.err().contains("--copy-tokens"), tooMany.err());
    }

    @Test
    void sameSeedAndThreadsGiveTheSameMetrics() throws IOException {
        Path a = dir.resolve("a"), b = dir.resolve("b");
        assertEquals(0, train(tiny("--d-model", "16", "--out", a.toString())).code());
        assertEquals(0, train(tiny("--d-model", "16", "--out", b.toString())).code());
        assertEquals(losses(a), losses(b));
        Path c = dir.resolve("c");
        assertEquals(0, train(tiny("--d-model", "16", "--seed", "1", "--out", c.toString())).code());
        assertFalse(losses(a).equals(losses(c)), "another seed, other data and weights");
    }

    private static List<Double> losses(Path run) throws IOException {
        List<Double> l = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) l.add(JSON.readTree(line).path("loss").asDouble());
        return l;
    }

    @Test
    void anExistingRunIsNotOverwrittenAndResumeReportsAFinishedOne() throws IOException {
        Path out = dir.resolve("run");
        assertEquals(0, train(tiny("--out", out.toString())).code());
        long before = Files.getLastModifiedTime(out.resolve("summary.json")).toMillis();
        String metrics = Files.readString(out.resolve("metrics.jsonl"));

        CliTest.Run again = train(tiny("--out", out.toString()));
        assertEquals(2, again.code());
        assertTrue(again.err().contains("--out") && again.err().contains("--resume"), again.err());

        CliTest.Run resumed = train(tiny("--out", out.toString(), "--resume"));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("finished run"), resumed.err());
        assertTrue(resumed.out().contains("held-out accuracy"), resumed.out());
        assertEquals(before, Files.getLastModifiedTime(out.resolve("summary.json")).toMillis());
        assertEquals(metrics, Files.readString(out.resolve("metrics.jsonl")));

        CliTest.Run changed = train(tiny("--out", out.toString(), "--resume", "--lr", "2e-3"));
        assertEquals(2, changed.code());
        assertTrue(changed.err().contains("--resume") && changed.err().contains("training.lr"), changed.err());

        CliTest.Run nothing = train(tiny("--out", dir.resolve("empty").toString(), "--resume"));
        assertEquals(2, nothing.code());
        assertTrue(nothing.err().contains("--resume"), nothing.err());
    }

    static int countColour(BufferedImage img, int rgb) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFFFFFF) == rgb) n++;
        }
        return n;
    }
}
