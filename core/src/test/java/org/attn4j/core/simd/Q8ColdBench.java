package org.attn4j.core.simd;

import java.util.Random;

/**
 * One-token Q8 products streaming from memory: {@code main()} makes 100 matrices of 2560 × 960 Q8_0
 * weights (276 MB with their scales, more than the caches), and times passes over all of them with
 * {@link Q8Kernels#gemmQ8} (quantised activations) and {@link Q8Kernels#gemv} (float activations), 16
 * rows per call as the decoder calls them; prints the weight bytes read per second, best of 12 passes.
 */
public class Q8ColdBench {
    public static void main(String[] a) {
        int rows = 2560, n = 960, copies = 100;
        Random rnd = new Random(1);
        byte[][] q = new byte[copies][rows * n];
        float[][] d = new float[copies][rows * n / 32];
        for (int c = 0; c < copies; c++) {
            rnd.nextBytes(q[c]);
            for (int i = 0; i < d[c].length; i++) d[c][i] = rnd.nextFloat() * 0.01f;
        }
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        short[] xq = new short[n];
        float[] dx = new float[n / 32], y = new float[rows];
        Q8Kernels k = Q8Kernels.get();
        Q8Kernels.quantizeActivations(x, 0, 1, n, xq, dx);
        long bestInt = Long.MAX_VALUE, bestFloat = Long.MAX_VALUE;
        for (int rep = 0; rep < 12; rep++) {
            long t0 = System.nanoTime();
            for (int c = 0; c < copies; c++) for (int r0 = 0; r0 < rows; r0 += 16) k.gemmQ8(1, 16, n, q[c], r0 * n, d[c], r0 * n / 32, xq, dx, y, r0, rows);
            long t1 = System.nanoTime();
            for (int c = 0; c < copies; c++) for (int r0 = 0; r0 < rows; r0 += 16) k.gemv(16, n, q[c], r0 * n, d[c], r0 * n / 32, x, 0, y, r0);
            long t2 = System.nanoTime();
            bestInt = Math.min(bestInt, t1 - t0);
            bestFloat = Math.min(bestFloat, t2 - t1);
        }
        double bytes = (double) copies * rows * n * (1 + 4.0 / 32);
        System.out.printf("pass over %.0f MB: gemmQ8 (int8) %.2f GB/s, gemv (float activations) %.2f GB/s (best of 12)%n", bytes / 1e6, bytes / bestInt, bytes / bestFloat);

        // Then three passes of a 26-token prompt through gemmQ8 and the one-token passes again: when
        // both shapes lived in one method, its recompilation after the prompt ran them at 1.9 GB/s.
        int t = 26;
        float[] xs = new float[t * n];
        for (int i = 0; i < xs.length; i++) xs[i] = (float) rnd.nextGaussian();
        short[] xsq = new short[t * n];
        float[] dxs = new float[t * n / 32], ys = new float[t * rows];
        Q8Kernels.quantizeActivations(xs, 0, t, n, xsq, dxs);
        for (int rep = 0; rep < 3; rep++) {
            for (int c = 0; c < copies; c++) for (int r0 = 0; r0 < rows; r0 += 16) k.gemmQ8(t, 16, n, q[c], r0 * n, d[c], r0 * n / 32, xsq, dxs, ys, r0, rows);
        }
        long after = Long.MAX_VALUE;
        for (int rep = 0; rep < 12; rep++) {
            long t0 = System.nanoTime();
            for (int c = 0; c < copies; c++) for (int r0 = 0; r0 < rows; r0 += 16) k.gemmQ8(1, 16, n, q[c], r0 * n, d[c], r0 * n / 32, xq, dx, y, r0, rows);
            after = Math.min(after, System.nanoTime() - t0);
        }
        System.out.printf("after %d-token passes: gemmQ8 (int8) one token %.2f GB/s (best of 12)%n", t, bytes / after);
    }
}
