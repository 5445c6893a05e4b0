package org.attn4j.core.simd;

/**
 * The one micro-kernel layer shared by the attention kernels, the model projections and the
 * variants: small dense loops on float32 arrays with explicit offsets and strides.
 * {@link #get()} returns the implementation chosen at start-up (Vector API when available,
 * else the scalar twin); {@link #reason()} says why.
 *
 * <p>Conventions: matrices are addressed as {@code a[off + row·rowStride + col·colStride]};
 * "ld" is the row stride of a row-major matrix. Nothing here allocates on the hot path.
 */
public interface MicroKernels {

    /** Implementation name, e.g. {@code vector-256} or {@code scalar}. */
    String name();

    /**
     * {@code C[m×n] (+)= A[m×k] · B[k×n]}. {@code A(i,p) = a[aOff + i·aRs + p·aCs]},
     * {@code B(p,j) = b[bOff + p·ldb + j]}, {@code C(i,j) = c[cOff + i·ldc + j]}.
     * With {@code accumulate == false}, C is overwritten.
     */
    void gemm(int m, int n, int k,
              float[] a, int aOff, int aRs, int aCs,
              float[] b, int bOff, int ldb,
              float[] c, int cOff, int ldc, boolean accumulate);

    /**
     * {@link #gemm} with {@code accumulate == false} that also folds the column maxima of the result
     * into {@code colMax}: {@code colMax[j] = max(colMax[j], max_i C(i,j))} for j &lt; n. Saves the
     * separate pass of {@link #columnMax} over a freshly computed score tile.
     */
    void gemmColumnMax(int m, int n, int k,
                       float[] a, int aOff, int aRs, int aCs,
                       float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc, float[] colMax);

    /**
     * {@code C[m×n] = A[m×k] · Bᵀ} with both A and B row-major ({@code A(i,p) = a[aOff + i·lda + p]},
     * {@code B(j,p) = b[bOff + j·ldb + p]}): n dot products of length k per row. Suits small n.
     */
    void gemmTransB(int m, int n, int k,
                    float[] a, int aOff, int lda,
                    float[] b, int bOff, int ldb,
                    float[] c, int cOff, int ldc);

    /** Σ a[aOff+i]·b[bOff+i] for i &lt; n. */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** y[yOff+i] += alpha·x[xOff+i]. */
    void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n);

    /**
     * x = gelu(x) = x·Φ(x) = 0.5·x·(1 + erf(x/√2)) elementwise (the exact, erf-based GELU of BERT;
     * erf to ~1.5e-7 absolute).
     */
    void gelu(float[] x, int off, int n);

    /**
     * LayerNorm of one row in place, after adding a residual: {@code x = x + r} (when r is not null),
     * then {@code x = (x − mean)/sqrt(var + eps)·gamma + beta} with the population variance.
     */
    void addLayerNorm(float[] x, int off, float[] r, int rOff, int n, float[] gamma, float[] beta, float eps);

    /** x[off+i] *= alpha. */
    void scale(float[] x, int off, int n, float alpha);

    /** x = cap·tanh(x/cap) elementwise. */
    void softcap(float[] x, int off, int n, float cap);

    /**
     * Column maxima of the row-major {@code rows × cols} block at {@code s[off]} with row stride
     * {@code ld}: {@code out[c] = max_r s[off + r·ld + c]} (−inf for rows == 0).
     */
    void columnMax(float[] s, int off, int rows, int cols, int ld, float[] out);

    /**
     * In place {@code s[r][c] = exp(s[r][c] − shift[c])}, and {@code sums[c] = Σ_r s[r][c]} (after
     * exponentiation). The online-softmax step on a transposed score tile (keys × queries).
     */
    void expColumns(float[] s, int off, int rows, int cols, int ld, float[] shift, float[] sums);

    /**
     * The softmax backward step on transposed tiles: {@code dp[r][c] = p[r][c]·(dp[r][c] − rowDot[rdOff + c])}
     * in place, both tiles {@code rows × cols} at {@code off} with row stride {@code ld} (keys × queries;
     * rowDot holds {@code Dᵢ = dOᵢ·Oᵢ} per query column). Turns dPᵀ into dSᵀ.
     */
    void softmaxBackwardColumns(float[] p, float[] dp, int off, int rows, int cols, int ld, float[] rowDot, int rdOff);

    /**
     * Band masking of a transposed score tile: {@code s[off + r·ld + c] = −inf} unless
     * {@code lo[c] ≤ j0 + r < hi[c]} (key {@code j0 + r}, query column c).
     */
    void maskBand(float[] s, int off, int rows, int cols, int ld, int j0, int[] lo, int[] hi);

    /**
     * {@code C[m×n] = A[m×k] · B[k×n]} with A's rows gathered from anywhere in {@code a}:
     * {@code A(i,p) = a[aRow[i] + p]}, {@code B(p,j) = b[p·ldb + j]}, {@code C(i,j) = c[i·ldc + j]}.
     * The score product of a sparse kernel on key rows that are not evenly spaced (no gather copy).
     */
    void gemmRowGather(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc);

    /**
     * {@code C(i,j) = colScale[j]·C(i,j) + Σ_p a[aRow[p] + i] · b[p·ldb + j]} for i &lt; m, j &lt; n
     * ({@code colScale == null}: factor 1), {@code C(i,j) = c[i·ldc + j]}: A's columns are gathered rows
     * of {@code a}. The transposed value product {@code Oᵀ = α·Oᵀ + Vᵀ·P} of a sparse kernel on
     * gathered value rows (no gather copy).
     */
    void gemmColumnGatherAcc(int m, int n, int k, float[] a, int[] aRow, float[] b, int ldb, float[] c, int ldc, float[] colScale);

    /**
     * Transposing gather: {@code dst[dstOff + x·ld + c] = alpha · src[srcRow[c] + x]} for x &lt; rows,
     * c &lt; cols (packs scaled query rows as the columns of a sparse kernel's Qᵀ block).
     */
    void packTransposed(int rows, int cols, float[] src, int[] srcRow, float alpha, float[] dst, int dstOff, int ld);

    /**
     * Transposing scatter: {@code dst[dstRow[c] + x] = src[srcOff + x·ld + c] · colScale[c]} for x &lt; rows,
     * c &lt; cols (writes a transposed, normalised accumulator back to output rows).
     */
    void unpackTransposed(int rows, int cols, float[] src, int srcOff, int ld, float[] colScale, float[] dst, int[] dstRow);

    /**
     * Shifted (diagonal) score products on transposed rows, for one or two query rows:
     * {@code s[s_r + j·sLd + i] = Σ_{x<d} q[q_r + x·ld + i] · k[k0 + j + x·ld + i]} for i &lt; n,
     * j &lt; shifts, r = 0 ({@code q0, s0}) and, when {@code q1 ≥ 0}, r = 1 ({@code q1, s1}). Column i of
     * q is a query, column i + j of k its j-th key (sliding windows on a grid row: no wasted products).
     */
    void shiftedScores(int d, int n, int shifts, float[] q, int q0, int q1, float[] k, int k0, int ld,
                       float[] s, int s0, int s1, int sLd);

    /**
     * Shifted value products on transposed rows, for one or two query rows:
     * {@code o[o_r + x·oLd + i] += Σ_{j<shifts} p[p_r + j·pLd + i] · v[v0 + j + x·ld + i]} for x &lt; dv,
     * i &lt; n, r = 0 ({@code p0, o0}) and, when {@code p1 ≥ 0}, r = 1 ({@code p1, o1}).
     */
    void shiftedValues(int dv, int n, int shifts, float[] p, int p0, int p1, int pLd, float[] v, int v0, int ld,
                       float[] o, int o0, int o1, int oLd);

    /** The implementation chosen at start-up. */
    static MicroKernels get() { return MicroKernelsProvider.INSTANCE; }

    /** Why {@link #get()} returned what it returned. */
    static String reason() { return MicroKernelsProvider.REASON; }

    /** The scalar twin, always available (tests compare against it). */
    static MicroKernels scalar() { return ScalarMicroKernels.INSTANCE; }
}
