package org.attn4j.models.decoder;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * attn4j's logits against llama.cpp's on tiny random-weight models of every architecture, written by
 * llama.cpp's own gguf-py ({@code src/test/llamacpp/tiny_models.py}): a 12-token prompt (prefill),
 * then 4 single-token decode steps, each compared row by row as max|a − b| / max|b|.
 *
 * <p>Tagged {@code llamacpp}: the first run builds llama.cpp (about 35 minutes on a shared 2-core machine),
 * so the default suite leaves it out. Run it with
 * {@code ./mvnw -o -q -pl models test -Dtest=LlamaCppOracleTest -DexcludedGroups=none}; the build
 * is cached in {@code ~/.cache/attn4j-llamacpp} (or {@code -Dattn4j.llamacpp.dir=DIR}). Skips when
 * npm, git, cmake, a C++ compiler, python3 or numpy is missing.
 */
@Tag("llamacpp")
class LlamaCppOracleTest {
    static Path dir, oracle, models;

    /**
     * Tolerances, relative to the row's largest logit. F32: the two sides differ only in summation
     * order (1e-4 as asked; measured ~1e-6), except GPT-2, where llama.cpp's CPU GELU reads a table of
     * f16 values (its input and output rounded to f16, relative 2^-11) and attn4j computes it in
     * float. F16 and Q4_0: llama.cpp also rounds the activations before each matmul (to f16 for F16
     * weights, to Q8_0 blocks for Q4_0), attn4j multiplies the dequantised weights by float
     * activations. Q8_0: attn4j rounds the activations to Q8_0 blocks as llama.cpp does (the default),
     * so the rows agree to ~2e-7; the bound leaves room for one activation that sits within float
     * rounding of a half step and rounds to the neighbouring quantum on one side (~2e-3 seen in
     * attn4j's own tests). GPT-2's f16 GELU moves many inputs of the down projection across such
     * steps, so GPT-2 Q8_0 keeps the activation-rounding bound. The measured gaps are a few times
     * below these bounds.
     */
    static double tolerance(String name) {
        if (name.endsWith("-f32")) return name.startsWith("gpt2") ? 2e-3 : 1e-4;
        if (name.endsWith("-f16")) return 5e-3;
        if (name.endsWith("-q8_0") && !name.startsWith("gpt2")) return 5e-3;
        return 3e-2;
    }

    @BeforeAll
    static void build() throws Exception {
        dir = Path.of(System.getProperty("attn4j.llamacpp.dir", System.getProperty("user.home") + "/.cache/attn4j-llamacpp"));
        Path script = Path.of("src/test/llamacpp/build.sh").toAbsolutePath();
        Process p = new ProcessBuilder("bash", script.toString(), dir.toString()).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(p.waitFor(60, TimeUnit.MINUTES), "llama.cpp build timed out");
        assumeTrue(p.exitValue() != 3, "skipping: " + log.strip());
        assertEquals(0, p.exitValue(), "llama.cpp build failed: " + log);
        oracle = Path.of(log.strip().lines().reduce((a, b) -> b).orElseThrow());
        models = Path.of("target", "llamacpp-models").toAbsolutePath();
        Files.createDirectories(models);
        ProcessBuilder py = new ProcessBuilder("python3", Path.of("src/test/llamacpp/tiny_models.py").toAbsolutePath().toString(), models.toString())
                .redirectErrorStream(true);
        py.environment().put("PYTHONPATH", dir.resolve("src/gguf-py").toString());
        Process w;
        try {
            w = py.start();
        } catch (IOException e) {
            assumeTrue(false, "python3 is missing; skipping");
            return;
        }
        String out = new String(w.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(w.waitFor() == 0 && !out.contains("No module named 'numpy'"), "gguf-py could not run (numpy missing?): " + out);
    }

    static float[][] llamaCpp(Path model, int[] prompt, int[] steps, int threads) throws Exception {
        Path out = Files.createTempFile(models, "logits", ".bin");
        List<String> cmd = new ArrayList<>(List.of(oracle.toString(), model.toString(), String.valueOf(threads), out.toString()));
        for (int t : prompt) cmd.add(String.valueOf(t));
        cmd.add("+");
        for (int t : steps) cmd.add(String.valueOf(t));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "attn4j-logits failed: " + log);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        Files.delete(out);
        int rows = 1 + steps.length, vocab = b.remaining() / 4 / rows;
        float[][] r = new float[rows][vocab];
        for (int i = 0; i < rows; i++) for (int j = 0; j < vocab; j++) r[i][j] = b.getFloat((i * vocab + j) * 4);
        return r;
    }

    static double relative(float[] a, float[] b) {
        double diff = 0, scale = 0;
        for (int i = 0; i < b.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - b[i]));
            scale = Math.max(scale, Math.abs(b[i]));
        }
        return diff / scale;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama-f32", "llama3-f32", "smollm2-f32", "qwen2-f32", "qwen3-f32", "gpt2-f32", "deepseek2-f32", "deepseek2_qlora-f32",
            "llama-f16", "qwen2-f16", "qwen3-f16", "gpt2-f16",
            "llama-q8_0", "llama3-q8_0", "smollm2-q8_0", "qwen2-q8_0", "qwen3-q8_0", "gpt2-q8_0",
            "llama-q4_0", "qwen3-q4_0"})
    void logitsMatchLlamaCpp(String name) throws Exception {
        Path file = models.resolve(name + ".gguf");
        DecoderModel m = GgufDecoder.load(file).threads(1);
        int[] prompt = TinyDecoders.tokens(12, m.config().vocab(), name.hashCode());
        int[] steps = TinyDecoders.tokens(4, m.config().vocab(), name.hashCode() + 1);
        float[][] ref = llamaCpp(file, prompt, steps, 1);
        assertEquals(m.config().vocab(), ref[0].length);
        KvCache cache = m.newCache(prompt.length + steps.length);
        double tol = tolerance(name), worst = 0;
        float[] ours = m.forward(cache, prompt, false);
        for (int i = 0; i <= steps.length; i++) {
            if (i > 0) ours = m.forward(cache, new int[] {steps[i - 1]}, false);
            double err = relative(ours, ref[i]);
            worst = Math.max(worst, err);
            assertTrue(err <= tol, name + (i == 0 ? " prefill" : " decode step " + i) + ": relative error " + err + " > " + tol);
        }
        System.out.printf("llama.cpp oracle %-13s worst relative error %.2e (tolerance %.0e)%n", name, worst, tol);
    }
}
