package org.attn4j.variants;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * A long-lived variant instance (a server, a Spark executor) that sees many input shapes must not
 * keep parameters for every one of them: each registered variant (and the settings that draw more) runs on 2 × 12 different shapes,
 * then no map or {@link ShapeCache} it holds may keep more than {@link ShapeCache#DEFAULT_CAPACITY}
 * entries.
 */
class BoundedParameterCachesTest {
    private static final int SHAPES = 12;

    @TestFactory
    Iterable<DynamicTest> noVariantKeepsParametersForEveryShapeItSaw() {
        List<DynamicTest> tests = new ArrayList<>();
        List<String[]> cases = new ArrayList<>();
        for (VariantFactory f : VariantRegistry.all()) cases.add(new String[] {f.info().name()});
        // settings that draw more than the defaults do
        cases.add(new String[] {"flashbias", "bias=dense-svd"});
        cases.add(new String[] {"mla", "absorb=true"});
        for (String[] named : cases) {
            VariantFactory f = VariantRegistry.get(named[0]);
            String label = String.join(" ", named);
            tests.add(DynamicTest.dynamicTest(label, () -> {
                Variant variant = f.create(Settings.of(java.util.Arrays.copyOfRange(named, 1, named.length)), 3);
                SplittableRandom r = new SplittableRandom(5);
                int ran = 0;
                for (int i = 1; i <= SHAPES; i++) {
                    ran += tryRun(variant, r, 2, 2 * i);      // head dim D = 2, 4, …, 24
                    ran += tryRun(variant, r, 2 * i, 8);      // heads H = 2, 4, …, 24
                }
                assertTrue(ran > ShapeCache.DEFAULT_CAPACITY, label + " ran on only " + ran + " shapes");
                for (Class<?> c = variant.getClass(); c != Object.class; c = c.getSuperclass()) {
                    for (Field field : c.getDeclaredFields()) {
                        if (Modifier.isStatic(field.getModifiers())) continue;
                        int size = sizeOf(field, variant);
                        assertTrue(size <= ShapeCache.DEFAULT_CAPACITY, label + ": " + c.getSimpleName() + "." + field.getName()
                                + " keeps " + size + " entries after " + ran + " shapes");
                    }
                }
            }));
        }
        return tests;
    }

    private static int tryRun(Variant variant, SplittableRandom r, int heads, int d) {
        Tensor q = VariantAssert.random(r, 1, heads, 64, d);
        Tensor k = VariantAssert.random(r, 1, heads, 64, d);
        Tensor v = VariantAssert.random(r, 1, heads, 64, d);
        try {
            variant.run(q, k, v, 1);
            return 1;
        } catch (IllegalArgumentException shapeNotSupported) {
            return 0;
        }
    }

    private static int sizeOf(Field field, Object owner) throws IllegalAccessException {
        if (!Map.class.isAssignableFrom(field.getType()) && field.getType() != ShapeCache.class) return 0;
        field.setAccessible(true);
        Object value = field.get(owner);
        if (value instanceof Map<?, ?> m) return m.size();
        if (value instanceof ShapeCache<?> s) return s.size();
        return 0;
    }
}
