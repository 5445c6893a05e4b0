package org.attn4j.variants.trainable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.junit.jupiter.api.Test;

class TrainableRegistryTest {
    static final List<String> REQUIRED = List.of("full", "neighborhood-1d", "moba", "linear", "lln", "talking-heads", "cog", "mla", "moh");

    @Test
    void everyRequiredMechanismIsTrainableUnderItsOwnName() {
        for (String name : REQUIRED) {
            assertTrue(TrainableRegistry.isTrainable(name), name);
            assertEquals(name, TrainableRegistry.create(name, Settings.empty()).name());
        }
        assertEquals(REQUIRED.size(), TrainableRegistry.names().size(), "names: " + TrainableRegistry.names());
    }

    @Test
    void everyTrainableVariantExistsAsAForwardVariant() {
        for (String name : TrainableRegistry.names()) {
            if (name.equals("full")) continue;
            assertTrue(VariantRegistry.all().stream().anyMatch(f -> f.info().name().equals(name)), name + " is not in attn4j variants list");
        }
    }

    @Test
    void aVariantWithoutABackwardSaysSo() {
        assertFalse(TrainableRegistry.isTrainable("flowformer"));
        var e = VariantAssert.assertRejects("attention: variant 'flowformer' has no backward and cannot be trained", () -> TrainableRegistry.create("flowformer", Settings.empty()));
        assertTrue(e.getMessage().contains("moba"), e.getMessage());
        VariantAssert.assertRejects("attention: unknown 'no-such'", () -> TrainableRegistry.create("no-such", Settings.empty()));
    }

    @Test
    void badSettingsNameTheKey() {
        VariantAssert.assertRejects("no parameter causal", () -> TrainableRegistry.create("linear", Settings.of("causal=false")));
        VariantAssert.assertRejects("feature:", () -> TrainableRegistry.create("linear", Settings.of("feature=softmax")));
        VariantAssert.assertRejects("chunk:", () -> TrainableRegistry.create("lln", Settings.of("chunk=0")));
        VariantAssert.assertRejects("sigmaq:", () -> TrainableRegistry.create("lln", Settings.of("sigmaq=-1")));
        VariantAssert.assertRejects("topk:", () -> TrainableRegistry.create("moba", Settings.of("topk=0")));
        VariantAssert.assertRejects("rope-dim:", () -> TrainableRegistry.create("mla", Settings.of("rope-dim=3")));
        VariantAssert.assertRejects("scale:", () -> TrainableRegistry.create("cog", Settings.of("scale=-2")));
        VariantAssert.assertRejects("top-k:", () -> TrainableRegistry.create("moh", Settings.of("shared=1", "top-k=5")).parameters(4, 8, 16));
    }

    @Test
    void shapesThatDoNotSuitAreRejectedWhereTheyEnter() {
        var mla = TrainableRegistry.create("mla", Settings.empty());
        VariantAssert.assertRejects("v: mla", () -> mla.forward(org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 4), org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 4),
                org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 5), GradCheck.weightTensors((Float64Attention) mla,
                        new GradCheck.Problem((Float64Attention) mla, new Float64Attention.Dims(1, 2, 3, 4, 4), 1)), 1));
        var th = TrainableRegistry.create("talking-heads", Settings.empty());
        VariantAssert.assertRejects("weights: missing 'logit_mix'", () -> th.forward(org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 4),
                org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 4), org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 4), java.util.Map.of(), 1));
        VariantAssert.assertRejects("k: expected the shape of q", () -> TrainableRegistry.create("cog", Settings.empty()).forward(org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 4),
                org.attn4j.core.tensor.Tensor.zeros(1, 1, 3, 4), org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 4), java.util.Map.of(), 1));
        var lln = TrainableRegistry.create("lln", Settings.empty());
        float[] big = new float[24];
        big[0] = 500f;
        VariantAssert.assertRejects("k: lln needs", () -> lln.forward(org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 4),
                org.attn4j.core.tensor.Tensor.of(big, 1, 2, 3, 4), org.attn4j.core.tensor.Tensor.zeros(1, 2, 3, 4), java.util.Map.of(), 1));
    }
}
