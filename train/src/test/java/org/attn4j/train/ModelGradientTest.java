package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.junit.jupiter.api.Test;

/**
 * The whole model's float32 analytic gradient (every entry of every parameter tensor of a 2-layer
 * model) against central differences of {@link Oracle64#gptLoss}, a float64 model written
 * independently from the definitions. The parameters are perturbed in float64, so the reference is
 * exact to ~1e-9; the tolerance is that of {@link GradCheck} (ABS·max|g| of the tensor + REL·|g|).
 *
 * <p>The weights are drawn far from GPT-2's small initialisation (std 0.4, random LayerNorm γ and β,
 * random biases), so attention is not uniform, GELU is not linear and every path carries a gradient
 * of its own size; the test asserts that no tensor's gradient is all zero. A negative control shows
 * the check rejects a gradient that is wrong by 1 % in a single entry.
 */
class ModelGradientTest {
    static final double ABS = 1e-5, REL = 1e-4;

    @Test
    void learnedPositionsEveryParameter() {
        TransformerConfig cfg = TransformerConfig.gpt(11, 6, 2, 8, 2).withInitStd(0.4f);
        List<GradCheck.Worst> results = check(cfg, 1, 1);
        assertEquals(TransformerLM.declare(cfg).params().size(), results.size());
    }

    @Test
    void alibiWindowNoPositionsEveryParameter() {
        TransformerConfig cfg = TransformerConfig.gpt(11, 6, 2, 8, 2).withInitStd(0.4f)
                .withLearnedPositions(false).withAlibi(true).withWindow(3);
        check(cfg, 2, 2);
    }

    /** Llama's layers: RoPE, RMSNorm, SwiGLU, untied output, no biases. */
    @Test
    void ropeRmsSwiGluUntiedNoBias() {
        TransformerConfig cfg = TransformerConfig.llama(11, 6, 2, 8, 2).withInitStd(0.4f);
        List<GradCheck.Worst> results = check(cfg, 2, 4);
        assertTrue(results.stream().anyMatch(w -> w.what().equals("lm_head.weight")), "the untied head is checked");
    }

    /** No position signal at all (the causal mask alone), RMSNorm, GELU, untied output, with biases. */
    @Test
    void noPositionsRmsGeluUntied() {
        check(TransformerConfig.gpt(11, 6, 2, 8, 2).withInitStd(0.4f).withLearnedPositions(false)
                .withNorm(TransformerConfig.Norm.RMS).withTiedOutput(false), 1, 5);
    }

    /** RoPE with a window, LayerNorm, SwiGLU, tied output. */
    @Test
    void ropeWindowLayerNormSwiGluTied() {
        check(TransformerConfig.gpt(11, 6, 2, 8, 2).withInitStd(0.4f).withLearnedPositions(false).withRope(true).withWindow(2)
                .withMlp(TransformerConfig.Mlp.SWIGLU).withMlpRatio(2), 2, 6);
    }

    /** Learned positions, RMSNorm, SwiGLU, tied, with biases. */
    @Test
    void learnedRmsSwiGluTied() {
        check(TransformerConfig.gpt(11, 6, 2, 8, 2).withInitStd(0.4f).withNorm(TransformerConfig.Norm.RMS)
                .withMlp(TransformerConfig.Mlp.SWIGLU), 1, 7);
    }

    /** ALiBi, LayerNorm, SwiGLU, untied, no biases. */
    @Test
    void alibiLayerNormSwiGluUntiedNoBias() {
        check(TransformerConfig.gpt(11, 6, 2, 8, 2).withInitStd(0.4f).withLearnedPositions(false).withAlibi(true)
                .withMlp(TransformerConfig.Mlp.SWIGLU).withTiedOutput(false).withBias(false), 2, 8);
    }

    /** Attention-only blocks (mlpRatio 0, Zoology's MQAR models): no ln_2 and no MLP tensors, learned positions and RoPE. */
    @Test
    void attentionOnlyBlocks() {
        TransformerConfig cfg = TransformerConfig.gpt(11, 6, 2, 8, 2).withInitStd(0.4f).withMlpRatio(0);
        List<GradCheck.Worst> results = check(cfg, 1, 9);
        assertEquals(TransformerLM.declare(cfg).params().size(), results.size());
        assertTrue(results.stream().noneMatch(w -> w.what().contains("mlp") || w.what().contains("ln_2")), "no MLP tensors declared");
        check(cfg.withLearnedPositions(false).withRope(true).withTiedOutput(false), 2, 10);
    }

    @Test
    void checkerRejectsAOnePercentError() {
        TransformerConfig cfg = TransformerConfig.gpt(11, 6, 2, 8, 2).withInitStd(0.4f);
        Setup s = setup(cfg, 1, 3);
        Parameters.Param t = s.model.parameters().get("h.1.mlp.c_fc.weight");
        double[] numeric = GradCheck.central(s.loss, s.theta, t.offset(), t.offset() + t.size());
        float[] g = s.model.parameters().grads();
        int worst = 0;
        for (int i = 1; i < numeric.length; i++) if (Math.abs(numeric[i]) > Math.abs(numeric[worst])) worst = i;
        GradCheck.assertWithin(GradCheck.compare("unchanged", g, t.offset(), numeric, ABS, REL));
        g[t.offset() + worst] *= 1.01f;
        GradCheck.Worst w = GradCheck.compare("1 % off", g, t.offset(), numeric, ABS, REL);
        assertTrue(w.ratio() > 1, "a 1 % error in one entry must fail the check: " + w);
    }

    record Setup(TransformerLM model, double[] theta, ToDoubleFunction<double[]> loss, double loss32,
                 int[] tokens, int[] targets, boolean[] mask) {}

    static Setup setup(TransformerConfig cfg, int threads, long seed) {
        int batch = 2, t = cfg.seqLen(), rows = batch * t;
        TransformerLM model = new TransformerLM(cfg, batch, threads, seed);
        Parameters p = model.parameters();
        Random rnd = new Random(seed + 100);
        for (Parameters.Param tensor : p.params()) {
            if (isNorm(tensor.name())) {
                for (int i = tensor.offset(); i < tensor.offset() + tensor.size(); i++) {
                    p.values()[i] = (float) ((tensor.name().endsWith(".weight") ? 1 : 0) + 0.3 * rnd.nextGaussian());
                }
            } else if (tensor.name().endsWith(".bias")) {
                for (int i = tensor.offset(); i < tensor.offset() + tensor.size(); i++) p.values()[i] = (float) (0.2 * rnd.nextGaussian());
            }
        }
        int[] tokens = new int[rows], targets = new int[rows];
        boolean[] mask = new boolean[rows];
        for (int i = 0; i < rows; i++) {
            tokens[i] = rnd.nextInt(cfg.vocab());
            targets[i] = rnd.nextInt(cfg.vocab());
            mask[i] = i % 3 != 1; // some positions carry no loss
        }
        p.zeroGrad();
        double loss32 = model.forward(tokens, targets, mask);
        model.backward();
        double[] theta = LayerGradientTest.toD(p.values());
        ToDoubleFunction<double[]> loss = th -> Oracle64.gptLoss(cfg, p, th, tokens, targets, mask);
        return new Setup(model, theta, loss, loss32, tokens, targets, mask);
    }

    private static boolean isNorm(String name) { return name.contains("ln_"); }

    static List<GradCheck.Worst> check(TransformerConfig cfg, int threads, long seed) {
        Setup s = setup(cfg, threads, seed);
        double loss64 = s.loss.applyAsDouble(s.theta);
        assertEquals(loss64, s.loss32, 1e-5 * loss64, "float32 loss against the float64 model");
        double[] numeric = GradCheck.central(s.loss, s.theta);
        Parameters p = s.model.parameters();
        List<GradCheck.Worst> results = new ArrayList<>();
        for (Parameters.Param t : p.params()) {
            GradCheck.Worst w = GradCheck.compare(t.name(), p.grads(), t.offset(),
                    Arrays.copyOfRange(numeric, t.offset(), t.offset() + t.size()), ABS, REL);
            System.out.println("[model-grad] " + w);
            results.add(w);
        }
        for (GradCheck.Worst w : results) {
            GradCheck.assertWithin(w);
            assertTrue(w.scale() > 1e-6, "a tensor whose gradient is ~0 checks nothing: " + w);
        }
        return results;
    }
}
