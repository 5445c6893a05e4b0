package org.attn4j.core.kernel;

import java.util.Arrays;
import org.attn4j.core.mask.KeyBlock;
import org.attn4j.core.mask.KeyPattern;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;

/**
 * The flash kernel's online-softmax loop over a block-sparse {@link KeyPattern}: for each query block
 * only the keys of its spans are visited, in tiles of up to {@link #tileCapacity} key rows.
 *
 * <p>A tile is a run of <em>pieces</em> (consecutive elements of one span). A tile that is one piece
 * is read in place (K rows at stride {@code step·strideK}, like {@link FlashKernel}); a tile made of
 * several pieces (a 2-D or 3-D neighbourhood: one piece per key row) is first gathered into
 * contiguous K and V scratch tiles. Then, as in the flash kernel:
 * <pre>
 *   Sᵀ = K_tile · (scale·Q_block)ᵀ      (keys × queries)
 *   −inf outside each query's interval, per piece, only where some query's interval ends inside it
 *   m' = max(m, colmax Sᵀ);  P = e^(Sᵀ − m');  l = e^(m − m')·l + colsum P;  O = e^(m − m')·O + Pᵀ·V
 * </pre>
 * Pieces no query of the block sees are skipped before any work; gathered tiles are padded with
 * masked zero keys to whole 6-row GEMM tiles. Work items are runs of {@link #CHUNK} consecutive
 * blocks on one head (neighbouring blocks share K and V rows in cache; their descriptions are
 * reused across heads). Every query's keys are visited in the same order whatever the thread
 * count, so results do not depend on it. Executed FLOPs, {@code 2·rows·cols·(D + Dv)} per computed
 * tile (padding included), are counted.
 */
public final class SparseKernel {
    private SparseKernel() {}

    /** Consecutive query blocks per work item (they share K and V rows, and their descriptions are reused across heads). */
    static final int CHUNK = 8;

    /** Most key rows in one tile for a block of {@code ld} query columns (score tile about the flash kernel's size). */
    static int tileCapacity(int ld) {
        int rows = FlashKernel.TILE_KEYS * Math.max(1, FlashKernel.BLOCK_ROWS / Math.max(1, ld));
        rows = Math.max(FlashKernel.TILE_KEYS, Math.min(rows, 384));
        return rows - rows % 6;
    }

    /**
     * Runs the pattern over {@code q [B, Hq, Nq, D]}, {@code k [B, Hkv, Nk, D]}, {@code v [B, Hkv, Nk, Dv]}
     * (already validated), writing {@code out [B, Hq, Nq, Dv]} and {@code lse [B, Hq, Nq]} (may be null).
     *
     * @return executed FLOPs
     */
    public static long run(Tensor q, Tensor k, Tensor v, KeyPattern pattern, float scale, float[] out, float[] lse, int threads) {
        int batch = q.dim(0), hq = q.dim(1), nq = q.dim(2);
        int group = hq / k.dim(1);
        int blocks = pattern.blocks();
        int heads = batch * hq;
        if (blocks == 0 || heads == 0) return 0;
        // Items are (chunk of CHUNK consecutive blocks, head), chunk-major: a thread runs a chunk's
        // blocks one after the other on one head, so neighbouring blocks find their shared K and V
        // rows in cache, and describes each block once per chunk (its KeyBlocks are cached).
        int chunks = (blocks + CHUNK - 1) / CHUNK;
        long items = (long) chunks * heads;
        if (items > Integer.MAX_VALUE) throw new IllegalArgumentException("pattern: too many (block chunk, head) work items: " + items);
        MicroKernels mk = MicroKernels.get();
        int dv = v.dim(3);
        java.util.Queue<Scratch> scratches = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Parallel.forEach(threads, (int) items, w -> {
            Scratch s = new Scratch(q, k, v, pattern);
            scratches.add(s);
            return s;
        }, (item, s) -> {
            int chunk = item / heads, bh = item % heads;
            int b = bh / hq, h = bh % hq;
            int first = chunk * CHUNK, count = Math.min(CHUNK, blocks - first);
            if (s.described != chunk) {
                for (int i = 0; i < count; i++) {
                    s.blocks[i].clear();
                    pattern.describe(first + i, s.blocks[i]);
                }
                s.described = chunk;
            }
            for (int i = 0; i < count; i++) {
                KeyBlock kb = s.blocks[i];
                s.block = kb;
                block(q, k, v, mk, s, b, h, h / group, scale);
                int cols = kb.queryCount();
                if (s.box && cols > 0) {
                    // Transposed accumulator: normalise and scatter in one pass, then fix empty rows.
                    int base = (b * hq + h) * nq;
                    boolean empty = false;
                    for (int c = 0; c < cols; c++) {
                        s.outRow[c] = (base + kb.query(c)) * dv;
                        boolean none = s.m[c] == Float.NEGATIVE_INFINITY || !(s.l[c] > 0f);
                        s.alpha[c] = none ? 0f : 1f / s.l[c];
                        empty |= none;
                    }
                    mk.unpackTransposed(dv, cols, s.acc, 0, s.ld, s.alpha, out, s.outRow);
                    for (int c = 0; c < cols && (empty || lse != null); c++) {
                        int row = base + kb.query(c);
                        if (s.m[c] == Float.NEGATIVE_INFINITY || !(s.l[c] > 0f)) {
                            Arrays.fill(out, row * dv, row * dv + dv, 0f);
                            if (lse != null) lse[row] = Float.NEGATIVE_INFINITY;
                        } else if (lse != null) {
                            lse[row] = (float) (s.m[c] + Math.log(s.l[c]));
                        }
                    }
                    continue;
                }
                for (int c = 0; c < cols; c++) {
                    int row = (b * hq + h) * nq + kb.query(c);
                    int o = row * dv;
                    if (s.m[c] == Float.NEGATIVE_INFINITY || !(s.l[c] > 0f)) {
                        Arrays.fill(out, o, o + dv, 0f);
                        if (lse != null) lse[row] = Float.NEGATIVE_INFINITY;
                    } else {
                        System.arraycopy(s.acc, c * dv, out, o, dv);
                        mk.scale(out, o, dv, 1f / s.l[c]);
                        if (lse != null) lse[row] = (float) (s.m[c] + Math.log(s.l[c]));
                    }
                }
            }
        });
        long total = 0;
        for (Scratch s : scratches) total += s.flops;
        return total;
    }

    /** One query block of one head: the online-softmax loop over its spans' pieces. */
    private static void block(Tensor q, Tensor k, Tensor v, MicroKernels mk, Scratch s, int b, int h, int hk, float scale) {
        KeyBlock kb = s.block;
        int cols = kb.queryCount();
        int ld = s.ld, d = q.dim(3), dv = v.dim(3);
        // A block of several spans (a 2-D or 3-D neighbourhood box) reads its K and V rows in place
        // through row offsets, and keeps its accumulator transposed (Dv × queries).
        s.box = kb.spanCount() > 1 && k.stride(3) == 1 && v.stride(3) == 1;
        s.reset(cols);
        if (cols == 0) return;
        float[] qd = q.data();
        int qBase = q.offset() + b * q.stride(0) + h * q.stride(1), qs2 = q.stride(2), qs3 = q.stride(3);
        float[] qT = s.qT;
        if (qs3 == 1) {
            int[] qRow = s.qRow;
            for (int c = 0; c < cols; c++) qRow[c] = qBase + kb.query(c) * qs2;
            mk.packTransposed(d, cols, qd, qRow, scale, qT, 0, ld);
        } else {
            for (int c = 0; c < cols; c++) {
                int qRow = qBase + kb.query(c) * qs2;
                for (int x = 0; x < d; x++) qT[x * ld + c] = qd[qRow + x * qs3] * scale;
            }
        }
        s.kHead = k.offset() + b * k.stride(0) + hk * k.stride(1);
        s.vHead = v.offset() + b * v.stride(0) + hk * v.stride(1);
        int cap = s.cap;
        s.tileRows = 0;
        s.pieces = 0;
        for (int sp = 0; sp < kb.spanCount(); sp++) {
            int[] lo = kb.loArray(sp), hi = kb.hiArray(sp);
            int len = kb.length(sp);
            int from = Integer.MAX_VALUE, to = Integer.MIN_VALUE;
            for (int c = 0; c < cols; c++) {
                int a = Math.max(lo[c], 0), z = Math.min(hi[c], len);
                if (a < z) {
                    from = Math.min(from, a);
                    to = Math.max(to, z);
                }
            }
            for (int u = from; u < to; ) {
                int take = Math.min(to - u, cap - s.tileRows);
                boolean inside = true, overlap = false;
                int u1 = u + take;
                for (int c = 0; c < cols; c++) {
                    if (lo[c] > u || hi[c] < u1) inside = false;
                    if (Math.max(lo[c], u) < Math.min(hi[c], u1)) overlap = true;
                }
                if (overlap) {
                    int p = s.pieces++;
                    s.pSpan[p] = sp;
                    s.pStart[p] = u;
                    s.pRows[p] = take;
                    s.pAt[p] = s.tileRows;
                    s.pMasked[p] = !inside;
                    s.tileRows += take;
                    if (s.tileRows == cap) tile(q, k, v, mk, s, cols, d, dv);
                }
                u = u1;
            }
        }
        if (s.tileRows > 0) tile(q, k, v, mk, s, cols, d, dv);
    }

    /** Computes the tile gathered so far and folds it into the running softmax state. */
    private static void tile(Tensor q, Tensor k, Tensor v, MicroKernels mk, Scratch s, int cols, int d, int dv) {
        if (s.box) {
            boxTile(k, v, mk, s, cols, d, dv);
            return;
        }
        KeyBlock kb = s.block;
        int rows = s.tileRows, ld = s.ld;
        float[] kd = k.data(), vd = v.data(), sT = s.sT;
        int ks2 = k.stride(2), ks3 = k.stride(3), vs2 = v.stride(2), vs3 = v.stride(3);
        boolean masked = false;
        for (int p = 0; p < s.pieces; p++) masked |= s.pMasked[p];
        s.padFrom = rows;

        // K rows of the tile: in place when the tile is one piece, else gathered.
        float[] kSrc = kd, vSrc = vd;
        int kOff, kRs, kCs, vOff, ldv;
        if (s.pieces == 1) {
            int sp = s.pSpan[0];
            int row0 = kb.first(sp) + s.pStart[0] * kb.step(sp);
            kOff = s.kHead + row0 * ks2;
            kRs = kb.step(sp) * ks2;
            kCs = ks3;
            if (vs3 == 1) {
                vOff = s.vHead + row0 * vs2;
                ldv = kb.step(sp) * vs2;
            } else {
                gather(vd, s.vHead, vs2, vs3, dv, kb, s, s.vG);
                vSrc = s.vG;
                vOff = 0;
                ldv = dv;
            }
        } else {
            gather(kd, s.kHead, ks2, ks3, d, kb, s, s.kG);
            gather(vd, s.vHead, vs2, vs3, dv, kb, s, s.vG);
            // Pad to whole 6-row GEMM tiles with zero keys that every query masks: the products'
            // leftover-row paths are much slower than a few extra rows.
            int padded = Math.min(s.cap, (rows + 5) / 6 * 6);
            if (padded > rows) {
                Arrays.fill(s.kG, rows * d, padded * d, 0f);
                Arrays.fill(s.vG, rows * dv, padded * dv, 0f);
                s.padFrom = rows;
                rows = padded;
                masked = true;
            }
            kSrc = s.kG;
            kOff = 0;
            kRs = d;
            kCs = 1;
            vSrc = s.vG;
            vOff = 0;
            ldv = dv;
        }

        if (!masked) {
            Arrays.fill(s.tileMax, 0, cols, Float.NEGATIVE_INFINITY);
            mk.gemmColumnMax(rows, cols, d, kSrc, kOff, kRs, kCs, s.qT, 0, ld, sT, 0, ld, s.tileMax);
        } else {
            mk.gemm(rows, cols, d, kSrc, kOff, kRs, kCs, s.qT, 0, ld, sT, 0, ld, false);
            for (int r = s.padFrom; r < rows; r++) Arrays.fill(sT, r * ld, r * ld + cols, Float.NEGATIVE_INFINITY);
            for (int p = 0; p < s.pieces; p++) {
                if (!s.pMasked[p]) continue;
                int sp = s.pSpan[p];
                mk.maskBand(sT, s.pAt[p] * ld, s.pRows[p], cols, ld, s.pStart[p], kb.loArray(sp), kb.hiArray(sp));
            }
            mk.columnMax(sT, 0, rows, cols, ld, s.tileMax);
        }
        if (SoftmaxState.step(mk, sT, rows, cols, ld, s.tileMax, s.m, s.l, s.alpha, s.shift, s.sums)) {
            for (int c = 0; c < cols; c++) if (s.alpha[c] != 1f) mk.scale(s.acc, c * dv, dv, s.alpha[c]);
        }
        // O(cols × Dv) += P(cols × rows) · V(rows × Dv), P read from Sᵀ by columns.
        mk.gemm(cols, dv, rows, sT, 0, 1, ld, vSrc, vOff, ldv, s.acc, 0, dv, true);
        s.flops += 2L * rows * cols * (d + dv);
        s.tileRows = 0;
        s.pieces = 0;
    }

    /**
     * A tile of a box block: {@code Sᵀ = K_rows · Qᵀ} and {@code Oᵀ = α·Oᵀ + V_rowsᵀ · P} on the K and V
     * rows in place (row offsets, no gather copy); the accumulator is Dv × queries (stride ld).
     */
    private static void boxTile(Tensor k, Tensor v, MicroKernels mk, Scratch s, int cols, int d, int dv) {
        KeyBlock kb = s.block;
        int rows = s.tileRows, ld = s.ld;
        float[] sT = s.sT;
        int ks2 = k.stride(2), vs2 = v.stride(2);
        int[] kRow = s.kRow, vRow = s.vRow;
        boolean masked = false;
        for (int p = 0, r = 0; p < s.pieces; p++) {
            masked |= s.pMasked[p];
            int sp = s.pSpan[p], step = kb.step(sp);
            int row = kb.first(sp) + s.pStart[p] * step;
            for (int t = 0; t < s.pRows[p]; t++, r++, row += step) {
                kRow[r] = s.kHead + row * ks2;
                vRow[r] = s.vHead + row * vs2;
            }
        }
        mk.gemmRowGather(rows, cols, d, k.data(), kRow, s.qT, ld, sT, ld);
        if (masked) {
            for (int p = 0; p < s.pieces; p++) {
                if (!s.pMasked[p]) continue;
                int sp = s.pSpan[p];
                mk.maskBand(sT, s.pAt[p] * ld, s.pRows[p], cols, ld, s.pStart[p], kb.loArray(sp), kb.hiArray(sp));
            }
        }
        mk.columnMax(sT, 0, rows, cols, ld, s.tileMax);
        boolean rescale = SoftmaxState.step(mk, sT, rows, cols, ld, s.tileMax, s.m, s.l, s.alpha, s.shift, s.sums);
        mk.gemmColumnGatherAcc(dv, cols, rows, v.data(), vRow, sT, ld, s.acc, ld, rescale ? s.alpha : null);
        s.flops += 2L * rows * cols * (d + dv);
        s.tileRows = 0;
        s.pieces = 0;
    }

    /** Copies the tile's rows of a [.., N, X] head (base offset, strides s2/s3) into {@code dst} (rows × X). */
    private static void gather(float[] src, int head, int s2, int s3, int x, KeyBlock kb, Scratch s, float[] dst) {
        for (int p = 0; p < s.pieces; p++) {
            int sp = s.pSpan[p];
            int step = kb.step(sp);
            int row = kb.first(sp) + s.pStart[p] * step;
            int at = s.pAt[p] * x;
            for (int r = 0; r < s.pRows[p]; r++, row += step, at += x) {
                int o = head + row * s2;
                if (s3 == 1) System.arraycopy(src, o, dst, at, x);
                else for (int c = 0; c < x; c++) dst[at + c] = src[o + c * s3];
            }
        }
    }

    /** Per-thread buffers, sized by the pattern's block bounds and independent of N. */
    private static final class Scratch {
        final KeyBlock[] blocks;
        KeyBlock block;
        final int ld, cap, dv;
        final float[] qT, sT, kG, vG, acc, m, l, alpha, shift, sums, tileMax;
        final int[] pSpan, pStart, pRows, pAt, qRow, kRow, vRow, outRow;
        final boolean[] pMasked;
        int tileRows, pieces, kHead, vHead, padFrom;
        boolean box;
        int described = -1;
        long flops;

        Scratch(Tensor q, Tensor k, Tensor v, KeyPattern pattern) {
            blocks = new KeyBlock[CHUNK];
            for (int i = 0; i < CHUNK; i++) blocks[i] = new KeyBlock(pattern.maxBlockQueries(), pattern.maxBlockSpans());
            ld = pattern.maxBlockQueries();
            cap = tileCapacity(ld);
            dv = v.dim(3);
            int d = q.dim(3);
            qT = new float[d * ld];
            sT = new float[cap * ld];
            kG = new float[cap * d];
            vG = new float[cap * dv];
            acc = new float[ld * dv];
            m = new float[ld];
            l = new float[ld];
            alpha = new float[ld];
            shift = new float[ld];
            sums = new float[ld];
            tileMax = new float[ld];
            qRow = new int[ld];
            outRow = new int[ld];
            pSpan = new int[cap];
            pStart = new int[cap];
            pRows = new int[cap];
            pAt = new int[cap];
            pMasked = new boolean[cap];
            kRow = new int[cap];
            vRow = new int[cap];
        }

        void reset(int cols) {
            Arrays.fill(m, 0, cols, Float.NEGATIVE_INFINITY);
            Arrays.fill(l, 0, cols, 0f);
            Arrays.fill(acc, 0, box ? dv * ld : cols * dv, 0f);
        }
    }
}
