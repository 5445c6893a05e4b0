package org.attn4j.variants.bias;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.Init;
import org.attn4j.variants.ShapeCache;
import org.attn4j.variants.ShapeCache.Shape;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P79 — Music Transformer: relative-position self-attention with learned relative embeddings and
 * the memory-efficient "skewing" of the relative logits.
 *
 * <p>Each query head h has an embedding table {@code E_h [rows, D]}, one row per relative distance
 * {@code δ = j − i} (clipped to {@code [−M, M]} as in Shaw et al.; {@code −M..0} when causal):
 * <pre>  logits[i, j] = (q_i·k_j + q_i·E_h[clip(j − i)]) / √D,   out = softmax(logits)·v</pre>
 * with the causal mask j ≤ i in the paper's decoder setting ({@code causal=false} is the
 * bidirectional extension). Inputs {@code q [B, H, N, D]}, {@code k, v [B, Hkv, N, ·]}; output
 * {@code [B, H, N, Dv]}.
 *
 * <p><b>Skewing.</b> Instead of gathering an N×N×D tensor of embeddings (Shaw et al.), the relative
 * logits {@code R = Q·E_rᵀ} ({@code N × L}, L = N distances −(N−1)..0) are computed once and the
 * absolute-indexed {@code S_rel[i, j] = R[i, j − i + N − 1]} is obtained by the paper's pad–reshape–
 * slice: prepend a zero column ({@code N × (N+1)}), reinterpret the flat buffer as
 * {@code (N+1) × N}, drop the first row. The bidirectional form (2N − 1 distances) appends a zero
 * column ({@code N × 2N}), appends N − 1 zeros to the flat buffer, reinterprets it as
 * {@code (N+1) × (2N−1)} and keeps rows 0..N−1, columns N−1..2N−2. Both are done here on the flat
 * arrays literally, tile by tile: the skew only links row i with row i + 1, so a tile of
 * {@code block} query rows needs its own rows of R plus one zero row. Memory: R for the compact
 * table is {@code block × (2M+1)}; the padded and skewed tiles are {@code block × 2N} floats per
 * worker (never N×N, never N²·D). The tile's {@code S_rel/√D} is handed to the engine as its
 * additive bias (the engine's flash kernel with a [1, 1, block, N] bias tensor).
 */
public final class RelativePositionAttention implements Variant {
    public static final VariantInfo INFO = new VariantInfo("relative-position", "P79", "Music Transformer", Family.E, true,
            "learned per-head relative embeddings, S_rel by the memory-efficient skew, logits (QKᵀ + S_rel)/√D");

    private final RelativePositionParams params;
    private final long seed;
    private final float[] explicit; // [H, rows, D] or null
    private final int explicitHeads, explicitD;
    private final ShapeCache<float[]> tables = new ShapeCache<>(); // by (H, D, M)

    /** Embeddings drawn from {@code seed} for each input shape: N(0, 1/D), as tensor2tensor initialises them. */
    public RelativePositionAttention(RelativePositionParams params, long seed) {
        if (params == null) throw new IllegalArgumentException("params: expected RelativePositionParams, got null");
        this.params = params;
        this.seed = seed;
        this.explicit = null;
        this.explicitHeads = 0;
        this.explicitD = 0;
    }

    /**
     * Explicit embeddings {@code table [heads, rows, d]} row-major, row r for distance {@code r − M}
     * (M = {@code params.maxDistance()}, which must be set, so rows = M + 1 causal or 2M + 1).
     */
    public RelativePositionAttention(RelativePositionParams params, float[] table, int heads, int d) {
        if (params == null) throw new IllegalArgumentException("params: expected RelativePositionParams, got null");
        if (params.maxDistance() == 0) throw new IllegalArgumentException("params.maxDistance: explicit tables need a fixed clipping distance >= 1, got 0");
        int rows = params.tableRows(params.maxDistance());
        if (heads < 1 || d < 1) throw new IllegalArgumentException("table: expected heads, d >= 1, got " + heads + ", " + d);
        if (table == null || table.length != (long) heads * rows * d) {
            throw new IllegalArgumentException("table: expected [" + heads + ", " + rows + ", " + d + "] = " + ((long) heads * rows * d)
                    + " values, got " + (table == null ? "null" : table.length));
        }
        this.params = params;
        this.seed = 0;
        this.explicit = table.clone();
        this.explicitHeads = heads;
        this.explicitD = d;
    }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() { return INFO; }

    public RelativePositionParams params() { return params; }

    /** Row index of relative distance {@code delta} in a table with clipping distance m. */
    public static int row(int delta, int m, boolean causal) {
        int hi = causal ? 0 : m;
        return Math.max(-m, Math.min(hi, delta)) + m;
    }

    /**
     * The embedding tables {@code [heads, rows, d]} used for inputs with these dims (a copy): rows
     * {@code M + 1} (causal) or {@code 2M + 1}, row r for distance {@code r − M}.
     */
    public float[] embeddings(int heads, int d, int n) { return table(heads, d, n).clone(); }

    private float[] table(int heads, int d, int n) {
        if (explicit != null) {
            if (heads != explicitHeads || d != explicitD) {
                throw new IllegalArgumentException("q: the embedding table is for H=" + explicitHeads + ", D=" + explicitD + ", got H=" + heads + ", D=" + d);
            }
            return explicit;
        }
        int m = params.distance(n), rows = params.tableRows(m);
        long drawn = (2L * m + 1) * d, size = (long) heads * rows * d;
        if (Math.max(drawn, size) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("maxDistance: M=" + m + " needs an embedding table [H=" + heads + ", " + (2L * m + 1) + ", D=" + d
                    + "] larger than one array; use a smaller clipping distance (M >= N - 1 = " + (n - 1) + " never clips)");
        }
        return tables.get(Shape.of(heads, d, m), key -> {
            float[] t = new float[heads * rows * d];
            // The causal table (−M..0) is the first M + 1 rows of the bidirectional one.
            for (int h = 0; h < heads; h++) {
                float[] e = Init.normal(seed, "relative-position.E." + h + "." + d + "." + m, (2 * m + 1) * d, 1.0 / Math.sqrt(d));
                System.arraycopy(e, 0, t, h * rows * d, rows * d);
            }
            return t;
        });
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        int bsz = s.batch(), heads = s.heads(), n = s.nq(), d = s.d(), dv = s.dv();
        float[] table = table(heads, d, n);
        int m = explicit != null ? params.maxDistance() : params.distance(n);
        int rows = params.tableRows(m);
        boolean causal = params.causal();
        int near = Math.min(m, n - 1);
        int rLo = m - near, rHi = causal ? m : m + near; // table rows that any pair can reach
        int used = rHi - rLo + 1;
        int block = Math.min(params.block(), n);
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] out = new float[bsz * heads * n * dv];
        MicroKernels mk = MicroKernels.get();
        int width = causal ? n + 1 : 2 * n;          // padded row length
        int[] clip = new int[causal ? n : 2 * n - 1];  // extended column -> compact column
        for (int c = 0; c < clip.length; c++) clip[c] = row(c - (n - 1), m, causal) - rLo;
        // E_usedᵀ per head, [D × used], so that R = Q·Eᵀ is one row-major GEMM.
        float[] tableT = new float[heads * d * used];
        for (int h = 0; h < heads; h++) {
            for (int r = 0; r < used; r++) {
                for (int c = 0; c < d; c++) tableT[(h * d + c) * used + r] = table[(h * rows + rLo + r) * d + c];
            }
        }
        Parallel.forEach(Parallel.resolveThreads(threads), bsz * heads,
                w -> new float[][] {new float[block * used], new float[(block + 1) * width + n], new float[block * n]},
                (bh, scratch) -> {
                    int b = bh / heads, h = bh % heads, hk = s.kvHead(h);
                    float[] qh = Shapes.head(q, b, h);
                    float[] rc = scratch[0], padded = scratch[1], tile = scratch[2];
                    for (int i0 = 0; i0 < n; i0 += block) {
                        int i1 = Math.min(n, i0 + block), t = i1 - i0, keys = causal ? i1 : n;
                        // R = Q_tile · E_usedᵀ  [t × used]
                        mk.gemm(t, used, d, qh, i0 * d, d, 1, tableT, h * d * used, used, rc, 0, used, false);
                        java.util.Arrays.fill(padded, 0f);
                        if (causal) {
                            // pad: a zero column in front of each row of R (extended to N distances −(N−1)..0)
                            for (int r = 0; r < t; r++) {
                                int base = r * width + 1;
                                for (int c = 0; c < n; c++) padded[base + c] = rc[r * used + clip[c]];
                            }
                            // reshape the flat (rows+1) × (N+1) buffer to rows of length N, drop the first row:
                            // S_rel[i, j] = flat[(i+1)·N + j], here relative to the tile's first flat index i0·(N+1).
                            for (int r = 0; r < t; r++) {
                                int src = (r + 1) * n - i0;
                                for (int j = 0; j < keys; j++) tile[r * keys + j] = scale * padded[src + j];
                            }
                        } else {
                            // pad: a zero column after each row of R (extended to 2N − 1 distances), then N − 1 zeros
                            for (int r = 0; r < t; r++) {
                                int base = r * width;
                                for (int c = 0; c < 2 * n - 1; c++) padded[base + c] = rc[r * used + clip[c]];
                            }
                            // reshape to rows of length 2N − 1 and keep columns N−1..2N−2 of rows 0..N−1:
                            // S_rel[i, j] = flat[i·(2N−1) + N − 1 + j], relative to the tile's first flat index i0·2N.
                            for (int r = 0; r < t; r++) {
                                int src = (i0 + r) * (2 * n - 1) + n - 1 - i0 * width;
                                for (int j = 0; j < keys; j++) tile[r * keys + j] = scale * padded[src + j];
                            }
                        }
                        Tensor qv = view(q, b, h, i0, t), kv = view(k, b, hk, 0, keys), vv = view(v, b, hk, 0, keys);
                        AttentionSpec spec = AttentionSpec.builder().bias(Tensor.view(tile, 0, new int[] {1, 1, t, keys}, new int[] {t * keys, t * keys, keys, 1}))
                                .causal(causal ? CausalAlignment.BOTTOM_RIGHT : null).threads(1).build();
                        float[] o = Attention.sdpa(qv, kv, vv, spec).output().toArray();
                        System.arraycopy(o, 0, out, ((b * heads + h) * n + i0) * dv, t * dv);
                    }
                });
        long pairs = causal ? (long) n * (n + 1) / 2 : (long) n * n;
        long flops = (long) bsz * heads * (2L * n * used * d + 2L * pairs * (d + dv));
        return new VariantResult(Tensor.of(out, bsz, heads, n, dv), flops);
    }

    /** Rows [start, start + count) of head (b, h) of a [B, H, N, X] tensor as a [1, 1, count, X] view. */
    private static Tensor view(Tensor t, int b, int h, int start, int count) {
        int off = t.offset() + b * t.stride(0) + h * t.stride(1) + start * t.stride(2);
        return Tensor.view(t.data(), off, new int[] {1, 1, count, t.dim(3)}, new int[] {t.stride(0), t.stride(1), t.stride(2), t.stride(3)});
    }
}
