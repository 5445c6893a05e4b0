package org.attn4j.train.export;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Random;
import org.attn4j.models.decoder.DecoderModel;
import org.attn4j.models.decoder.HfDecoder;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.loop.Trainer;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.task.Mqar;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A trained model exported by {@link HfExport} and loaded by the decoder runtime
 * ({@link HfDecoder}) predicts what the training stack predicts: for every position of random
 * sequences, the whole log-softmax row of the decoder (one prefill, and token by token through its
 * KV cache) equals the training forward's. The training stack has no logits output, so its row is
 * read one entry at a time: {@link TransformerLM#evaluate} with a single marked position and target
 * {@code v} returns {@code −log p(v)}.
 */
class ExportDecoderTest {
    private static final int VOCAB = 40, SEQ = 13;

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama-with-biases", "gpt2"})
    void decoderOnTheExportEqualsTheTrainingForward(String layout, @TempDir Path dir) throws Exception {
        TransformerConfig cfg = switch (layout) {
            case "llama" -> TransformerConfig.llama(VOCAB, SEQ, 2, 24, 3);          // RoPE, RMSNorm, SwiGLU, untied, no biases
            // what `attn4j train --positions rope --norm rms --mlp swiglu --untied` builds: Llama's layers with GPT-2's biases
            case "llama-with-biases" -> TransformerConfig.llama(VOCAB, SEQ, 2, 24, 3).withBias(true).withMlpRatio(4);
            default -> TransformerConfig.gpt(VOCAB, SEQ, 2, 24, 3);                 // learned positions, LayerNorm, GELU, tied
        };
        TransformerLM model = new TransformerLM(cfg, 4, 1, 11);
        // A few optimiser steps at a high rate take the weights well away from their initial values.
        Mqar.Config task = new Mqar.Config(VOCAB, 12, 2, 0.01, true);
        new Trainer(model, TrainConfig.of(12, 4).withLearningRate(1e-2f, 1e-2f).withWarmup(1))
                .run(seqLenAdapter(task), java.util.List.of(), null);
        HfExport.write(model, null, layout.startsWith("llama") ? HfExport.Layout.LLAMA : HfExport.Layout.GPT2, dir);
        DecoderModel decoder = HfDecoder.load(dir).threads(1);

        Random r = new Random(5);
        double worstPrefill = 0, worstSteps = 0;
        for (int trial = 0; trial < 2; trial++) {
            int[] tokens = new int[SEQ];
            for (int i = 0; i < SEQ; i++) tokens[i] = r.nextInt(VOCAB);
            double[][] train = trainingLogSoftmax(model, tokens);
            float[] prefill = decoder.forward(decoder.newCache(SEQ), tokens, true);
            var cache = decoder.newCache(SEQ);
            for (int i = 0; i < SEQ; i++) {
                float[] step = decoder.forward(cache, new int[] {tokens[i]}, false);
                worstPrefill = Math.max(worstPrefill, maxDiff(train[i], logSoftmax(prefill, i * VOCAB)));
                worstSteps = Math.max(worstSteps, maxDiff(train[i], logSoftmax(step, 0)));
            }
        }
        // float32 on both sides, different summation orders: log-probabilities agree to ~1e-5.
        assertTrue(worstPrefill < 2e-4, layout + ": prefill log-softmax differs by " + worstPrefill);
        assertTrue(worstSteps < 2e-4, layout + ": cached decode log-softmax differs by " + worstSteps);
        // and the check can fail: a model with one weight changed no longer matches
        model.parameters().values()[model.parameters().get("wte").offset() + 3] += 0.5f;
        int[] tokens = new int[SEQ]; // token 0 everywhere: its embedding row holds the changed weight
        double[][] changed = trainingLogSoftmax(model, tokens);
        float[] prefill = decoder.forward(decoder.newCache(SEQ), tokens, true);
        double worst = 0;
        for (int i = 0; i < SEQ; i++) worst = Math.max(worst, maxDiff(changed[i], logSoftmax(prefill, i * VOCAB)));
        assertTrue(worst > 1e-3, "a changed weight must show: " + worst);
    }

    /** The MQAR stream at the model's sequence length: the task's 12 tokens plus one filler, marked everywhere. */
    private static org.attn4j.train.task.Task seqLenAdapter(Mqar.Config task) {
        Mqar mqar = new Mqar(task, 3);
        return batch -> {
            org.attn4j.train.task.Batch b = mqar.next(batch);
            int[] tokens = new int[batch * SEQ], targets = new int[batch * SEQ];
            boolean[] mask = new boolean[batch * SEQ];
            for (int s = 0; s < batch; s++) {
                for (int i = 0; i < SEQ; i++) {
                    tokens[s * SEQ + i] = i < 12 ? b.tokens()[s * 12 + i] : 1;
                    targets[s * SEQ + i] = i + 1 < 12 ? b.tokens()[s * 12 + i + 1] : 1;
                    mask[s * SEQ + i] = true;
                }
            }
            return new org.attn4j.train.task.Batch(batch, SEQ, tokens, targets, mask);
        };
    }

    /** {@code [SEQ][VOCAB]}: log p(v | tokens[..i]) from the training forward, one marked (position, target) per call. */
    private static double[][] trainingLogSoftmax(TransformerLM model, int[] tokens) {
        double[][] out = new double[SEQ][VOCAB];
        int[] targets = new int[SEQ];
        boolean[] mask = new boolean[SEQ];
        for (int i = 0; i < SEQ; i++) {
            mask[i] = true;
            for (int v = 0; v < VOCAB; v++) {
                targets[i] = v;
                out[i][v] = -model.evaluate(tokens, targets, mask);
            }
            mask[i] = false;
        }
        return out;
    }

    private static double[] logSoftmax(float[] logits, int off) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (int v = 0; v < VOCAB; v++) max = Math.max(max, logits[off + v]);
        for (int v = 0; v < VOCAB; v++) sum += Math.exp(logits[off + v] - max);
        double[] out = new double[VOCAB];
        for (int v = 0; v < VOCAB; v++) out[v] = logits[off + v] - max - Math.log(sum);
        return out;
    }

    private static double maxDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
