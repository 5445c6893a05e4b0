package org.attn4j.core.simd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Vector API micro-kernels against float64 sums and their scalar twin, odd sizes and strides included. */
class MicroKernelsTest {
    final MicroKernels vec = MicroKernels.get();
    final Random r = new Random(5);

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Test
    void vectorImplementationIsChosenWhenTheModuleIsPresent() {
        org.junit.jupiter.api.Assumptions.assumeFalse("scalar".equals(System.getProperty("attn4j.simd")), "scalar forced (the scalar-twin run)");
        assertTrue(vec.name().startsWith("vector"), MicroKernels.reason());
    }

    @Test
    void gemmMatchesFloat64OnOddShapesAndStrides() {
        int[] sizes = {1, 2, 5, 6, 7, 8, 13, 16, 17, 31, 48, 50};
        for (MicroKernels mk : new MicroKernels[] {vec, MicroKernels.scalar()}) {
            for (int m : sizes) for (int n : sizes) for (int k : new int[] {1, 3, 64, 67}) {
                boolean transA = r.nextBoolean();
                int lda = transA ? m + 3 : k + 2;
                float[] a = rand((transA ? k : m) * lda + 5);
                int aRs = transA ? 1 : lda, aCs = transA ? lda : 1;
                int ldb = n + r.nextInt(4), ldc = n + r.nextInt(3);
                float[] b = rand(k * ldb + 8), c = rand(m * ldc + 8);
                float[] c0 = c.clone();
                boolean acc = r.nextBoolean();
                mk.gemm(m, n, k, a, 1, aRs, aCs, b, 2, ldb, c, 3, ldc, acc);
                for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                    double e = acc ? c0[3 + i * ldc + j] : 0;
                    for (int p = 0; p < k; p++) e += (double) a[1 + i * aRs + p * aCs] * b[2 + p * ldb + j];
                    assertEquals(e, c[3 + i * ldc + j], 1e-4 * (1 + Math.sqrt(k)), mk.name() + " m=" + m + " n=" + n + " k=" + k);
                }
                // untouched padding between rows of C
                for (int i = 0; i + 1 < m; i++) for (int j = n; j < ldc; j++) assertEquals(c0[3 + i * ldc + j], c[3 + i * ldc + j]);
            }
        }
    }

    @Test
    void gemmColumnMaxEqualsGemmThenColumnMax() {
        for (MicroKernels mk : new MicroKernels[] {vec, MicroKernels.scalar()}) {
            for (int m : new int[] {1, 5, 6, 13, 192}) for (int n : new int[] {1, 9, 16, 32, 48, 64, 96, 100}) {
                int k = 1 + r.nextInt(70), ld = n + 3;
                float[] a = rand(m * k), b = rand(k * ld), c = new float[m * ld], c2 = new float[m * ld];
                float[] cm = new float[n + 2], expect = new float[n + 2];
                java.util.Arrays.fill(cm, Float.NEGATIVE_INFINITY);
                cm[n / 2] = 100f; // a prior maximum must survive
                mk.gemmColumnMax(m, n, k, a, 0, k, 1, b, 0, ld, c, 0, ld, cm);
                mk.gemm(m, n, k, a, 0, k, 1, b, 0, ld, c2, 0, ld, false);
                MicroKernels.scalar().columnMax(c2, 0, m, n, ld, expect);
                expect[n / 2] = Math.max(expect[n / 2], 100f);
                assertEquals(0, java.util.Arrays.compare(c2, c), mk.name());
                for (int j = 0; j < n; j++) assertEquals(expect[j], cm[j], mk.name() + " m=" + m + " n=" + n + " col " + j);
                assertEquals(Float.NEGATIVE_INFINITY, cm[n + 1], "columns past n untouched");
            }
        }
    }

    @Test
    void compactFewColumnTilesMatchScalarTwin() {
        for (int cols : new int[] {1, 2, 3, 4, 8}) for (int rows : new int[] {1, 5, 16, 191, 192}) {
            float[] s = rand(rows * cols + 3);
            s[2] = Float.NEGATIVE_INFINITY;
            float[] mv = new float[cols], ms = new float[cols];
            vec.columnMax(s, 1, rows, cols, cols, mv);
            MicroKernels.scalar().columnMax(s, 1, rows, cols, cols, ms);
            assertEquals(0, java.util.Arrays.compare(mv, ms), "max cols=" + cols + " rows=" + rows);
            for (int c = 0; c < cols; c++) if (mv[c] == Float.NEGATIVE_INFINITY) mv[c] = ms[c] = 0f; // the kernels' shift rule
            float[] a = s.clone(), b = s.clone(), sa = new float[cols], sb = new float[cols];
            vec.expColumns(a, 1, rows, cols, cols, mv, sa);
            MicroKernels.scalar().expColumns(b, 1, rows, cols, cols, ms, sb);
            for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 2e-6 * Math.abs(b[i]) + 1e-30, "exp at " + i);
            for (int c = 0; c < cols; c++) assertEquals(sb[c], sa[c], 1e-5 * sb[c], "sum col " + c);
            assertEquals(s[0], a[0]);
        }
    }

    /** erf by numerical integration of its definition, 2/√π ∫0^z e^(−t²) dt (Simpson, 2000 steps). */
    static double erfByIntegration(double z) {
        int n = 2000;
        double h = z / n, sum = 0;
        for (int i = 0; i <= n; i++) {
            double t = i * h, f = Math.exp(-t * t);
            sum += (i == 0 || i == n ? 1 : (i % 2 == 1 ? 4 : 2)) * f;
        }
        return 2 / Math.sqrt(Math.PI) * sum * h / 3;
    }

    @Test
    void geluMatchesItsDefinition() {
        float[] x = new float[203];
        for (int i = 0; i < x.length; i++) x[i] = -10f + 20f * i / (x.length - 1);
        x[7] = 0f;
        x[8] = -0f;
        for (MicroKernels mk : new MicroKernels[] {vec, MicroKernels.scalar()}) {
            float[] y = x.clone();
            mk.gelu(y, 0, y.length);
            for (int i = 0; i < x.length; i++) {
                double expected = 0.5 * x[i] * (1 + erfByIntegration(x[i] / Math.sqrt(2)));
                assertEquals(expected, y[i], 2e-7 * Math.max(1, Math.abs(x[i])) + 1e-7, mk.name() + " gelu(" + x[i] + ")");
            }
        }
    }

    @Test
    void vectorAndScalarTailExpAreBitIdentical() {
        // Column 0 of a 64-column tile runs in vector lanes; a 1-column tile runs the scalar tail.
        // Both must round identically, or results would depend on shape and JIT tier.
        int rows = 300, ld = 65;
        float[] wide = new float[rows * ld], narrow = new float[rows * 2];
        for (int r = 0; r < rows; r++) {
            float x = -100f + r * 0.37f + (float) this.r.nextGaussian() * 0.01f;
            if (r == 5) x = Float.NEGATIVE_INFINITY;
            if (r == 6) x = 0f;
            wide[r * ld] = x;
            narrow[r * 2] = x;
        }
        float[] shift = new float[64], sums = new float[64], shift1 = new float[1], sums1 = new float[1];
        vec.expColumns(wide, 0, rows, 64, ld, shift, sums);
        vec.expColumns(narrow, 0, rows, 1, 2, shift1, sums1);
        for (int r = 0; r < rows; r++) {
            assertEquals(Float.floatToRawIntBits(narrow[r * 2]), Float.floatToRawIntBits(wide[r * ld]), "row " + r);
        }
        assertEquals(0f, wide[5 * ld]);
        assertEquals(1f, wide[6 * ld]);
    }

    @Test
    void softcapIsAccurateAndItsVectorLanesEqualTheScalarTail() {
        // Vector lanes (a length that fills whole vectors) and the scalar tail (length 1) must round
        // identically: only then is the result independent of the shape and of the JIT tier.
        float cap = 5f;
        int n = 4096;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double u = (i - n / 2) / (double) (n / 2);          // -1 .. 1
            x[i] = (float) (Math.signum(u) * Math.pow(Math.abs(u), 3) * 80);  // dense near 0, out to ±80
        }
        x[0] = 0f;
        x[1] = -0f;
        x[2] = 0.625f * cap;                                     // the formula's switch point
        x[3] = Math.nextDown(0.625f * cap);
        x[4] = -0.625f * cap;
        x[5] = 1e-30f;
        x[6] = Float.MIN_VALUE;
        x[7] = 1e6f;
        x[8] = -1e6f;
        float[] wide = x.clone();
        vec.softcap(wide, 0, n, cap);
        for (int i = 0; i < n; i++) {
            float[] one = {x[i]};
            vec.softcap(one, 0, 1, cap);
            assertEquals(Float.floatToRawIntBits(one[0]), Float.floatToRawIntBits(wide[i]), "x = " + x[i]);
            double exact = cap * Math.tanh((double) x[i] / cap);
            assertEquals(exact, wide[i], 3 * Math.ulp((float) exact) + 1e-37, "x = " + x[i]);
        }
        assertEquals(cap, wide[7]);
        assertEquals(-cap, wide[8]);
        assertEquals(0f, wide[0]);
    }

    @Test
    void geluVectorLanesAreAccurateAcrossTheRange() {
        // The vector GELU's exp is the deterministic one of the softmax (no lanewise EXP): check the
        // lanes against the float64 definition, far tails included.
        int n = 2048;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -30f + 60f * i / n;
        float[] g = x.clone();
        vec.gelu(g, 0, n);
        for (int i = 0; i < n; i++) {
            double v = x[i];
            double e = 0.5 * v * (1 + Erf.erf(v * Erf.INV_SQRT2));
            assertEquals(e, g[i], 2e-6 * (1 + Math.abs(e)), "x = " + x[i]);
        }
    }

    @Test
    void addLayerNormMatchesFloat64Definition() {
        for (MicroKernels mk : new MicroKernels[] {vec, MicroKernels.scalar()}) {
            for (int n : new int[] {1, 7, 16, 33, 384}) {
                float[] x = rand(n + 2), res = rand(n + 1), gamma = rand(n), beta = rand(n);
                for (int i = 0; i < x.length; i++) x[i] = x[i] * 3 + 5; // an offset, as in real activations
                float[] y = x.clone();
                boolean withResidual = n % 2 == 1;
                mk.addLayerNorm(y, 2, withResidual ? res : null, 1, n, gamma, beta, 1e-12f);
                double mean = 0, var = 0;
                double[] v = new double[n];
                for (int i = 0; i < n; i++) v[i] = x[2 + i] + (withResidual ? res[1 + i] : 0);
                for (double a : v) mean += a / n;
                for (double a : v) var += (a - mean) * (a - mean) / n;
                for (int i = 0; i < n; i++) {
                    double e = n == 1 ? beta[i] : (v[i] - mean) / Math.sqrt(var + 1e-12) * gamma[i] + beta[i];
                    assertEquals(e, y[2 + i], 2e-5 * (1 + Math.abs(e)), mk.name() + " n=" + n + " i=" + i);
                }
                assertEquals(x[0], y[0]);
                assertEquals(x[1], y[1]);
            }
        }
    }

    @Test
    void maskBandMatchesScalarTwin() {
        for (int cols : new int[] {1, 15, 16, 17, 96, 100}) {
            int rows = 40, ld = cols + 5, j0 = 30;
            int[] lo = new int[cols], hi = new int[cols];
            for (int c = 0; c < cols; c++) {
                lo[c] = r.nextInt(60);
                hi[c] = r.nextInt(80); // hi < lo means an empty band
            }
            float[] a = rand(rows * ld), b = a.clone();
            vec.maskBand(a, 0, rows, cols, ld, j0, lo, hi);
            MicroKernels.scalar().maskBand(b, 0, rows, cols, ld, j0, lo, hi);
            assertEquals(0, java.util.Arrays.compare(a, b), "cols=" + cols);
            for (int rr = 0; rr < rows; rr++) for (int c = 0; c < cols; c++) {
                boolean inside = j0 + rr >= lo[c] && j0 + rr < hi[c];
                assertEquals(inside, a[rr * ld + c] != Float.NEGATIVE_INFINITY);
            }
        }
    }

    @Test
    void gemmTransBAndDotAndAxpy() {
        for (int k : new int[] {1, 7, 8, 31, 32, 33, 64, 129}) {
            int m = 5, n = 6;
            float[] a = rand(m * (k + 1)), b = rand(n * (k + 2)), c = new float[m * n];
            vec.gemmTransB(m, n, k, a, 0, k + 1, b, 0, k + 2, c, 0, n);
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                double e = 0;
                for (int p = 0; p < k; p++) e += (double) a[i * (k + 1) + p] * b[j * (k + 2) + p];
                assertEquals(e, c[i * n + j], 1e-4 * Math.sqrt(k));
                assertEquals(e, vec.dot(a, i * (k + 1), b, j * (k + 2), k), 1e-4 * Math.sqrt(k));
            }
            float[] y = rand(k + 3), y0 = y.clone(), x = rand(k + 3);
            vec.axpy(0.5f, x, 1, y, 2, k);
            for (int i = 0; i < k; i++) assertEquals(y0[2 + i] + 0.5f * x[1 + i], y[2 + i], 1e-6);
            assertEquals(y0[0], y[0]);
        }
    }

    @Test
    void gemmTransBOverSeveralRowsEqualsRowByRow() {
        // The batched tiles (4 B rows × 2 A rows, B rows outermost) keep each dot product's order of
        // lane accumulation; only the final lane reduction may differ (C2 reduces in a tree, the
        // interpreter lane by lane), so the bound is a few roundings of the sum of |terms|.
        for (int[] s : new int[][] {{2, 4, 16}, {3, 5, 33}, {8, 17, 64}, {7, 9, 960}, {5, 3, 7}, {1, 6, 40}}) {
            int m = s[0], n = s[1], k = s[2], lda = k + 3, ldb = k + 1, ldc = n + 2;
            float[] a = rand(m * lda + 4), b = rand(n * ldb + 5), c = rand(m * ldc + 3), one = c.clone(), c0 = c.clone();
            vec.gemmTransB(m, n, k, a, 1, lda, b, 2, ldb, c, 3, ldc);
            for (int i = 0; i < m; i++) vec.gemmTransB(1, n, k, a, 1 + i * lda, lda, b, 2, ldb, one, 3 + i * ldc, ldc);
            for (int p = 0; p < c.length; p++) {
                int i = (p - 3) / ldc, j = (p - 3) % ldc;
                if (p < 3 || i >= m || j >= n) { // outside C: untouched
                    assertEquals(c0[p], c[p]);
                    continue;
                }
                double e = 0, mag = 0;
                for (int q = 0; q < k; q++) {
                    double term = (double) a[1 + i * lda + q] * b[2 + j * ldb + q];
                    e += term;
                    mag += Math.abs(term);
                }
                assertEquals(one[p], c[p], 1e-6 * mag, "m=" + m + " n=" + n + " k=" + k);
                assertEquals(e, c[p], 1e-6 * mag, "m=" + m + " n=" + n + " k=" + k);
            }
        }
    }

    @Test
    void columnOpsAndSoftcap() {
        for (int cols : new int[] {1, 7, 8, 9, 16, 48}) {
            int rows = 13, ld = 50;
            float[] s = rand(rows * ld);
            s[2 * ld] = Float.NEGATIVE_INFINITY;
            float[] max = new float[cols], max2 = new float[cols];
            vec.columnMax(s, 0, rows, cols, ld, max);
            MicroKernels.scalar().columnMax(s, 0, rows, cols, ld, max2);
            assertEquals(0, java.util.Arrays.compare(max, max2));
            float[] shift = max.clone(), sums = new float[cols];
            float[] e = s.clone();
            vec.expColumns(e, 0, rows, cols, ld, shift, sums);
            for (int c = 0; c < cols; c++) {
                double sum = 0;
                for (int rr = 0; rr < rows; rr++) {
                    double x = Math.exp((double) s[rr * ld + c] - shift[c]);
                    assertEquals(x, e[rr * ld + c], 2e-6 * x + 1e-30);
                    sum += x;
                }
                assertEquals(sum, sums[c], 1e-5 * sum);
            }
            float[] t = rand(cols), t0 = t.clone();
            for (int i = 0; i < cols; i++) t[i] *= 40;
            for (int i = 0; i < cols; i++) t0[i] = t[i];
            vec.softcap(t, 0, cols, 7f);
            for (int i = 0; i < cols; i++) assertEquals(7 * Math.tanh(t0[i] / 7), t[i], 2e-6 * 7);
        }
    }

    @Test
    void gatheredGemmsMatchFloat64AndTheScalarTwin() {
        // Row counts that exercise every tile (16, 12, 4, 1 rows) and column counts with full, two
        // and masked vectors; rows of a are scattered, unevenly spaced and repeated.
        for (MicroKernels mk : new MicroKernels[] {vec, MicroKernels.scalar()}) {
            for (int m : new int[] {1, 3, 4, 12, 13, 16, 29, 64, 100}) for (int n : new int[] {1, 7, 8, 16, 17, 32, 33}) {
                for (int k : new int[] {1, 5, 64}) {
                    int width = Math.max(k, m) + 3;
                    float[] a = rand(40 * width);
                    int[] aRowM = new int[m], aRowK = new int[k];
                    for (int i = 0; i < m; i++) aRowM[i] = r.nextInt(40 - 1) * width + r.nextInt(3);
                    for (int p = 0; p < k; p++) aRowK[p] = r.nextInt(40 - 1) * width + r.nextInt(3);
                    int ldb = n + r.nextInt(4), ldc = n + r.nextInt(3);
                    float[] bk = rand(k * ldb), c = rand(m * ldc);
                    mk.gemmRowGather(m, n, k, a, aRowM, bk, ldb, c, ldc);
                    for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                        double e = 0;
                        for (int p = 0; p < k; p++) e += (double) a[aRowM[i] + p] * bk[p * ldb + j];
                        assertEquals(e, c[i * ldc + j], 1e-4 * (1 + Math.abs(e)), mk.name() + " rowGather m=" + m + " n=" + n + " k=" + k);
                    }
                    float[] c2 = rand(m * ldc), c20 = c2.clone();
                    float[] scale = r.nextBoolean() ? null : rand(n);
                    mk.gemmColumnGatherAcc(m, n, k, a, aRowK, bk, ldb, c2, ldc, scale);
                    for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                        double e = (scale == null ? 1.0 : scale[j]) * c20[i * ldc + j];
                        for (int p = 0; p < k; p++) e += (double) a[aRowK[p] + i] * bk[p * ldb + j];
                        assertEquals(e, c2[i * ldc + j], 1e-4 * (1 + Math.abs(e)), mk.name() + " columnGather m=" + m + " n=" + n + " k=" + k);
                    }
                    // Columns of C past n are left alone.
                    for (int i = 0; i < m; i++) for (int j = n; j < ldc; j++) assertEquals(c20[i * ldc + j], c2[i * ldc + j]);
                }
            }
        }
    }

    @Test
    void transposedPackAndUnpackMatchTheirDefinition() {
        for (MicroKernels mk : new MicroKernels[] {vec, MicroKernels.scalar()}) {
            for (int cols : new int[] {1, 7, 8, 16, 17, 33}) for (int rows : new int[] {1, 5, 64}) {
                int ld = cols + r.nextInt(3), width = rows + 2;
                float[] src = rand(50 * width);
                int[] srcRow = new int[cols];
                for (int c = 0; c < cols; c++) srcRow[c] = r.nextInt(49) * width + r.nextInt(2);
                float[] packed = rand(rows * ld), packed0 = packed.clone();
                mk.packTransposed(rows, cols, src, srcRow, 0.5f, packed, 0, ld);
                for (int x = 0; x < rows; x++) for (int c = 0; c < ld; c++) {
                    float e = c < cols ? 0.5f * src[srcRow[c] + x] : packed0[x * ld + c];
                    assertEquals(e, packed[x * ld + c], mk.name() + " pack x=" + x + " c=" + c);
                }
                float[] scale = rand(cols), dst = rand(cols * (rows + 3)), dst0 = dst.clone();
                int[] dstRow = new int[cols];
                for (int c = 0; c < cols; c++) dstRow[c] = (cols - 1 - c) * (rows + 3) + 1; // reversed rows, gaps between
                mk.unpackTransposed(rows, cols, packed, 0, ld, scale, dst, dstRow);
                boolean[] written = new boolean[dst.length];
                for (int c = 0; c < cols; c++) for (int x = 0; x < rows; x++) {
                    assertEquals(packed[x * ld + c] * scale[c], dst[dstRow[c] + x], mk.name() + " unpack x=" + x + " c=" + c);
                    written[dstRow[c] + x] = true;
                }
                for (int i = 0; i < dst.length; i++) if (!written[i]) assertEquals(dst0[i], dst[i], "untouched " + i);
            }
        }
    }

    @Test
    void shiftedProductsMatchFloat64AndTheScalarTwin() {
        // Query columns i against key columns i + j (j < shifts) of transposed rows (stride ld), one or
        // two query rows; full, partial and several vectors of columns; tiles of 7, 4, 2 and 1 shifts.
        for (MicroKernels mk : new MicroKernels[] {vec, MicroKernels.scalar()}) {
            for (int n : new int[] {1, 7, 8, 16, 17, 35}) for (int shifts : new int[] {1, 2, 3, 7, 10, 13}) for (int d : new int[] {1, 5, 64}) {
                int ld = n + shifts + 3;
                float[] q = rand(2 * d * ld), k = rand(d * ld + 4);
                boolean two = r.nextBoolean();
                int q0 = 1, q1 = two ? d * ld : -1, k0 = 2, sLd = n + 2;
                float[] s = rand(2 * shifts * sLd + 8), s0 = s.clone();
                int o0 = 3, o1 = shifts * sLd + 5;
                mk.shiftedScores(d, n, shifts, q, q0, q1, k, k0, ld, s, o0, two ? o1 : 0, sLd);
                boolean[] written = new boolean[s.length];
                for (int row = 0; row < (two ? 2 : 1); row++) {
                    int qr = row == 0 ? q0 : q1, or = row == 0 ? o0 : o1;
                    for (int j = 0; j < shifts; j++) for (int i = 0; i < n; i++) {
                        double e = 0;
                        for (int x = 0; x < d; x++) e += (double) q[qr + x * ld + i] * k[k0 + j + x * ld + i];
                        assertEquals(e, s[or + j * sLd + i], 1e-4 * (1 + Math.abs(e)), mk.name() + " scores n=" + n + " shifts=" + shifts + " d=" + d);
                        written[or + j * sLd + i] = true;
                    }
                }
                for (int i = 0; i < s.length; i++) if (!written[i]) assertEquals(s0[i], s[i], "untouched score " + i);

                int dv = d + 2, vLd = n + shifts + 1, oLd = n + 1;
                float[] p = rand(2 * shifts * sLd + 8), v = rand(dv * vLd + 3), o = rand(2 * dv * oLd + 4), oStart = o.clone();
                int p0 = 1, p1 = two ? shifts * sLd + 2 : -1, v0 = 2, oa = 0, ob = dv * oLd + 1;
                mk.shiftedValues(dv, n, shifts, p, p0, p1, sLd, v, v0, vLd, o, oa, two ? ob : 0, oLd);
                boolean[] touched = new boolean[o.length];
                for (int row = 0; row < (two ? 2 : 1); row++) {
                    int pr = row == 0 ? p0 : p1, or = row == 0 ? oa : ob;
                    for (int x = 0; x < dv; x++) for (int i = 0; i < n; i++) {
                        double e = oStart[or + x * oLd + i];
                        for (int j = 0; j < shifts; j++) e += (double) p[pr + j * sLd + i] * v[v0 + j + x * vLd + i];
                        assertEquals(e, o[or + x * oLd + i], 1e-4 * (1 + Math.abs(e)), mk.name() + " values n=" + n + " shifts=" + shifts + " dv=" + dv);
                        touched[or + x * oLd + i] = true;
                    }
                }
                for (int i = 0; i < o.length; i++) if (!touched[i]) assertEquals(oStart[i], o[i], "untouched output " + i);
            }
        }
    }
    @Test
    void softmaxBackwardColumnsMatchesItsDefinitionAndTheScalarTwin() {
        for (MicroKernels mk : new MicroKernels[] {vec, MicroKernels.scalar()}) {
            for (int cols : new int[] {1, 7, 15, 16, 17, 33, 96}) {
                int rows = 11, ld = cols + 3, off = 2, rdOff = 4;
                float[] p = rand(off + rows * ld), dp = rand(off + rows * ld), rowDot = rand(rdOff + cols);
                for (int i = 0; i < p.length; i += 5) p[i] = 0f; // masked entries: P = 0 must give dS = 0 exactly
                float[] before = dp.clone();
                mk.softmaxBackwardColumns(p, dp, off, rows, cols, ld, rowDot, rdOff);
                for (int rr = 0; rr < rows; rr++) for (int c = 0; c < ld; c++) {
                    int at = off + rr * ld + c;
                    if (c >= cols) {
                        assertEquals(before[at], dp[at], "padding untouched");
                        continue;
                    }
                    double e = (double) p[at] * ((double) before[at] - rowDot[rdOff + c]);
                    assertEquals(e, dp[at], 1e-6 * (1 + Math.abs(e)), mk.name() + " cols=" + cols + " r=" + rr + " c=" + c);
                    if (p[at] == 0f) assertEquals(0f, Math.abs(dp[at]), "P = 0 gives an exact zero");
                }
                assertEquals(before[0], dp[0], "before the tile untouched");
                assertEquals(before[1], dp[1], "before the tile untouched");
            }
        }
    }
}
