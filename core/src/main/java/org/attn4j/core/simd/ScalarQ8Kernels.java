package org.attn4j.core.simd;

/** Plain loops: the definition {@link VectorQ8Kernels} is tested against. */
final class ScalarQ8Kernels implements Q8Kernels {
    static final ScalarQ8Kernels INSTANCE = new ScalarQ8Kernels();

    private ScalarQ8Kernels() {}

    @Override
    public void gemv(int rows, int n, byte[] q, int qOff, float[] d, int dOff, float[] x, int xOff, float[] y, int yOff) {
        int blocks = n / BLOCK;
        for (int r = 0; r < rows; r++) {
            float acc = 0;
            int qr = qOff + r * n, dr = dOff + r * blocks;
            for (int b = 0; b < blocks; b++) {
                float s = 0;
                for (int j = 0; j < BLOCK; j++) s += q[qr + b * BLOCK + j] * x[xOff + b * BLOCK + j];
                acc += d[dr + b] * s;
            }
            y[yOff + r] = acc;
        }
    }

    @Override
    public void gemmQ8(int t, int rows, int n, byte[] q, int qOff, float[] d, int dOff, short[] xq, float[] dx, float[] y, int yOff, int ldy) {
        int blocks = n / BLOCK;
        for (int r = 0; r < rows; r++) {
            int qr = qOff + r * n, dr = dOff + r * blocks;
            for (int i = 0; i < t; i++) {
                float acc = 0;
                for (int b = 0; b < blocks; b++) {
                    int s = 0, qb = qr + b * BLOCK, xb = i * n + b * BLOCK;
                    for (int j = 0; j < BLOCK; j++) s += q[qb + j] * xq[xb + j];
                    acc += d[dr + b] * dx[i * blocks + b] * s;
                }
                y[yOff + i * ldy + r] = acc;
            }
        }
    }

    @Override
    public void gemm(int t, int rows, int n, byte[] q, int qOff, float[] d, int dOff, float[] x, int xOff, float[] y, int yOff, int ldy) {
        int blocks = n / BLOCK;
        for (int r = 0; r < rows; r++) {
            int qr = qOff + r * n, dr = dOff + r * blocks;
            for (int i = 0; i < t; i++) {
                float acc = 0;
                for (int c = 0; c < n; c++) acc += d[dr + c / BLOCK] * q[qr + c] * x[xOff + i * n + c];
                y[yOff + i * ldy + r] = acc;
            }
        }
    }
}
