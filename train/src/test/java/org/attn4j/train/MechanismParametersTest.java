package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.attn4j.train.checkpoint.Checkpoint;
import org.attn4j.train.loop.TrainConfig;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.train.optim.AdamW;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mechanism's own tensors ({@link GainAttention}) through the whole stack: declared under the
 * block's prefix with their decay flags, initialised per their Init, read by the forward, their
 * gradients added by the backward (float32 central differences), updated by AdamW, and saved and
 * restored by checkpoints.
 */
class MechanismParametersTest {
    private static final TransformerConfig CFG = TransformerConfig.gpt(13, 8, 2, 8, 2).withMlpRatio(2).withAttention("gain-test", List.of());

    @TempDir
    Path dir;

    @Test
    void declaredInitialisedAndFlaggedLikeTheMechanismSays() {
        TransformerLM model = new TransformerLM(CFG, new GainAttention(), 2, 1, 3);
        Parameters p = model.parameters();
        assertEquals(List.of("h.0.attn.gain", "h.0.attn.mix", "h.0.attn.shift", "h.0.attn.unused",
                "h.1.attn.gain", "h.1.attn.mix", "h.1.attn.shift", "h.1.attn.unused"), List.copyOf(model.mechanismParameters().keySet()));
        // right after the block's projections
        List<String> names = p.params().stream().map(Parameters.Param::name).toList();
        assertEquals(names.indexOf("h.0.attn.c_proj.bias") + 1, names.indexOf("h.0.attn.gain"));
        float[] w = p.values();
        Parameters.Param gain = p.get("h.1.attn.gain"), mix = p.get("h.1.attn.mix"), shift = p.get("h.1.attn.shift"), unused = p.get("h.1.attn.unused");
        for (int i = 0; i < 2; i++) assertEquals(1f, w[gain.offset() + i]);
        for (int h = 0; h < 2; h++) for (int i = 0; i < 4; i++) for (int e = 0; e < 4; e++) {
            assertEquals(i == e ? 1f : 0f, w[mix.offset() + (h * 4 + i) * 4 + e], "mix identity");
        }
        assertEquals(0f, w[shift.offset()]);
        double sq = 0;
        for (int i = 0; i < 3; i++) sq += w[unused.offset() + i] * w[unused.offset() + i];
        assertTrue(sq > 0 && sq < 3 * 4 * 0.25 * 4, "NORMAL(0.5) draws: " + sq);
        assertTrue(mix.decay());
        assertFalse(gain.decay());
    }

    /** At initialisation the mechanism is exact attention, so the model's loss is that of a full-attention model with the same weights. */
    @Test
    void startsAsExactAttention() {
        TransformerLM custom = new TransformerLM(CFG, new GainAttention(), 2, 1, 3);
        TransformerLM full = new TransformerLM(TransformerConfig.gpt(13, 8, 2, 8, 2).withMlpRatio(2), 2, 1, 1);
        for (Parameters.Param t : full.parameters().params()) {
            Parameters.Param c = custom.parameters().get(t.name());
            System.arraycopy(custom.parameters().values(), c.offset(), full.parameters().values(), t.offset(), t.size());
        }
        ModelGradientTest.Setup s = ModelGradientTest.setup(TransformerConfig.gpt(13, 8, 2, 8, 2).withMlpRatio(2), 1, 3);
        double a = custom.evaluate(s.tokens(), s.targets(), s.mask()), b = full.evaluate(s.tokens(), s.targets(), s.mask());
        assertEquals(b, a, 1e-6 * Math.abs(b));
    }

    @Test
    void gradientsReachEveryMechanismTensor() {
        TransformerLM model = new TransformerLM(CFG, new GainAttention(), 2, 2, 3);
        Parameters p = model.parameters();
        Random r = new Random(5);
        for (String n : model.mechanismParameters().keySet()) {
            Parameters.Param t = p.get(n);
            for (int i = t.offset(); i < t.offset() + t.size(); i++) p.values()[i] += (float) (0.3 * r.nextGaussian());
        }
        ModelGradientTest.Setup s = ModelGradientTest.setup(TransformerConfig.gpt(13, 8, 2, 8, 2).withMlpRatio(2), 1, 4);
        p.zeroGrad();
        model.forward(s.tokens(), s.targets(), s.mask());
        model.backward();
        float[] g = p.grads().clone();
        for (String n : model.mechanismParameters().keySet()) {
            Parameters.Param t = p.get(n);
            double[] numeric = new double[t.size()];
            for (int i = 0; i < t.size(); i++) {
                int at = t.offset() + i;
                float keep = p.values()[at], up = keep + 1e-2f, down = keep - 1e-2f;
                p.values()[at] = up;
                double plus = model.evaluate(s.tokens(), s.targets(), s.mask());
                p.values()[at] = down;
                double minus = model.evaluate(s.tokens(), s.targets(), s.mask());
                p.values()[at] = keep;
                numeric[i] = (plus - minus) / ((double) up - down);
            }
            GradCheck.Worst w = GradCheck.compare(n, g, t.offset(), numeric, 3e-2, 3e-2);
            System.out.println("[mechanism-grad] " + w);
            if (n.endsWith("unused")) {
                for (int i = 0; i < t.size(); i++) assertEquals(0f, g[t.offset() + i], "a tensor the mechanism never reads gets no gradient");
            } else {
                GradCheck.assertWithin(w);
                assertTrue(w.scale() > 1e-6, "gradient reaches " + n);
            }
        }
    }

    @Test
    void updatedByAdamWAndCheckpointed() throws IOException {
        TransformerLM model = new TransformerLM(CFG, new GainAttention(), 2, 1, 3);
        Parameters p = model.parameters();
        ModelGradientTest.Setup s = ModelGradientTest.setup(TransformerConfig.gpt(13, 8, 2, 8, 2).withMlpRatio(2), 1, 4);
        AdamW opt = new AdamW(p, 0.1f);
        float gain0 = p.values()[p.get("h.0.attn.gain").offset()];
        p.zeroGrad();
        model.forward(s.tokens(), s.targets(), s.mask());
        model.backward();
        opt.step(1e-2f);
        assertTrue(p.values()[p.get("h.0.attn.gain").offset()] != gain0, "AdamW moved the mechanism's tensor");
        Path at = Checkpoint.save(dir, model, opt, new Checkpoint.State(1, 1, 3, 1, TrainConfig.of(2, 2)), 1);
        TransformerLM back = new TransformerLM(CFG, new GainAttention(), 2, 1, 77);
        AdamW opt2 = new AdamW(back.parameters(), 0.1f);
        Checkpoint.restore(Checkpoint.load(at), back, opt2);
        assertArrayEquals(p.values(), back.parameters().values());
        assertArrayEquals(opt.secondMoments(), opt2.secondMoments());
    }
}
