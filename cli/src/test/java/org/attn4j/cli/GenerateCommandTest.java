package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.attn4j.core.io.Npy;
import org.attn4j.models.decoder.DecoderConfig;
import org.attn4j.models.decoder.DecoderModel;
import org.attn4j.models.decoder.DecoderWeights;
import org.attn4j.models.decoder.GgufDecoder;
import org.attn4j.models.gguf.GgmlType;
import org.attn4j.models.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {
    @TempDir Path dir;

    private static final DecoderConfig CONFIG = new DecoderConfig(DecoderConfig.Arch.QWEN2, 300, 32, 2, 4, 2, 8, 64, 256, 1e-6f,
            1e6f, 8, DecoderConfig.RopeStyle.HALVES, null, 0);

    private Path tinyModel() throws Exception {
        Path f = dir.resolve("tiny-qwen2.gguf");
        GgufDecoder.write(f, CONFIG, DecoderWeights.random(CONFIG, false, 31), GgmlType.F32);
        return f;
    }

    @Test
    void logitsAreThoseOfTheModelForThePromptsTokens() throws Exception {
        Path model = tinyModel(), npy = dir.resolve("logits.npy");
        CliTest.Run r = CliTest.run("generate", "--model", model.toString(), "--logits", npy.toString(), "hello there");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().contains("prompt "), r.err());
        int[] ids = Tokenizers.load(model).encode("hello there", true);
        DecoderModel m = GgufDecoder.load(model);
        float[] expected = m.forward(m.newCache(ids.length), ids, false);
        assertArrayEquals(expected, Npy.readFloat(npy).toArray());
    }

    @Test
    void greedyGenerationIsTheArgmaxChainAndStreamingPrintsTheSameText() throws Exception {
        Path model = tinyModel();
        CliTest.Run plain = CliTest.run("generate", "--model", model.toString(), "--temperature", "0", "--max-tokens", "6", "--threads", "1", "hi");
        assertEquals(0, plain.code(), plain.err());
        CliTest.Run streamed = CliTest.run("generate", "--model", model.toString(), "--temperature", "0", "--max-tokens", "6", "--stream", "hi");
        assertEquals(plain.out(), streamed.out());
        var tok = Tokenizers.load(model);
        DecoderModel m = GgufDecoder.load(model);
        var cache = m.newCache(16);
        float[] logits = m.forward(cache, tok.encode("hi", true), false);
        int[] out = new int[6];
        for (int i = 0; i < 6; i++) {
            int best = 0;
            for (int j = 1; j < logits.length; j++) if (logits[j] > logits[best]) best = j;
            out[i] = best;
            if (best == CONFIG.vocab() - 1) { out = java.util.Arrays.copyOf(out, i); break; }
            logits = m.forward(cache, new int[] {best}, false);
        }
        assertEquals(tok.decode(out) + System.lineSeparator(), plain.out().replace("\r\n", "\n").replace("\n", System.lineSeparator()));
        assertTrue(plain.err().matches("(?s).*generated \\d+ tokens.*tokens/s.*"), plain.err());
    }

    @Test
    void deepSeekV2GeneratesWithItsLatentCache() throws Exception {
        var mla = new DecoderConfig.Mla(0, 16, 8, 4, 6);
        DecoderConfig c = new DecoderConfig(DecoderConfig.Arch.DEEPSEEK2, 300, 32, 2, 4, 1, 12, 48, 256, 1e-6f, 1e4f, 4,
                DecoderConfig.RopeStyle.INTERLEAVED, null, 0, mla);
        Path model = dir.resolve("tiny-deepseek2.gguf"), npy = dir.resolve("mla.npy");
        GgufDecoder.write(model, c, DecoderWeights.random(c, false, 5), GgmlType.F32);
        CliTest.Run r = CliTest.run("generate", "--model", model.toString(), "--kv-policy", "mla", "--logits", npy.toString(), "hello there");
        assertEquals(0, r.code(), r.err());
        int[] ids = Tokenizers.load(model).encode("hello there", true);
        DecoderModel m = GgufDecoder.load(model);
        float[] expected = m.forward(m.newCache(ids.length), ids, false);
        assertArrayEquals(expected, Npy.readFloat(npy).toArray(), 1e-6f);
        CliTest.Run greedy = CliTest.run("generate", "--model", model.toString(), "--kv-policy", "sinks", "--kv-budget", "6",
                "--temperature", "0", "--max-tokens", "8", "hello there");
        assertEquals(0, greedy.code(), greedy.err());
        CliTest.Run shared = CliTest.run("generate", "--model", model.toString(), "--kv-policy", "shared-attention", "x");
        assertEquals(2, shared.code());
        assertTrue(shared.err().contains("--kv-policy shared-attention: not available for a model with latent attention"), shared.err());
    }

    @Test
    void kvPoliciesRunAndBadOnesAreNamed() throws Exception {
        Path model = tinyModel();
        CliTest.Run full = CliTest.run("generate", "--model", model.toString(), "--temperature", "0", "--max-tokens", "5", "hello");
        CliTest.Run big = CliTest.run("generate", "--model", model.toString(), "--temperature", "0", "--max-tokens", "5",
                "--kv-policy", "sinks", "--kv-budget", "100", "hello");
        assertEquals(0, big.code(), big.err());
        assertEquals(full.out(), big.out());
        CliTest.Run small = CliTest.run("generate", "--model", model.toString(), "--temperature", "0", "--max-tokens", "5",
                "--kv-policy", "window", "--kv-budget", "3", "hello");
        assertEquals(0, small.code(), small.err());
        CliTest.Run bad = CliTest.run("generate", "--model", model.toString(), "--kv-policy", "sinks", "x");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--kv-budget: required with --kv-policy sinks"), bad.err());
        bad = CliTest.run("generate", "--model", model.toString(), "--kv-policy", "lru", "--kv-budget", "8", "x");
        assertTrue(bad.err().contains("--kv-policy: expected one of full, window, sinks, h2o, shared-attention[:G], mla, got 'lru'"), bad.err());
        bad = CliTest.run("generate", "--model", model.toString(), "--kv-policy", "mla", "x");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--kv-policy mla: the model has no latent attention layers (architecture qwen2)"), bad.err());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        // shared-attention needs no budget; its greedy text is the argmax chain of the API's shared-attention model
        CliTest.Run shared = CliTest.run("generate", "--model", model.toString(), "--temperature", "0", "--max-tokens", "5",
                "--kv-policy", "shared-attention:2", "--logits", dir.resolve("shared.npy").toString(), "hello");
        assertEquals(0, shared.code(), shared.err());
        int[] ids = Tokenizers.load(model).encode("hello", true);
        DecoderModel m = GgufDecoder.load(model);
        float[] expected = m.forward(m.newCache(ids.length, new org.attn4j.models.decoder.KvPolicy.SharedAttention(2)), ids, false);
        assertArrayEquals(expected, Npy.readFloat(dir.resolve("shared.npy")).toArray(), 1e-5f);
        float[] plain = m.forward(m.newCache(ids.length), ids, false);
        double diff = 0;
        for (int i = 0; i < plain.length; i++) diff = Math.max(diff, Math.abs(plain[i] - expected[i]));
        assertTrue(diff > 1e-4, "sharing attention changes the logits");
        bad = CliTest.run("generate", "--model", model.toString(), "--kv-policy", "shared-attention:x", "hello");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--kv-policy"), bad.err());
    }

    @Test
    void parallelSequencesEqualSeparateRunsWithTheirSeeds() throws Exception {
        Path model = tinyModel();
        CliTest.Run par = CliTest.run("generate", "--model", model.toString(), "--seed", "5", "--parallel", "3",
                "--max-tokens", "6", "--temperature", "1.2", "abc");
        assertEquals(0, par.code(), par.err());
        String[] lines = par.out().replace("\r\n", "\n").split("\n");
        assertEquals(3, lines.length, par.out());
        for (int i = 0; i < 3; i++) {
            CliTest.Run one = CliTest.run("generate", "--model", model.toString(), "--seed", String.valueOf(5 + i),
                    "--max-tokens", "6", "--temperature", "1.2", "abc");
            assertEquals(one.out().replace("\r\n", "\n").strip(), lines[i].strip(), "sequence " + i);
        }
        assertTrue(par.err().contains("3 sequences"), par.err());
        // Each sequence's cache lives in the shared pool and gives every block back when it ends.
        assertTrue(par.err().matches("(?s).*paged KV cache of (\\d+) blocks of 16 positions, \\1 free at the end.*"), par.err());
    }

    @Test
    void parallelSequencesUnderAnEvictingPolicyEqualSeparateRuns() throws Exception {
        Path model = tinyModel();
        String[] common = {"--max-tokens", "14", "--temperature", "1.2", "--kv-policy", "sinks", "--kv-budget", "7", "abc"};
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("generate", "--model", model.toString(), "--seed", "9", "--parallel", "2"));
        args.addAll(java.util.List.of(common));
        CliTest.Run par = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, par.code(), par.err());
        String[] lines = par.out().replace("\r\n", "\n").split("\n");
        for (int i = 0; i < 2; i++) {
            java.util.List<String> a = new java.util.ArrayList<>(java.util.List.of("generate", "--model", model.toString(), "--seed", String.valueOf(9 + i)));
            a.addAll(java.util.List.of(common));
            CliTest.Run one = CliTest.run(a.toArray(String[]::new));
            assertEquals(one.out().replace("\r\n", "\n").strip(), lines[i].strip(), "sequence " + i);
        }
    }

    @Test
    void sameSeedSameText() throws Exception {
        Path model = tinyModel();
        String[] args = {"generate", "--model", model.toString(), "--seed", "7", "--max-tokens", "8", "--temperature", "1.5", "abc"};
        assertEquals(CliTest.run(args).out(), CliTest.run(args).out());
    }

    @Test
    void badFilesAndOptionsExit2WithOneLine() throws Exception {
        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "not a gguf file at all");
        CliTest.Run r = CliTest.run("generate", "--model", junk.toString(), "x");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("attn4j: error: " + junk), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        Path model = tinyModel();
        Path cut = dir.resolve("cut.gguf");
        byte[] all = Files.readAllBytes(model);
        Files.write(cut, java.util.Arrays.copyOf(all, all.length - 100));
        r = CliTest.run("generate", "--model", cut.toString(), "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains(cut.toString()) && r.err().contains("truncated"), r.err());
        r = CliTest.run("generate", "--model", dir.resolve("none.gguf").toString(), "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--model: ") && r.err().contains("does not exist"), r.err());
        r = CliTest.run("generate", "--model", model.toString(), "--top-p", "0", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--top-p: expected a number in (0, 1], got 0.0"), r.err());
        r = CliTest.run("generate", "--model", model.toString(), "--max-tokens", "1000", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--max-tokens: the prompt's 1 tokens plus 1000 exceed the model's context of 256 tokens"), r.err());
    }
}
