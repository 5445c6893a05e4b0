package org.attn4j.core.simd;

/** Picks the Q8 implementation once: the vector one exactly when the micro-kernels are vectorised. */
final class Q8KernelsProvider {
    static final Q8Kernels INSTANCE;

    static {
        Q8Kernels chosen = ScalarQ8Kernels.INSTANCE;
        if (!MicroKernels.get().name().startsWith("scalar")) {
            try {
                Class<?> c = Class.forName("org.attn4j.core.simd.VectorQ8Kernels");
                if ((Boolean) c.getDeclaredMethod("usable").invoke(null)) chosen = (Q8Kernels) c.getDeclaredField("INSTANCE").get(null);
            } catch (ReflectiveOperationException | LinkageError e) {
                chosen = ScalarQ8Kernels.INSTANCE;
            }
        }
        INSTANCE = chosen;
    }

    private Q8KernelsProvider() {}
}
