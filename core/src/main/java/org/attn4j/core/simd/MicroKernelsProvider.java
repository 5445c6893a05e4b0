package org.attn4j.core.simd;

import java.lang.System.Logger.Level;

/** Chooses the micro-kernel implementation once, at class initialisation, and records why. */
final class MicroKernelsProvider {
    static final MicroKernels INSTANCE;
    static final String REASON;

    static {
        MicroKernels chosen = ScalarMicroKernels.INSTANCE;
        String reason;
        String forced = System.getProperty("attn4j.simd", "auto");
        if ("scalar".equalsIgnoreCase(forced)) {
            reason = "scalar: forced by -Dattn4j.simd=scalar";
        } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            reason = "scalar: the Vector API module is not loaded (run java with --add-modules jdk.incubator.vector)";
        } else {
            try {
                Class<?> c = Class.forName("org.attn4j.core.simd.VectorMicroKernels");
                MicroKernels vec = (MicroKernels) c.getDeclaredField("INSTANCE").get(null);
                int bits = (Integer) c.getDeclaredMethod("vectorBits").invoke(null);
                if (bits < 128) {
                    reason = "scalar: the preferred vector size is only " + bits + " bits";
                } else {
                    chosen = vec;
                    reason = vec.name() + ": Vector API available, preferred species " + bits + " bits";
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                reason = "scalar: the Vector API implementation failed to load (" + e + ")";
            }
        }
        INSTANCE = chosen;
        REASON = reason;
        System.getLogger("org.attn4j.core.simd").log(
                chosen == ScalarMicroKernels.INSTANCE && !reason.contains("forced") ? Level.WARNING : Level.DEBUG,
                "attn4j micro-kernels: " + reason);
    }

    private MicroKernelsProvider() {}
}
