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

    private static byte[] weights(Random rnd, int len) {
        byte[] q = new byte[len];
        for (int i = 0; i < len; i++) q[i] = (byte) (rnd.nextInt(256) - 128); // -128 included: a file may hold it
        return q;
    }

    @Test
    void gemmOverSeveralTokensMatchesDequantiseThenMultiply() {
        Random rnd = new Random(4);
        for (int[] s : new int[][] {{1, 1, 32}, {2, 3, 64}, {3, 5, 96}, {5, 7, 256}, {8, 16, 960}, {9, 2, 160}, {4, 1, 2560}}) {
            int t = s[0], rows = s[1], n = s[2], ldy = rows + 3;
            byte[] q = weights(rnd, 5 + rows * n);
            float[] d = new float[2 + rows * n / 32], x = new float[7 + t * n];
            for (int i = 0; i < d.length; i++) d[i] = (float) (rnd.nextDouble() * 0.02);
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            for (Q8Kernels k : new Q8Kernels[] {Q8Kernels.scalar(), Q8Kernels.get()}) {
                float[] y = new float[1 + t * ldy];
                k.gemm(t, rows, n, q, 5, d, 2, x, 7, y, 1, ldy);
                for (int i = 0; i < t; i++) {
                    double[] ref = reference(rows, n, q, 5, d, 2, x, 7 + i * n);
                    double scale = 0;
                    for (int c = 0; c < n; c++) scale += Math.abs(x[7 + i * n + c]) * 128 * 0.02;
                    for (int r = 0; r < rows; r++) assertEquals(ref[r], y[1 + i * ldy + r], 1e-6 * scale + 1e-6, k + " t=" + t + " rows=" + rows + " n=" + n);
                }
            }
        }
    }

    @Test
    void activationQuantisationFollowsLlamaCppAndItsBound() {
        // Hand-computed blocks. amax = 2.54: d = 0.02 rounded to f16 (0.0200043...), q = round(x·50).
        // amax = 127: d = 1, q = x rounded half to even (llama.cpp's x86 rounding), -63.5 -> -64, 62.5 -> 62.
        float[] x = new float[96];
        x[0] = 2.54f; x[1] = -1.2f; x[2] = 0.01f; x[3] = -0.03f; x[4] = 0.5f;
        x[64] = 127f; x[65] = -63.5f; x[66] = 62.5f; x[67] = 0.49f; x[68] = -0.5f;
        short[] xq = new short[96];
        float[] dx = new float[3];
        Q8Kernels.quantizeActivations(x, 0, 1, 96, xq, dx);
        assertEquals(0.0200042724609375f, dx[0]);
        assertEquals(127, xq[0]); assertEquals(-60, xq[1]); assertEquals(0, xq[2]); assertEquals(-2, xq[3]); assertEquals(25, xq[4]);
        assertEquals(1f, dx[2]);
        assertEquals(127, xq[64]); assertEquals(-64, xq[65]); assertEquals(62, xq[66]); assertEquals(0, xq[67]); assertEquals(0, xq[68]);
        assertEquals(0f, dx[1]); // an all-zero block
        for (int j = 32; j < 64; j++) assertEquals(0, xq[j]);
        assertEquals(Float.float16ToFloat(Float.floatToFloat16(0.02f)), dx[0]);

        Random rnd = new Random(8);
        int t = 3, n = 960;
        float[] v = new float[2 + t * n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian()));
        short[] vq = new short[t * n];
        float[] vd = new float[t * n / 32];
        Q8Kernels.quantizeActivations(v, 2, t, n, vq, vd);
        for (int b = 0; b < t * n / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(v[2 + 32 * b + j]));
            for (int j = 0; j < 32; j++) {
                assertTrue(Math.abs(vq[32 * b + j]) <= 127);
                double err = Math.abs(v[2 + 32 * b + j] - (double) vd[b] * vq[32 * b + j]);
                assertTrue(err <= (0.5 + 127 * 0x1p-11) * amax / 127 * (1 + 1e-6), "block " + b + " error " + err);
            }
        }
    }

    @Test
    void int8IntegerSumsAreExactAndEqualInBothImplementations() {
        // Unit scales make every block sum, and their float sum, an exact integer (|total| < 2^24):
        // both implementations must then give the same bits, equal to a long-integer reference.
        Random rnd = new Random(11);
        for (int[] s : new int[][] {{1, 1, 32}, {1, 5, 96}, {2, 3, 64}, {4, 7, 256}, {5, 4, 160}, {8, 9, 512}, {3, 2, 1024}}) {
            int t = s[0], rows = s[1], n = s[2], ldy = rows + 1;
            byte[] q = weights(rnd, 3 + rows * n);
            float[] d = new float[1 + rows * n / 32], dx = new float[t * n / 32];
            java.util.Arrays.fill(d, 1f);
            java.util.Arrays.fill(dx, 1f);
            short[] xq = new short[t * n];
            for (int i = 0; i < xq.length; i++) xq[i] = (short) (rnd.nextInt(255) - 127);
            // Extremes: -128 weights against ±127 quanta (the largest products, a pair still fits 16 bits).
            for (int j = 0; j < 32; j++) { q[3 + j] = -128; xq[j] = (short) (j % 2 == 0 ? -127 : 127); }
            float[] ys = new float[t * ldy], yv = new float[t * ldy];
            Q8Kernels.scalar().gemmQ8(t, rows, n, q, 3, d, 1, xq, dx, ys, 0, ldy);
            Q8Kernels.get().gemmQ8(t, rows, n, q, 3, d, 1, xq, dx, yv, 0, ldy);
            assertEquals(0, java.util.Arrays.compare(ys, yv), "t=" + t + " rows=" + rows + " n=" + n);
            for (int i = 0; i < t; i++) for (int r = 0; r < rows; r++) {
                long e = 0;
                for (int c = 0; c < n; c++) e += (long) q[3 + r * n + c] * xq[i * n + c];
                assertEquals((float) e, yv[i * ldy + r], "t=" + t + " rows=" + rows + " n=" + n);
            }
        }
    }

    @Test
    void int8ProductsMatchFloatActivationsWithinTheQuantisationBound() {
        // y_q − y = Σ_b Σ_j w_bj·(x̂_bj − x_bj), |x̂ − x| <= (1/2 + 127·2^-11)·amax_b/127, so
        // |y_q − y| <= Σ_b (1/2 + 127·2^-11)·amax_b/127 · Σ_j |w_bj|  (plus float rounding).
        Random rnd = new Random(12);
        for (int[] s : new int[][] {{1, 3, 32}, {1, 7, 96}, {2, 5, 160}, {5, 4, 256}, {8, 6, 960}}) {
            int t = s[0], rows = s[1], n = s[2], blocks = n / 32;
            byte[] q = weights(rnd, rows * n);
            float[] d = new float[rows * blocks], x = new float[t * n];
            for (int i = 0; i < d.length; i++) d[i] = (float) (rnd.nextDouble() * 0.02);
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * (1 + 10 * rnd.nextDouble()));
            short[] xq = new short[t * n];
            float[] dx = new float[t * blocks];
            Q8Kernels.quantizeActivations(x, 0, t, n, xq, dx);
            for (Q8Kernels k : new Q8Kernels[] {Q8Kernels.scalar(), Q8Kernels.get()}) {
                float[] y = new float[t * rows];
                k.gemmQ8(t, rows, n, q, 0, d, 0, xq, dx, y, 0, rows);
                for (int i = 0; i < t; i++) {
                    double[] exact = reference(rows, n, q, 0, d, 0, x, i * n);
                    for (int r = 0; r < rows; r++) {
                        double bound = 0, quantised = 0, mag = 0;
                        for (int b = 0; b < blocks; b++) {
                            double amax = 0, wsum = 0;
                            for (int j = 0; j < 32; j++) {
                                amax = Math.max(amax, Math.abs(x[i * n + 32 * b + j]));
                                double w = (double) d[r * blocks + b] * q[r * n + 32 * b + j];
                                wsum += Math.abs(w);
                                quantised += w * ((double) dx[i * blocks + b] * xq[i * n + 32 * b + j]);
                                mag += Math.abs(w * x[i * n + 32 * b + j]);
                            }
                            bound += (0.5 + 127 * 0x1p-11) * amax / 127 * wsum;
                        }
                        float got = y[i * rows + r];
                        // Against float64 dequantise-then-multiply of the same quanta: float rounding only.
                        assertEquals(quantised, got, 1e-6 * mag + 1e-6, k + " quantised reference");
                        // Against float activations: within the derived bound, and the bound is not vacuous.
                        assertTrue(Math.abs(got - exact[r]) <= bound + 1e-6 * mag + 1e-6, k + " t=" + t + " rows=" + rows + " n=" + n + ": " + Math.abs(got - exact[r]) + " > " + bound);
                        assertTrue(bound < 0.1 * mag, "bound " + bound + " against magnitude " + mag);
                    }
                }
            }
        }
    }

    @Test
    void vectorIsChosenWithVectorMicroKernels() {
        assertEquals(MicroKernels.get().name().startsWith("scalar"), Q8Kernels.get() == Q8Kernels.scalar());
    }
}
