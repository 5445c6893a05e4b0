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
        assertTrue(r.err().contains("--policies: kv policy: expected one of full, window, sinks, h2o, got 'lru'"), r.err());
        r = CliTest.run("bench", "kv", "--model", model.toString(), "--text", dir.resolve("none.txt").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--text: "), r.err());
    }
}
