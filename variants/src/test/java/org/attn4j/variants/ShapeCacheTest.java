package org.attn4j.variants;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.attn4j.variants.ShapeCache.Shape;
import org.junit.jupiter.api.Test;

class ShapeCacheTest {

    @Test
    void keepsTheMostRecentlyUsedShapesAndDrawsEvictedOnesAgain() {
        ShapeCache<int[]> cache = new ShapeCache<>(2);
        AtomicInteger draws = new AtomicInteger();
        java.util.function.Function<Shape, int[]> draw = s -> {
            draws.incrementAndGet();
            return s.dims();
        };
        int[] a = cache.get(Shape.of(1, 2), draw);
        cache.get(Shape.of(3, 4), draw);
        assertSame(a, cache.get(Shape.of(1, 2), draw), "equal dims are the same key");
        cache.get(Shape.of(5, 6), draw); // evicts (3, 4), the least recently used
        assertEquals(2, cache.size());
        assertEquals(3, draws.get());
        assertSame(a, cache.get(Shape.of(1, 2), draw));
        assertEquals(3, draws.get());
        cache.get(Shape.of(3, 4), draw);
        assertEquals(4, draws.get(), "an evicted shape is drawn again");
        assertEquals(2, cache.size());
    }

    @Test
    void capacityZeroKeepsNothing() {
        ShapeCache<Object> cache = new ShapeCache<>(0);
        Object first = cache.get(Shape.of(1), s -> new Object());
        assertTrue(first != cache.get(Shape.of(1), s -> new Object()));
        assertEquals(0, cache.size());
    }

    @Test
    void badCapacityAndNullParametersAreRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ShapeCache<>(-1));
        assertTrue(e.getMessage().startsWith("capacity:"), e.getMessage());
        assertThrows(NullPointerException.class, () -> new ShapeCache<>().get(Shape.of(1), s -> null));
    }

    @Test
    void shapeCopiesItsDimensions() {
        int[] dims = {2, 3};
        Shape s = Shape.of(dims);
        dims[0] = 9;
        assertEquals(Shape.of(2, 3), s);
        assertEquals(Shape.of(2, 3).hashCode(), s.hashCode());
    }

    @Test
    void threadsAskingForOneShapeAtOnceDrawItOnce() throws Exception {
        ShapeCache<Object> cache = new ShapeCache<>(4);
        AtomicInteger draws = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<Object>> got = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                got.add(pool.submit(() -> {
                    go.await();
                    return cache.get(Shape.of(7), s -> {
                        draws.incrementAndGet();
                        try {
                            Thread.sleep(50);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                        return new Object();
                    });
                }));
            }
            go.countDown();
            Object first = got.get(0).get();
            for (Future<Object> f : got) assertSame(first, f.get());
            assertEquals(1, draws.get());
        } finally {
            pool.shutdownNow();
        }
    }
}
