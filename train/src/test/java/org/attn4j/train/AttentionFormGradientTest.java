package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.attn4j.train.model.TransformerConfig;
import org.attn4j.train.model.TransformerLM;
import org.attn4j.variants.Settings;
import org.attn4j.variants.trainable.TrainableRegistry;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * A whole 2-layer model's gradient, every parameter tensor, for every attention form the registry
 * offers ({@link TrainableRegistry#names()}, so a mechanism registered later is checked without a
 * change here), including the mechanism's own tensors under {@code h.L.attn.<name>}.
 *
 * <p>Two references. The float64 model {@link Oracle64#gptLoss} knows the engine's exact attention
 * ({@code full}, with and without window and ALiBi): those forms get the tight check of
 * {@link ModelGradientTest}. For any other mechanism the model's own float32 loss is differenced
 * (step 1e-2 in θ, the real float32 step as denominator): rounding of the loss (≈ 1e-7·loss) divided
 * by the step bounds the reference's error near 1e-4, so the tolerance is loose (3 % of the tensor's
 * largest entry plus 3 % of the entry); it catches what the plumbing can get wrong (a view at the
 * wrong offset, a gradient not accumulated, a mechanism tensor never updated), while each
 * mechanism's own float64 check lives with it in module variants. {@code full} runs through the
 * float32 path too, as the control that the loose check passes a known-correct gradient.
 *
 * <p>A mechanism whose defaults do not fit the tiny shape (its {@code parameters} throws) is
 * reported as skipped, not failed. Entries where two step sizes disagree (a mechanism that is not
 * smooth there, as cog's sign(s) is at s = 0) are skipped, at most half of a tensor's; a tensor the
 * loss does not depend on at this shape must get an exactly zero gradient.
 */
class AttentionFormGradientTest {
    static final double F32_STEP = 1e-2, F32_ABS = 3e-2, F32_REL = 3e-2;
    /** Entries checked per tensor on the float32 path (every entry of small tensors). */
    static final int F32_SAMPLES = 24;

    @TestFactory
    Stream<DynamicTest> everyRegisteredMechanism() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : TrainableRegistry.names()) {
            tests.add(DynamicTest.dynamicTest(name + " (float32 differences)", () -> float32Check(name)));
        }
        tests.add(DynamicTest.dynamicTest("full (float64)", () -> ModelGradientTest.check(base(), 2, 21)));
        tests.add(DynamicTest.dynamicTest("full window=3 (float64)", () -> ModelGradientTest.check(base().withWindow(3), 2, 22)));
        tests.add(DynamicTest.dynamicTest("full alibi (float64)", () -> ModelGradientTest.check(base().withAlibi(true).withLearnedPositions(false), 1, 23)));
        tests.add(DynamicTest.dynamicTest("full alibi window=2 rope (float64)",
                () -> ModelGradientTest.check(base().withAlibi(true).withWindow(2).withRope(true).withLearnedPositions(false), 2, 24)));
        return tests.stream();
    }

    private static TransformerConfig base() {
        return TransformerConfig.gpt(13, 8, 2, 8, 2).withInitStd(0.4f).withMlpRatio(2);
    }

    private static void float32Check(String name) {
        TransformerConfig cfg;
        TransformerLM probe;
        try {
            TrainableRegistry.create(name, Settings.empty());
            cfg = TransformerConfig.gpt(13, 8, 2, 16, 2).withInitStd(0.4f).withMlpRatio(2).withAttention(name, List.of());
            probe = new TransformerLM(cfg, 2, 1, 1);
        } catch (IllegalArgumentException e) {
            Assumptions.abort(name + " does not fit the tiny model with default settings: " + e.getMessage());
            return;
        }
        System.out.println("[attention-grad] " + name + ": own tensors " + probe.mechanismParameters().keySet());
        ModelGradientTest.Setup s = ModelGradientTest.setup(cfg, 2, 31);
        TransformerLM model = s.model();
        Parameters p = model.parameters();
        float[] analytic = p.grads().clone();
        float[] w = p.values();
        for (Parameters.Param t : p.params()) {
            int n = t.size(), count = Math.min(n, F32_SAMPLES);
            double[] numeric = new double[count];
            float[] picked = new float[count];
            int kept = 0, rough = 0;
            for (int j = 0; j < count; j++) {
                int i = t.offset() + (int) ((long) j * n / count);
                double wide = difference(model, s, w, i, F32_STEP), narrow = difference(model, s, w, i, F32_STEP / 2);
                // A mechanism need not be smooth everywhere (cog's weights jump where a logit crosses
                // 0): where the two steps disagree, the difference measures a jump, not a slope.
                if (Math.abs(wide - narrow) > F32_REL * Math.max(Math.abs(wide), Math.abs(narrow)) + 1e-3) {
                    rough++;
                    continue;
                }
                numeric[kept] = narrow;
                picked[kept] = analytic[i];
                kept++;
            }
            double[] nums = java.util.Arrays.copyOf(numeric, kept);
            GradCheck.Worst worst = GradCheck.compare(name + " " + t.name(), picked, 0, nums, F32_ABS, F32_REL);
            System.out.println("[attention-grad] " + worst + (rough > 0 ? " (" + rough + " of " + count + " entries not smooth at the step, skipped)" : ""));
            assertTrue(kept * 2 >= count, name + " " + t.name() + ": only " + kept + " of " + count + " entries could be differenced");
            GradCheck.assertWithin(worst);
            if (worst.scale() == 0) {
                // The loss does not depend on this tensor at this shape (e.g. a router of heads the
                // tiny model does not have): the analytic gradient must be exactly 0 too.
                for (int j = 0; j < kept; j++) assertTrue(picked[j] == 0f, name + " " + t.name() + ": analytic " + picked[j] + " where the loss is flat");
                System.out.println("[attention-grad] " + name + " " + t.name() + ": the loss does not depend on it at this shape");
            }
        }
    }

    /** Central difference of the float32 loss in weight i with step h (the float32 step actually taken as denominator). */
    private static double difference(TransformerLM model, ModelGradientTest.Setup s, float[] w, int i, double h) {
        float keep = w[i];
        float up = (float) (keep + h), down = (float) (keep - h);
        w[i] = up;
        double plus = model.evaluate(s.tokens(), s.targets(), s.mask());
        w[i] = down;
        double minus = model.evaluate(s.tokens(), s.targets(), s.mask());
        w[i] = keep;
        return (plus - minus) / ((double) up - down);
    }
}
