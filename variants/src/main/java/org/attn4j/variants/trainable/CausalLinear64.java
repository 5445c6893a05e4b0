package org.attn4j.variants.trainable;

/**
 * The one product every causal linear attention is built from, in float64 and chunked:
 * {@code Y_i += Σ_{j ≤ i} (Q_i·K_j) V_j} (or {@code j ≥ i} with {@code reverse}). Within a chunk of C
 * rows the pairs are summed directly (C × C), across chunks through the running state
 * {@code S = Σ K_j V_jᵀ} (A × Cv), so time is O(N·(C + A)·Cv) and memory O(A·Cv), never N × N.
 *
 * <p>Arrays row-major: Q, K {@code N × A}, V and Y {@code N × Cv}.
 */
final class CausalLinear64 {
    private CausalLinear64() {}

    static void product(double[] qf, double[] kf, double[] v, int n, int a, int cv, int chunk, boolean reverse, double[] y) {
        double[] s = new double[a * cv];
        int chunks = (n + chunk - 1) / chunk;
        for (int step = 0; step < chunks; step++) {
            int ch = reverse ? chunks - 1 - step : step;
            int c0 = ch * chunk, c1 = Math.min(n, c0 + chunk);
            for (int i = c0; i < c1; i++) {
                // Inter-chunk: Q_i S.
                for (int x = 0; x < a; x++) {
                    double qx = qf[i * a + x];
                    if (qx != 0) Softmax64.axpy(qx, s, x * cv, y, i * cv, cv);
                }
                // Intra-chunk: the visible pairs of this chunk.
                int j0 = reverse ? i : c0, j1 = reverse ? c1 - 1 : i;
                for (int j = j0; j <= j1; j++) Softmax64.axpy(Softmax64.dot(qf, i * a, kf, j * a, a), v, j * cv, y, i * cv, cv);
            }
            for (int j = c0; j < c1; j++) {
                for (int x = 0; x < a; x++) {
                    double kx = kf[j * a + x];
                    if (kx != 0) Softmax64.axpy(kx, v, j * cv, s, x * cv, cv);
                }
            }
        }
    }
}
