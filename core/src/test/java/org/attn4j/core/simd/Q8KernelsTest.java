package org.attn4j.core.simd;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class Q8KernelsTest {

    /** float64 dequantise-then-multiply: the definition both implementations must meet. */
    private static double[] reference(int rows, int n, byte[] q, int qOff, float[] d, int dOff, float[] x, int xOff) {
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < n; c++) y[r] += (double) d[dOff + (r * n + c) / 32] * q[qOff + r * n + c] * x[xOff + c];
        }
        return y;
    }

    @Test
    void bothImplementationsMatchDequantiseThenMultiply() {
        Random rnd = new Random(3);
        for (int[] shape : new int[][] {{1, 32}, {2, 64}, {3, 96}, {7, 256}, {16, 960}, {5, 2560}}) {
            int rows = shape[0], n = shape[1];
            byte[] q = new byte[5 + rows * n];
            float[] d = new float[2 + rows * n / 32], x = new float[3 + n];
            for (int i = 0; i < q.length; i++) q[i] = (byte) (rnd.nextInt(255) - 127);
            for (int i = 0; i < d.length; i++) d[i] = (float) (rnd.nextDouble() * 0.02);
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            double[] ref = reference(rows, n, q, 5, d, 2, x, 3);
            double scale = 0;
            for (int c = 0; c < n; c++) scale += Math.abs(x[3 + c]) * 127 * 0.02;
            for (Q8Kernels k : new Q8Kernels[] {Q8Kernels.scalar(), Q8Kernels.get()}) {
                float[] y = new float[1 + rows];
                k.gemv(rows, n, q, 5, d, 2, x, 3, y, 1);
                for (int r = 0; r < rows; r++) {
                    // float32 sums of n terms: error bounded by ~n·eps·Σ|terms|.
                    assertEquals(ref[r], y[1 + r], 1e-6 * scale + 1e-6, k + " rows=" + rows + " n=" + n + " row " + r);
                }
            }
        }
    }

    @Test
    void vectorIsChosenWithVectorMicroKernels() {
        assertEquals(MicroKernels.get().name().startsWith("scalar"), Q8Kernels.get() == Q8Kernels.scalar());
    }
}
