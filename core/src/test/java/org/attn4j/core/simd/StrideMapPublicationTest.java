package org.attn4j.core.simd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The gather index maps of {@link VectorGather#unpackTransposed} are read by every thread of
 * the sparse kernel. A map filled lazily into a shared array is not safely published: another thread
 * may see the array reference before its contents (zeros on a weakly ordered CPU) and gather from
 * wrong offsets without any error. They must be complete when the class is initialised.
 */
class StrideMapPublicationTest {
    private static final int LANES = FloatVector.SPECIES_PREFERRED.length();

    @Test
    void everyStrideMapIsCompleteBeforeAnyCallNeedsIt() {
        // Read the table directly, as a thread that never went through a builder would.
        for (int ld = 0; ld < VectorGather.STRIDE_MAPS.length; ld++) {
            int[] map = VectorGather.STRIDE_MAPS[ld];
            assertNotNull(map, "stride map for ld=" + ld + " not built at class initialisation");
            int[] expect = new int[LANES];
            for (int l = 0; l < LANES; l++) expect[l] = l * ld;
            assertArrayEquals(expect, map, "ld=" + ld);
        }
        assertEquals(257, VectorGather.STRIDE_MAPS.length, "maps for every ld up to 256");
    }

    @Test
    void threadsUnpackingWithManyStridesAtOnceAgreeWithTheScalarTwin() throws Exception {
        int threads = 8;
        CyclicBarrier start = new CyclicBarrier(threads);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = 31L * t + 7;
                done.add(pool.submit(() -> {
                    start.await();
                    Random r = new Random(seed);
                    List<Integer> lds = new ArrayList<>();
                    for (int ld = 1; ld <= 256; ld++) lds.add(ld);
                    Collections.shuffle(lds, r);
                    for (int ld : lds) unpackAgreesWithScalar(ld, r);
                    return null;
                }));
            }
            for (Future<?> f : done) f.get();
        } finally {
            pool.shutdownNow();
        }
    }

    private static void unpackAgreesWithScalar(int ld, Random r) {
        int cols = Math.min(ld, 1 + r.nextInt(5)), rows = 2 * LANES + 1;
        float[] src = new float[rows * ld];
        for (int i = 0; i < src.length; i++) src[i] = (float) r.nextGaussian();
        float[] scale = new float[cols];
        for (int c = 0; c < cols; c++) scale[c] = 0.5f + c;
        int[] dstRow = new int[cols];
        for (int c = 0; c < cols; c++) dstRow[c] = c * rows;
        float[] got = new float[cols * rows], expect = new float[cols * rows];
        VectorMicroKernels.INSTANCE.unpackTransposed(rows, cols, src, 0, ld, scale, got, dstRow);
        MicroKernels.scalar().unpackTransposed(rows, cols, src, 0, ld, scale, expect, dstRow);
        assertArrayEquals(expect, got, "ld=" + ld);
    }
}
