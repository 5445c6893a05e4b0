package org.attn4j.variants.trainable;

/** Row-major float64 matrix products for the projection layers of the trainable variants. */
final class Dense64 {
    private Dense64() {}

    /** C[n×p] += A[n×m] · B[m×p]. */
    static void mul(double[] a, double[] b, double[] c, int n, int m, int p) {
        for (int i = 0; i < n; i++) {
            for (int x = 0; x < m; x++) {
                double s = a[i * m + x];
                if (s != 0) Softmax64.axpy(s, b, x * p, c, i * p, p);
            }
        }
    }

    /** C[m×p] += Aᵀ · B for A[n×m], B[n×p] (weight gradients). */
    static void mulTransA(double[] a, double[] b, double[] c, int n, int m, int p) {
        for (int i = 0; i < n; i++) {
            for (int x = 0; x < m; x++) {
                double s = a[i * m + x];
                if (s != 0) Softmax64.axpy(s, b, i * p, c, x * p, p);
            }
        }
    }

    /** C[n×m] += A · Bᵀ for A[n×p], B[m×p] (input gradients). */
    static void mulTransB(double[] a, double[] b, double[] c, int n, int m, int p) {
        for (int i = 0; i < n; i++) for (int x = 0; x < m; x++) c[i * m + x] += Softmax64.dot(a, i * p, b, x * p, p);
    }
}
