package org.attn4j.variants;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Contract checks every registered variant must pass with its default settings. */
class VariantRegistryTest {

    @Test
    void settingsRejectUnknownKeysAndBadValues() {
        Settings s = Settings.of("kernel=7", "kernal=3");
        assertEquals(7, s.integer("kernel", 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.finish("neighborhood-1d"));
        assertTrue(e.getMessage().contains("kernal"), e.getMessage());
        VariantAssert.assertRejects("kernel", () -> Settings.of("kernel=seven").integer("kernel", 1));
        VariantAssert.assertRejects("kernel", () -> Settings.of("kernel").integer("kernel", 1));
        assertArrayEquals(new int[] {7, 7}, Settings.of("kernel=7").integers("kernel", 2, null));
        assertArrayEquals(new int[] {64, 32}, Settings.of("grid=64x32").integers("grid", 2, null));
        VariantAssert.assertRejects("grid", () -> Settings.of("grid=4x4x4").integers("grid", 2, null));
    }

    @Test
    void unknownNameListsTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VariantRegistry.get("no-such-variant"));
        assertTrue(e.getMessage().contains("no-such-variant"), e.getMessage());
    }

    @Test
    void initIsDeterministicAndNamed() {
        assertArrayEquals(Init.normal(5, "w", 9, 1), Init.normal(5, "w", 9, 1));
        assertTrue(Init.normal(5, "w", 9, 1)[0] != Init.normal(5, "u", 9, 1)[0]);
        assertTrue(Init.normal(5, "w", 9, 1)[0] != Init.normal(6, "w", 9, 1)[0]);
    }

    /**
     * Every variant with default settings runs on B=1, H=2, N=64 (an 8×8 or 4×4×4 grid), D=16,
     * keeps the shape, gives finite numbers, and is deterministic for a fixed seed.
     */
    @TestFactory
    Iterable<DynamicTest> everyVariantRunsWithDefaults() {
        java.util.List<DynamicTest> tests = new java.util.ArrayList<>();
        for (VariantFactory f : VariantRegistry.all()) {
            tests.add(DynamicTest.dynamicTest(f.info().name(), () -> {
                SplittableRandom r = new SplittableRandom(11);
                Tensor q = VariantAssert.random(r, 1, 2, 64, 16);
                Tensor k = VariantAssert.random(r, 1, 2, 64, 16);
                Tensor v = VariantAssert.random(r, 1, 2, 64, 16);
                VariantResult a = f.create(Settings.empty(), 3).run(q, k, v, 1);
                VariantResult b = f.create(Settings.empty(), 3).run(q, k, v, 2);
                assertArrayEquals(new int[] {1, 2, 64, 16}, a.output().shape(), f.info().name());
                for (float x : a.output().toArray()) assertTrue(Float.isFinite(x), f.info().name() + " gave " + x);
                assertArrayEquals(a.output().toArray(), b.output().toArray(), 1e-5f, f.info().name() + ": seed 3 at 1 and 2 threads");
                assertTrue(a.flops() > 0, f.info().name() + ": flops must be counted");
                IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                        () -> f.create(Settings.empty(), 3).run(q, k, v, -1), f.info().name() + " accepted threads = -1");
                assertTrue(bad.getMessage().contains("threads"), f.info().name() + ": " + bad.getMessage());
            }));
        }
        return tests;
    }

    /**
     * The variants that cannot be made causal, each with the reason; every other variant is causal
     * with {@code causal=true} (or always). A new variant has to be put on one side or the other.
     */
    static final java.util.Map<String, String> NEVER_CAUSAL = java.util.Map.of(
            "halo", "2-D blocks with a halo on every side",
            "cswin", "horizontal and vertical stripes of a 2-D grid",
            "luong-global", "attends over the whole source sequence",
            "luong-local-m", "a window centred on the aligned position",
            "luong-local-p", "a window centred on a predicted position",
            "efficient-attention", "softmax over the keys' sequence axis (global context)",
            "flare", "latent queries gather every token");

    /**
     * Every variant, explicitly: one that takes {@code causal=true} must say so through
     * {@link Variant#causal()} (the benchmark compares it against causal exact attention); every
     * variant that says it is causal must leak nothing from the future (changing token 11 of q, k and
     * v leaves outputs 0..10 unchanged, and changes something); every variant in {@link #NEVER_CAUSAL}
     * says it is not causal and does read the future (so saying so is not an under-claim).
     */
    @TestFactory
    Iterable<DynamicTest> causalityIsCheckedForEveryVariant() {
        java.util.List<DynamicTest> tests = new java.util.ArrayList<>();
        java.util.Set<String> names = new java.util.HashSet<>();
        for (VariantFactory f : VariantRegistry.all()) names.add(f.info().name());
        assertTrue(names.containsAll(NEVER_CAUSAL.keySet()), "unknown names in NEVER_CAUSAL: " + NEVER_CAUSAL.keySet());
        for (VariantFactory f : VariantRegistry.all()) {
            String name = f.info().name();
            boolean takesCausal = f.params().stream().anyMatch(p -> p.startsWith("causal="));
            tests.add(DynamicTest.dynamicTest(name, () -> {
                Variant v = f.create(takesCausal ? Settings.of("causal=true") : Settings.empty(), 5);
                if (takesCausal) assertTrue(v.causal(), name + " takes causal=true but causal() is false");
                boolean neverCausal = NEVER_CAUSAL.containsKey(name);
                assertEquals(!neverCausal, v.causal(), name + (neverCausal ? " is listed as never causal (" + NEVER_CAUSAL.get(name) + ") but says it is"
                        : " is neither causal (with causal=true or always) nor listed in NEVER_CAUSAL with a reason"));
                SplittableRandom r = new SplittableRandom(17);
                Tensor q = VariantAssert.random(r, 1, 2, 64, 16), k = VariantAssert.random(r, 1, 2, 64, 16), vv = VariantAssert.random(r, 1, 2, 64, 16);
                float[] before = v.run(q, k, vv, 1).output().toArray();
                for (Tensor t : new Tensor[] {q, k, vv}) {
                    for (int h = 0; h < 2; h++) for (int x = 0; x < 16; x++) t.set(t.get(0, h, 11, x) + 3f, 0, h, 11, x);
                }
                float[] after = v.run(q, k, vv, 1).output().toArray();
                double pastChange = 0;
                for (int h = 0; h < 2; h++) {
                    for (int i = 0; i < 11; i++) {
                        for (int x = 0; x < 16; x++) {
                            int at = (h * 64 + i) * 16 + x;
                            pastChange = Math.max(pastChange, Math.abs(before[at] - after[at]));
                        }
                    }
                }
                if (neverCausal) {
                    assertTrue(pastChange > 1e-4, name + ": outputs 0..10 ignore token 11 (max change " + pastChange + "), so it could say it is causal");
                } else {
                    assertTrue(pastChange <= 1e-5, name + ": an output before token 11 changed by " + pastChange + " when token 11 changed");
                    boolean changed = false;
                    for (int i = 0; i < before.length; i++) changed |= before[i] != after[i];
                    assertTrue(changed, name + ": changing token 11 changed nothing at all (the test would be vacuous)");
                }
            }));
        }
        return tests;
    }
}
