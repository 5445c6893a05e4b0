package org.attn4j.variants;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The parameters a seeded variant draws for an input shape (projections, tables, factorisations),
 * kept for the few most recently used shapes. One instance per variant instance; every variant
 * that draws parameters per shape uses this class, so a server or executor that sees many shapes
 * holds at most {@link #capacity()} sets of parameters per variant, never one per shape seen.
 *
 * <p>Why a cache at all: drawing is deterministic in (seed, shape), so an evicted entry is drawn
 * again identically, but for some variants drawing costs far more than a run (measured at
 * B=1, H=8, N=256, D=64, one thread: FlashBias's truncated SVD of a dense bias 210 ms against a
 * 1.7 ms run, Mega's EMA and projection weights 40–50 ms against 16 ms, MLA 16–26 ms, relative
 * position tables, CHELA and Luong 30–50 % of a run; the rest under 10 %).
 *
 * <p>The capacity is {@value #DEFAULT_CAPACITY} shapes, or the system property
 * {@code attn4j.variants.cachedShapes} read when this class initialises (0 turns caching off).
 * Each shape's parameters are drawn once even when threads ask for it at the same time; different
 * shapes draw in parallel. Thread-safe.
 *
 * @param <V> the parameters of one shape
 */
public final class ShapeCache<V> {
    /** Shapes kept per variant instance unless {@code attn4j.variants.cachedShapes} says otherwise. */
    public static final int DEFAULT_CAPACITY = 8;

    private static final int CAPACITY = capacityFromProperty();

    /** The dimensions the drawn parameters depend on, compared by value. */
    public record Shape(int[] dims) {
        public Shape {
            dims = dims.clone();
        }

        public static Shape of(int... dims) { return new Shape(dims); }

        @Override
        public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }

        @Override
        public int hashCode() { return Arrays.hashCode(dims); }

        @Override
        public String toString() { return Arrays.toString(dims); }
    }

    /** Holds one shape's value; drawing happens under this entry's lock, not the cache's. */
    private static final class Slot<V> {
        private V value;

        synchronized V get(Shape key, Function<Shape, ? extends V> draw) {
            if (value == null) value = java.util.Objects.requireNonNull(draw.apply(key), "drawn parameters");
            return value;
        }
    }

    private final int capacity;
    private final LinkedHashMap<Shape, Slot<V>> entries;

    /** A cache of {@link #DEFAULT_CAPACITY} shapes, or as many as {@code attn4j.variants.cachedShapes} says. */
    public ShapeCache() {
        this(CAPACITY);
    }

    /** A cache of at most {@code capacity} shapes (0: nothing is kept, every call draws). */
    public ShapeCache(int capacity) {
        if (capacity < 0) throw new IllegalArgumentException("capacity: expected >= 0, got " + capacity);
        this.capacity = capacity;
        this.entries = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Shape, Slot<V>> eldest) {
                return size() > ShapeCache.this.capacity;
            }
        };
    }

    /** The parameters for {@code shape}: the kept ones, or {@code draw(shape)}, kept as the most recent. */
    public V get(Shape shape, Function<Shape, ? extends V> draw) {
        Slot<V> e;
        synchronized (entries) {
            e = entries.get(shape);
            if (e == null) {
                e = new Slot<>();
                entries.put(shape, e);
            }
        }
        return e.get(shape, draw);
    }

    /** Shapes kept now (at most {@link #capacity()}). */
    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    /** The most shapes this cache keeps. */
    public int capacity() { return capacity; }

    private static int capacityFromProperty() {
        String p = System.getProperty("attn4j.variants.cachedShapes");
        if (p == null) return DEFAULT_CAPACITY;
        try {
            int c = Integer.parseInt(p.trim());
            if (c >= 0) return c;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("attn4j.variants.cachedShapes: expected an integer >= 0, got '" + p + "'");
    }
}
