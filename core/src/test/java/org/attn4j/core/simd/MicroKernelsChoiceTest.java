package org.attn4j.core.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The extra surefire runs of the kernel tests (core/pom.xml) exist to exercise another micro-kernel
 * implementation; this fails such a run when the JVM picked a different one, so it cannot pass
 * while testing the default path again.
 */
class MicroKernelsChoiceTest {

    @Test
    void theImplementationThisRunAskedForIsTheOneInUse() {
        String expected = System.getProperty("attn4j.test.expectMicroKernels");
        if (expected == null) return; // the default run: any implementation
        assertEquals(expected, MicroKernels.get().name(), MicroKernels.reason());
    }
}
