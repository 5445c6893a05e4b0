package org.attn4j.core.kernel;

import java.util.Arrays;
import org.attn4j.core.attention.AttentionProblem;
import org.attn4j.core.mask.MaskSemantics;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;

/**
 * Tiled online-softmax attention in fp32 (FlashAttention's algorithm on the CPU).
 *
 * <p>Work is cut into <em>query blocks</em>: up to {@link #BLOCK_ROWS} consecutive rows of the
 * grouped layout of one (batch, kv head), row t being query {@code t / G} of query head
 * {@code hk·G + t % G} (G = Hq / Hkv), so the query heads that share a kv head share every K and V
 * tile. For each block the keys are visited in tiles of {@link #TILE_KEYS}:
 * <pre>
 *   Sᵀ = K_tile · (scale·Q_block)ᵀ          (keys × queries, so softmax runs down columns in SIMD)
 *   mask/bias/soft-cap from MaskSemantics  (only on tiles that need it)
 *   m' = max(m, colmax Sᵀ);  P = e^(Sᵀ − m');  l = e^(m − m')·l + colsum P;  O = e^(m − m')·O + Pᵀ·V
 * </pre>
 * and normalised once at the end. Tiles outside every row's band (causal, window, padding) are
 * never computed. Extra memory is a few tiles per thread, independent of N.
 *
 * <p>With {@code splits > 1} (split-KV decoding) each block's key range is also cut into chunks
 * handed to different threads; their states are merged with {@link SoftmaxState#merge}.
 */
public final class FlashKernel {
    /** Query rows per block: a multiple of 6 (GEMM rows) and of 32 (two AVX-512 or four AVX2 vectors); measured best of 48..192. */
    public static final int BLOCK_ROWS = Integer.getInteger("attn4j.flash.rows", 96);
    /** Keys per tile: a multiple of 6; Sᵀ (TILE_KEYS × BLOCK_ROWS fp32) stays in L1/L2. */
    public static final int TILE_KEYS = Integer.getInteger("attn4j.flash.keys", 192);
    /** Blocks with at most this many rows compute Sᵀ by dot products (few queries: decoding). */
    private static final int DOT_PATH_ROWS = 4;

    private FlashKernel() {}

    /** Receives the unnormalised state of one finished query block. */
    public interface BlockSink {
        /** acc is {@code cols × Dv} row-major; row c of the block is grouped row {@code t0 + c}. */
        void accept(int b, int hk, int t0, int cols, float[] m, float[] l, float[] acc);
    }

    /** Bytes of working memory a call allocates beyond its inputs and output (scratch and split partials). */
    public static long extraBytes(AttentionProblem p, int threads, int splits) {
        long ld = Math.max(1, Math.min(BLOCK_ROWS, p.groupedRows())), keys = Math.max(1, Math.min(TILE_KEYS, p.localKeys));
        long perThread = p.d * ld + DOT_PATH_ROWS * p.d + DOT_PATH_ROWS * keys + keys * ld
                + (p.v.stride(3) == 1 ? 0 : keys * p.dv) + ld * p.dv + 8 * ld;
        long partials = splits <= 1 ? 0 : (long) blocksPerHead(p) * p.batch * p.kvHeads * splits * BLOCK_ROWS * (p.dv + 2);
        return 4 * (perThread * Math.min(threads, Math.max(1, blocksPerHead(p) * p.batch * p.kvHeads * Math.max(1, splits))) + partials);
    }

    /** Number of query blocks per (batch, kv head). */
    public static int blocksPerHead(AttentionProblem p) {
        return (p.groupedRows() + BLOCK_ROWS - 1) / BLOCK_ROWS;
    }

    /** Runs attention and writes normalised output (and lse when non-null). */
    public static void run(AttentionProblem p, float[] out, float[] lse, int threads, int splits) {
        run(p, threads, splits, (b, hk, t0, cols, m, l, acc) -> {
            for (int c = 0; c < cols; c++) {
                int t = t0 + c;
                int row = (b * p.qHeads + hk * p.group + t % p.group) * p.nq + t / p.group;
                float e = SoftmaxState.finish(m[c], l[c], acc, c * p.dv, out, row * p.dv, p.dv);
                if (lse != null) lse[row] = e;
            }
        });
    }

    /** Runs attention and hands every block's unnormalised state to {@code sink} (from worker threads). */
    public static void run(AttentionProblem p, int threads, int splits, BlockSink sink) {
        int blocks = blocksPerHead(p);
        int heads = p.batch * p.kvHeads;
        int items = blocks * heads;
        if (items == 0) return;
        MicroKernels mk = MicroKernels.get();
        if (splits <= 1) {
            // Items go head by head, so the threads share one head's K and V in cache; within a head the
            // later blocks, which see more keys under causal masks, go first, so the work left at the
            // end of a call is light and the threads finish together.
            Parallel.forEach(threads, items, w -> new Scratch(p), (item, s) -> {
                int blk = blocks - 1 - item % blocks;
                int bh = item / blocks;
                int t0 = blk * BLOCK_ROWS;
                int cols = Math.min(BLOCK_ROWS, p.groupedRows() - t0);
                int b = bh / p.kvHeads, hk = bh % p.kvHeads;
                s.reset(cols);
                block(p, mk, s, b, hk, t0, cols, p.keyOffset, p.keyOffset + p.localKeys);
                restoreRowShift(p, b, hk, t0, cols, s.m);
                sink.accept(b, hk, t0, cols, s.m, s.l, s.acc);
            });
            return;
        }
        int units = items * splits;
        int dv = p.dv;
        float[] pm = new float[units * BLOCK_ROWS];
        float[] pl = new float[units * BLOCK_ROWS];
        float[] pacc = new float[units * BLOCK_ROWS * dv];
        Parallel.forEach(threads, units, w -> new Scratch(p), (unit, s) -> {
            int item = unit / splits, chunk = unit % splits;
            int blk = blocks - 1 - item % blocks;
            int bh = item / blocks;
            int t0 = blk * BLOCK_ROWS;
            int cols = Math.min(BLOCK_ROWS, p.groupedRows() - t0);
            int b = bh / p.kvHeads, hk = bh % p.kvHeads;
            int[] range = keyRange(p, b, t0, cols);
            int from = range[0], to = range[1];
            int tiles = Math.max(0, (to - from + TILE_KEYS - 1) / TILE_KEYS);
            int c0 = from + (int) ((long) tiles * chunk / splits) * TILE_KEYS;
            int c1 = Math.min(to, from + (int) ((long) tiles * (chunk + 1) / splits) * TILE_KEYS);
            s.reset(cols);
            if (c0 < c1) block(p, mk, s, b, hk, t0, cols, c0, c1);
            System.arraycopy(s.m, 0, pm, unit * BLOCK_ROWS, cols);
            System.arraycopy(s.l, 0, pl, unit * BLOCK_ROWS, cols);
            System.arraycopy(s.acc, 0, pacc, unit * BLOCK_ROWS * dv, cols * dv);
        });
        Parallel.forEach(threads, items, w -> null, (item, unused) -> {
            int blk = blocks - 1 - item % blocks;
            int bh = item / blocks;
            int t0 = blk * BLOCK_ROWS;
            int cols = Math.min(BLOCK_ROWS, p.groupedRows() - t0);
            int first = item * splits;
            for (int chunk = 1; chunk < splits; chunk++) {
                int u = first + chunk;
                for (int c = 0; c < cols; c++) {
                    SoftmaxState.merge(pm, pl, pacc, first * BLOCK_ROWS + c, pm, pl, pacc, u * BLOCK_ROWS + c, dv);
                }
            }
            int base = first * BLOCK_ROWS;
            float[] m = Arrays.copyOfRange(pm, base, base + cols);
            float[] l = Arrays.copyOfRange(pl, base, base + cols);
            float[] acc = Arrays.copyOfRange(pacc, base * dv, (base + cols) * dv);
            restoreRowShift(p, bh / p.kvHeads, bh % p.kvHeads, t0, cols, m);
            sink.accept(bh / p.kvHeads, bh % p.kvHeads, t0, cols, m, l, acc);
        });
    }

    /** Adds back the per-row constant {@link MaskSemantics#rowShift} that the tiles left out. */
    private static void restoreRowShift(AttentionProblem p, int b, int hk, int t0, int cols, float[] m) {
        for (int c = 0; c < cols; c++) {
            int t = t0 + c;
            float shift = p.mask.rowShift(b, hk * p.group + t % p.group, t / p.group);
            if (shift != 0f && m[c] != Float.NEGATIVE_INFINITY) m[c] += shift;
        }
    }

    /** Union of the bands of a block's rows, clipped to the keys k/v hold: {from, to}. */
    static int[] keyRange(AttentionProblem p, int b, int t0, int cols) {
        MaskSemantics mask = p.mask;
        int from = Integer.MAX_VALUE, to = Integer.MIN_VALUE;
        int iFirst = t0 / p.group, iLast = (t0 + cols - 1) / p.group;
        for (int i = iFirst; i <= iLast; i++) {
            int lo = mask.keyStart(b, i), hi = mask.keyEnd(b, i);
            if (lo >= hi) continue;
            from = Math.min(from, lo);
            to = Math.max(to, hi);
        }
        from = Math.max(from, p.keyOffset);
        to = Math.min(to, p.keyOffset + p.localKeys);
        return from >= to ? new int[] {0, 0} : new int[] {from, to};
    }

    /** The online-softmax loop for one query block over global keys [jFrom, jTo). State in {@code s}. */
    private static void block(AttentionProblem p, MicroKernels mk, Scratch s, int b, int hk, int t0, int cols, int jFrom, int jTo) {
        MaskSemantics mask = p.mask;
        int g = p.group, d = p.d, dv = p.dv, ld = s.ld;
        float[] qd = p.q.data(), kd = p.k.data(), vd = p.v.data();
        int qs0 = p.q.stride(0), qs1 = p.q.stride(1), qs2 = p.q.stride(2), qs3 = p.q.stride(3);
        int ks2 = p.k.stride(2), ks3 = p.k.stride(3);
        int vs2 = p.v.stride(2), vs3 = p.v.stride(3);
        boolean dotPath = cols <= DOT_PATH_ROWS && ks3 == 1;
        // Row stride of the score tile: compact for the few-query dot path, so that its columns can
        // be processed as one flat vector stream (see MicroKernels.expColumns).
        int lds = dotPath ? cols : ld;

        // Bands of the block's rows and their union.
        int from = Integer.MAX_VALUE, to = Integer.MIN_VALUE;
        for (int c = 0; c < cols; c++) {
            int i = (t0 + c) / g;
            s.lo[c] = mask.keyStart(b, i);
            s.hi[c] = mask.keyEnd(b, i);
            if (s.lo[c] < s.hi[c]) {
                from = Math.min(from, s.lo[c]);
                to = Math.max(to, s.hi[c]);
            }
        }
        from = Math.max(from, jFrom);
        to = Math.min(to, jTo);
        if (from >= to) return;

        // Pack scale·Q for the block: transposed (D × cols) for the GEMM, or row-major for dot products.
        for (int c = 0; c < cols; c++) {
            int t = t0 + c;
            int qBase = p.q.offset() + b * qs0 + (hk * g + t % g) * qs1 + (t / g) * qs2;
            for (int x = 0; x < d; x++) {
                float val = qd[qBase + x * qs3] * p.scale;
                if (dotPath) s.qRows[c * d + x] = val;
                else s.qT[x * ld + c] = val;
            }
        }

        int kHead = p.k.offset() + b * p.k.stride(0) + hk * p.k.stride(1);
        int vHead = p.v.offset() + b * p.v.stride(0) + hk * p.v.stride(1);
        boolean elementwise = mask.hasElementwise();
        float[] sT = s.sT;
        for (int j0 = from; j0 < to; j0 += TILE_KEYS) {
            int rows = Math.min(TILE_KEYS, to - j0);
            int j1 = j0 + rows;
            boolean inside = true, overlap = false;
            for (int c = 0; c < cols; c++) {
                if (s.lo[c] > j0 || s.hi[c] < j1) inside = false;
                if (Math.max(s.lo[c], j0) < Math.min(s.hi[c], j1)) overlap = true;
            }
            if (!overlap) continue;

            int kTile = kHead + (j0 - p.keyOffset) * ks2;
            boolean masked = !inside || elementwise;
            if (dotPath) {
                // Few queries: each query row against 4 keys at a time (4 independent K streams, one
                // q load per 4 FMAs), query-major into sQ, then transposed into the compact Sᵀ.
                if (cols == 1) {
                    mk.gemmTransB(1, rows, d, s.qRows, 0, d, kd, kTile, ks2, sT, 0, rows);
                } else {
                    mk.gemmTransB(cols, rows, d, s.qRows, 0, d, kd, kTile, ks2, s.sQ, 0, rows);
                    for (int c = 0; c < cols; c++) {
                        for (int r = 0; r < rows; r++) sT[r * lds + c] = s.sQ[c * rows + r];
                    }
                }
            } else if (!masked) {
                // Unmasked tile: the column maxima come out of the GEMM's registers, no extra pass.
                Arrays.fill(s.tileMax, 0, cols, Float.NEGATIVE_INFINITY);
                mk.gemmColumnMax(rows, cols, d, kd, kTile, ks2, ks3, s.qT, 0, ld, sT, 0, ld, s.tileMax);
            } else {
                mk.gemm(rows, cols, d, kd, kTile, ks2, ks3, s.qT, 0, ld, sT, 0, ld, false);
            }
            if (masked) mask.applyTransposed(sT, 0, lds, b, hk, g, t0, cols, j0, rows, !inside, mk);
            if (masked || dotPath) mk.columnMax(sT, 0, rows, cols, lds, s.tileMax);
            if (SoftmaxState.step(mk, sT, rows, cols, lds, s.tileMax, s.m, s.l, s.alpha, s.shift, s.sums)) {
                for (int c = 0; c < cols; c++) if (s.alpha[c] != 1f) mk.scale(s.acc, c * dv, dv, s.alpha[c]);
            }

            int vTile = vHead + (j0 - p.keyOffset) * vs2;
            float[] vSrc = vd;
            int vOff = vTile, ldv = vs2;
            if (vs3 != 1) {
                for (int r = 0; r < rows; r++) {
                    for (int x = 0; x < dv; x++) s.vPack[r * dv + x] = vd[vTile + r * vs2 + x * vs3];
                }
                vSrc = s.vPack;
                vOff = 0;
                ldv = dv;
            }
            // O(cols × Dv) += P(cols × rows) · V(rows × Dv), P read from Sᵀ by columns.
            mk.gemm(cols, dv, rows, sT, 0, 1, lds, vSrc, vOff, ldv, s.acc, 0, dv, true);
        }
    }

    /**
     * Per-thread buffers: a few tiles, independent of the sequence length, and no larger than the
     * problem needs (a 16-token sequence allocates 16 × 16 score tiles, not 192 × 96).
     */
    private static final class Scratch {
        final float[] qT, qRows, sQ, sT, vPack, acc, m, l, alpha, shift, sums, tileMax;
        final int[] lo, hi;
        final int dv, ld;

        Scratch(AttentionProblem p) {
            dv = p.dv;
            ld = Math.max(1, Math.min(BLOCK_ROWS, p.groupedRows()));
            int keys = Math.max(1, Math.min(TILE_KEYS, p.localKeys));
            qT = new float[p.d * ld];
            qRows = new float[DOT_PATH_ROWS * p.d];
            sQ = new float[DOT_PATH_ROWS * keys];
            sT = new float[keys * ld];
            vPack = p.v.stride(3) == 1 ? new float[0] : new float[keys * p.dv];
            acc = new float[ld * p.dv];
            m = new float[ld];
            l = new float[ld];
            alpha = new float[ld];
            shift = new float[ld];
            sums = new float[ld];
            tileMax = new float[ld];
            lo = new int[ld];
            hi = new int[ld];
        }

        void reset(int cols) {
            Arrays.fill(m, 0, cols, Float.NEGATIVE_INFINITY);
            Arrays.fill(l, 0, cols, 0f);
            Arrays.fill(acc, 0, cols * dv, 0f);
        }
    }
}
