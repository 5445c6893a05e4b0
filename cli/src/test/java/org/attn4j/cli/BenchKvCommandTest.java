package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.attn4j.models.decoder.DecoderConfig;
import org.attn4j.models.decoder.DecoderModel;
import org.attn4j.models.decoder.DecoderWeights;
import org.attn4j.models.decoder.GgufDecoder;
import org.attn4j.models.gguf.GgmlType;
import org.attn4j.models.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchKvCommandTest {
    @TempDir Path dir;

    private static final DecoderConfig CONFIG = new DecoderConfig(DecoderConfig.Arch.QWEN2, 300, 32, 2, 4, 2, 8, 64, 256, 1e-6f,
            1e6f, 8, DecoderConfig.RopeStyle.HALVES, null, 0);

    @Test
    void fullAndAnUnreachedBudgetGiveThePrefillPerplexityAndSmallBudgetsDiffer() throws Exception {
        Path model = dir.resolve("tiny.gguf"), text = dir.resolve("text.txt");
        GgufDecoder.write(model, CONFIG, DecoderWeights.random(CONFIG, false, 41), GgmlType.F32);
        String s = "The quick brown fox jumps over the lazy dog, then naps.";
        Files.writeString(text, s);
        CliTest.Run r = CliTest.run("bench", "kv", "--model", model.toString(), "--text", text.toString(),
                "--policies", "full,window,sinks,h2o", "--budgets", "6,200");
        assertEquals(0, r.code(), r.err());
        Map<String, Double> rows = new HashMap<>();
        Matcher mt = Pattern.compile("\\| (\\w+) \\| (\\w+) \\| ([0-9.]+) \\|").matcher(r.out());
        while (mt.find()) rows.put(mt.group(1) + " " + mt.group(2), Double.parseDouble(mt.group(3)));
        assertEquals(7, rows.size(), r.out());

        // Independently: one prefill of the whole text, all positions' logits, log-softmax in float64.
        int[] ids = Tokenizers.load(model).encode(s, false);
        DecoderModel m = GgufDecoder.load(model);
        float[] all = m.forward(m.newCache(ids.length), ids, true);
        int v = CONFIG.vocab();
        double nll = 0;
        for (int i = 0; i + 1 < ids.length; i++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < v; j++) max = Math.max(max, all[i * v + j]);
            for (int j = 0; j < v; j++) sum += Math.exp(all[i * v + j] - max);
            nll -= all[i * v + ids[i + 1]] - max - Math.log(sum);
        }
        double prefill = Math.exp(nll / (ids.length - 1));
        assertTrue(r.out().contains("perplexity of " + ids.length + " tokens"), r.out());
        for (String key : new String[] {"full all", "window 200", "sinks 200", "h2o 200"}) {
            assertEquals(prefill, rows.get(key), prefill * 1e-5, key + " in\n" + r.out());
        }
        for (String key : new String[] {"window 6", "sinks 6", "h2o 6"}) {
            assertTrue(Math.abs(rows.get(key) - prefill) > prefill * 1e-4, key + " evicts, so it differs:\n" + r.out());
        }
    }

    @Test
    void badOptionsAreNamed() throws Exception {
        Path model = dir.resolve("tiny.gguf"), text = dir.resolve("text.txt");
        GgufDecoder.write(model, CONFIG, DecoderWeights.random(CONFIG, false, 41), GgmlType.F32);
        Files.writeString(text, "hello world");
        CliTest.Run r = CliTest.run("bench", "kv", "--model", model.toString(), "--text", text.toString(), "--policies", "lru");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--policies: kv policy: expected one of full, window, sinks, h2o, shared-attention[:G], mla, got 'lru'"), r.err());
        r = CliTest.run("bench", "kv", "--model", model.toString(), "--text", dir.resolve("none.txt").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--text: "), r.err());
    }

    /** The perplexity column of the row {@code policy | budget} in a bench kv table. */
    private static double row(String out, String policy, String budget) {
        Matcher mt = Pattern.compile("\\| " + Pattern.quote(policy) + " \\| " + Pattern.quote(budget) + " \\| ([0-9.]+) \\|").matcher(out);
        assertTrue(mt.find(), policy + " " + budget + " in\n" + out);
        return Double.parseDouble(mt.group(1));
    }

    /**
     * A directory is several texts, each decoded from an empty cache, pooled into one perplexity:
     * exp(Σ nll / Σ predictions) of the files measured one by one. {@code shared-attention} keeps
     * every position, so it is one row whatever the budgets, and equals the API's perplexity for it;
     * a RoPE model may read past its context (with a note), which GPT-2's learned positions cannot.
     */
    @Test
    void aDirectoryPoolsItsFilesAndSharedAttentionIsOneRow() throws Exception {
        Path model = dir.resolve("tiny.gguf"), texts = dir.resolve("texts");
        GgufDecoder.write(model, CONFIG, DecoderWeights.random(CONFIG, false, 41), GgmlType.F32);
        Files.createDirectories(texts);
        String a = "The quick brown fox jumps over the lazy dog, then naps.", b = "State of the Union: a longer second text, with commas; and more.";
        Files.writeString(texts.resolve("a.txt"), a);
        Files.writeString(texts.resolve("b.txt"), b);
        String[] names = {"a.txt", "b.txt"};
        double nll = 0;
        int predictions = 0;
        int[][] ids = {Tokenizers.load(model).encode(a, false), Tokenizers.load(model).encode(b, false)};
        for (int i = 0; i < 2; i++) {
            CliTest.Run one = CliTest.run("bench", "kv", "--model", model.toString(), "--text", texts.resolve(names[i]).toString(),
                    "--policies", "full,sinks", "--budgets", "8");
            assertEquals(0, one.code(), one.err());
            nll += (ids[i].length - 1) * (Math.log(row(one.out(), "sinks", "8")));
            predictions += ids[i].length - 1;
        }
        CliTest.Run r = CliTest.run("bench", "kv", "--model", model.toString(), "--text", texts.toString(),
                "--policies", "full,sinks,shared-attention", "--budgets", "8,16");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("in 2 texts (" + predictions + " predictions, pooled)"), r.out());
        assertEquals(Math.exp(nll / predictions), row(r.out(), "sinks", "8"), 1e-5 * Math.exp(nll / predictions), r.out());

        assertEquals(1, r.out().lines().filter(l -> l.startsWith("| shared-attention |")).count(), r.out());
        DecoderModel m = GgufDecoder.load(model);
        double shared = 0;
        for (int[] x : ids) shared += org.attn4j.models.decoder.KvPerplexity.negativeLogLikelihood(m, x, new org.attn4j.models.decoder.KvPolicy.SharedAttention(2));
        assertEquals(Math.exp(shared / predictions), row(r.out(), "shared-attention", "all"), 1e-5 * Math.exp(shared / predictions), r.out());
        assertTrue(Math.abs(row(r.out(), "shared-attention", "all") - row(r.out(), "full", "all")) > 1e-3, "sharing attention changes the model");

        DecoderConfig shortContext = new DecoderConfig(DecoderConfig.Arch.QWEN2, 300, 32, 2, 4, 2, 8, 64, 8, 1e-6f,
                1e6f, 8, DecoderConfig.RopeStyle.HALVES, null, 0);
        Path small = dir.resolve("short.gguf");
        GgufDecoder.write(small, shortContext, DecoderWeights.random(shortContext, false, 41), GgmlType.F32);
        CliTest.Run past = CliTest.run("bench", "kv", "--model", small.toString(), "--text", texts.resolve("b.txt").toString(),
                "--policies", "full,sinks", "--budgets", "8");
        assertEquals(0, past.code(), past.err());
        assertTrue(past.err().contains("exceed the model's context of 8"), past.err());
    }

    /**
     * {@code bench kv-recall} on a model trained and exported by {@code attn4j train}: its full-cache
     * row scores the run's own held-out set, so it equals the run's final held-out accuracy; a window
     * of 2 keys cannot reach the pairs.
     */
    @Test
    void kvRecallFullRowIsTheTrainingRunsHeldOutAccuracy() throws Exception {
        Path run = dir.resolve("mqar"), hf = dir.resolve("mqar-hf");
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("train"));
        args.addAll(TrainCommandTest.tiny("--d-model", "16", "--steps", "30", "--lr", "1e-2", "--init-std", "0.08", "--eval-every", "30",
                "--eval-batches", "2", "--seed", "4", "--out", run.toString(), "--export", hf.toString()));
        CliTest.Run t = CliTest.run(args.toArray(String[]::new));
        assertEquals(0, t.code(), t.err());
        double trained = new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.resolve("summary.json").toFile()).path("final_accuracy").asDouble();

        CliTest.Run r = CliTest.run("bench", "kv-recall", "--model", hf.toString(), "--seq-len", "16", "--kv-pairs", "2", "--vocab", "32",
                "--seed", "4", "--eval-batches", "2", "--batch", "4", "--policies", "full,window,h2o", "--budgets", "2,16");
        assertEquals(0, r.code(), r.err());
        Matcher full = Pattern.compile("\\| full \\| all \\| ([0-9.]+) % \\| (\\d+) / 16 \\|").matcher(r.out());
        assertTrue(full.find(), r.out());
        assertEquals(trained, Integer.parseInt(full.group(2)) / 16.0, 1e-12, r.out());
        assertTrue(r.out().contains("| window | 16 | " + full.group(1) + " % | " + full.group(2) + " / 16 |"), "an unreached budget changes nothing:\n" + r.out());

        CliTest.Run bad = CliTest.run("bench", "kv-recall", "--model", hf.toString(), "--vocab", "64", "--seq-len", "16", "--kv-pairs", "2");
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--vocab"), bad.err());
    }
}
