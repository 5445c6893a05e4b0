package org.attn4j.spark.embed;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.attn4j.models.embed.Embedder;

/**
 * The models of this JVM, loaded on first use and shared by all tasks the JVM runs. Closures carry
 * only the model's name; each executor loads the weights once, from its own class path or disk.
 */
public final class ExecutorModels {
    private static final ConcurrentHashMap<String, Embedder> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ExecutorModels() {}

    /** The embedder named {@code nameOrPath} (see {@link Embedder#load}), loading it if this JVM has not yet. */
    public static Embedder embedder(String nameOrPath) {
        return MODELS.computeIfAbsent(nameOrPath, n -> {
            try {
                LOADS.incrementAndGet();
                return Embedder.load(n);
            } catch (IOException e) {
                throw new UncheckedIOException("model: cannot load '" + n + "' on this executor", e);
            }
        });
    }

    /** How many models this JVM has loaded so far (for tests and diagnostics). */
    public static int loads() { return LOADS.get(); }
}
