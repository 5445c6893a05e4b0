package org.attn4j.core.simd;

/** Plain-Java twin of {@link VectorMicroKernels}: same contracts, no SIMD. */
final class ScalarMicroKernels implements MicroKernels {
    static final ScalarMicroKernels INSTANCE = new ScalarMicroKernels();

    private ScalarMicroKernels() {}

    @Override
    public String name() { return "scalar"; }

    @Override
    public void gemm(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                     float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, boolean accumulate) {
        for (int i = 0; i < m; i++) {
            int ci = cOff + i * ldc;
            if (!accumulate) java.util.Arrays.fill(c, ci, ci + n, 0f);
            for (int p = 0; p < k; p++) {
                float av = a[aOff + i * aRs + p * aCs];
                int bp = bOff + p * ldb;
                for (int j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
            }
        }
    }

    @Override
    public void gemmColumnMax(int m, int n, int k, float[] a, int aOff, int aRs, int aCs,
                              float[] b, int bOff, int ldb, float[] c, int cOff, int ldc, float[] colMax) {
        gemm(m, n, k, a, aOff, aRs, aCs, b, bOff, ldb, c, cOff, ldc, false);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) colMax[j] = Math.max(colMax[j], c[cOff + i * ldc + j]);
        }
    }

    @Override
    public void gemmTransB(int m, int n, int k, float[] a, int aOff, int lda,
                           float[] b, int bOff, int ldb, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                c[cOff + i * ldc + j] = dot(a, aOff + i * lda, b, bOff + j * ldb, k);
            }
        }
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    @Override
    public void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    @Override
    public void gelu(float[] x, int off, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[off + i];
            x[off + i] = (float) (0.5 * v * (1 + Erf.erf(v * Erf.INV_SQRT2)));
        }
    }

    @Override
    public void addLayerNorm(float[] x, int off, float[] r, int rOff, int n, float[] gamma, float[] beta, float eps) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            if (r != null) x[off + i] += r[rOff + i];
            sum += x[off + i];
        }
        double mean = sum / n, var = 0;
        for (int i = 0; i < n; i++) {
            double d = x[off + i] - mean;
            var += d * d;
        }
        float inv = (float) (1.0 / Math.sqrt(var / n + eps)), m = (float) mean;
        for (int i = 0; i < n; i++) x[off + i] = (x[off + i] - m) * inv * gamma[i] + beta[i];
    }

    @Override
    public void scale(float[] x, int off, int n, float alpha) {
        for (int i = 0; i < n; i++) x[off + i] *= alpha;
    }

    @Override
    public void softcap(float[] x, int off, int n, float cap) {
        for (int i = 0; i < n; i++) x[off + i] = (float) (cap * Math.tanh(x[off + i] / cap));
    }

    @Override
    public void columnMax(float[] s, int off, int rows, int cols, int ld, float[] out) {
        for (int c = 0; c < cols; c++) out[c] = Float.NEGATIVE_INFINITY;
        for (int r = 0; r < rows; r++) {
            int p = off + r * ld;
            for (int c = 0; c < cols; c++) out[c] = Math.max(out[c], s[p + c]);
        }
    }

    @Override
    public void maskBand(float[] s, int off, int rows, int cols, int ld, int j0, int[] lo, int[] hi) {
        for (int r = 0; r < rows; r++) {
            int j = j0 + r, p = off + r * ld;
            for (int c = 0; c < cols; c++) if (j < lo[c] || j >= hi[c]) s[p + c] = Float.NEGATIVE_INFINITY;
        }
    }

    @Override
    public void expColumns(float[] s, int off, int rows, int cols, int ld, float[] shift, float[] sums) {
        for (int c = 0; c < cols; c++) sums[c] = 0f;
        for (int r = 0; r < rows; r++) {
            int p = off + r * ld;
            for (int c = 0; c < cols; c++) {
                float e = (float) Math.exp(s[p + c] - shift[c]);
                s[p + c] = e;
                sums[c] += e;
            }
        }
    }

    @Override
    public void softmaxBackwardColumns(float[] p, float[] dp, int off, int rows, int cols, int ld, float[] rowDot, int rdOff) {
        for (int r = 0; r < rows; r++) {
            int q = off + r * ld;
            for (int c = 0; c < cols; c++) dp[q + c] = p[q + c] * (dp[q + c] - rowDot[rdOff + c]);
        }
    }

    @Override
    public void gemmRowGather(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc) {
        for (int i = 0; i < m; i++) {
            int ci = i * ldc, ai = aRow[i];
            java.util.Arrays.fill(c, ci, ci + n, 0f);
            for (int p = 0; p < k; p++) {
                float av = a[ai + p];
                int bp = p * ldb;
                for (int j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
            }
        }
    }

    @Override
    public void gemmColumnGatherAcc(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc, float[] colScale) {
        for (int i = 0; i < m; i++) {
            int ci = i * ldc;
            if (colScale != null) for (int j = 0; j < n; j++) c[ci + j] *= colScale[j];
            for (int p = 0; p < k; p++) {
                float av = a[aRow[p] + i];
                int bp = p * ldb;
                for (int j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
            }
        }
    }

    @Override
    public void packTransposed(int rows, int cols, float[] src, int[] srcRow, float alpha, float[] dst, int dstOff, int ld) {
        for (int c = 0; c < cols; c++) {
            for (int x = 0; x < rows; x++) dst[dstOff + x * ld + c] = alpha * src[srcRow[c] + x];
        }
    }

    @Override
    public void unpackTransposed(int rows, int cols, float[] src, int srcOff, int ld, float[] colScale, float[] dst, int[] dstRow) {
        for (int c = 0; c < cols; c++) {
            for (int x = 0; x < rows; x++) dst[dstRow[c] + x] = src[srcOff + x * ld + c] * colScale[c];
        }
    }

    @Override
    public void shiftedScores(int d, int n, int shifts, float[] q, int q0, int q1, float[] k, int k0, int ld,
                              float[] s, int s0, int s1, int sLd) {
        for (int r = 0; r < (q1 >= 0 ? 2 : 1); r++) {
            int qr = r == 0 ? q0 : q1, sr = r == 0 ? s0 : s1;
            for (int j = 0; j < shifts; j++) {
                for (int i = 0; i < n; i++) {
                    float acc = 0f;
                    for (int x = 0; x < d; x++) acc += q[qr + x * ld + i] * k[k0 + j + x * ld + i];
                    s[sr + j * sLd + i] = acc;
                }
            }
        }
    }

    @Override
    public void shiftedValues(int dv, int n, int shifts, float[] p, int p0, int p1, int pLd, float[] v, int v0, int ld,
                              float[] o, int o0, int o1, int oLd) {
        for (int r = 0; r < (p1 >= 0 ? 2 : 1); r++) {
            int pr = r == 0 ? p0 : p1, or = r == 0 ? o0 : o1;
            for (int x = 0; x < dv; x++) {
                for (int i = 0; i < n; i++) {
                    float acc = o[or + x * oLd + i];
                    for (int j = 0; j < shifts; j++) acc += p[pr + j * pLd + i] * v[v0 + j + x * ld + i];
                    o[or + x * oLd + i] = acc;
                }
            }
        }
    }
}
