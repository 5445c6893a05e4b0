package org.attn4j.core.kernel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.attn4j.core.attention.AttentionProblem;
import org.attn4j.core.mask.MaskSemantics;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Layout;
import org.attn4j.core.tensor.Tensor;

/**
 * The tiled backward pass in fp32 (FlashAttention-2's algorithm on the CPU). Only the forward's
 * output O and log-sum-exp are kept; P is recomputed tile by tile.
 *
 * <p>Rows use the forward's grouped layout: per (batch, kv head), row t is query {@code i = t / G}
 * of query head {@code hk·G + t % G}, so the query heads sharing a kv head are one sequence of
 * {@code R = Nq·G} rows and dK, dV of that kv head sum over them by construction.
 *
 * <p>First a pass packs, per (batch, kv head), scale·Q and dO both transposed and by rows, the
 * shifts {@code lse − rowShift} and {@code Dₜ = dOₜ·Oₜ} (O(N·D) memory). Then the work units are
 * <em>key blocks</em> of {@link #BLOCK_KEYS} keys; each keeps its dK, dV in scratch and visits the
 * query tiles of {@link #TILE_ROWS} rows whose bands reach it:
 * <pre>
 *   Sᵀ  = K_blk · (scale·Q_tile)ᵀ                 mask/bias/soft-cap from MaskSemantics (masked tiles only)
 *   Pᵀ  = e^(Sᵀ − shift)                          shift = lse less the ALiBi row constant
 *   dV_blk += Pᵀ · dO_tile
 *   dPᵀ = V_blk · dO_tileᵀ
 *   dSᵀ = Pᵀ ∘ (dPᵀ − D)                          (= dBias), then ∘ (1 − tanh²) through a soft-cap
 *   dK_blk += dSᵀ · (scale·Q_tile)
 *   dQ_tile += (dSᵀ)ᵀ · K_blk                     into this slice's dQ partial; × scale at the end
 * </pre>
 * Tiles outside every row's band are never visited; tiles inside every band with no per-element
 * step are not masked.
 *
 * <p>dQ: every key block adds into every query row it reaches, so two threads would race on dQ.
 * The units are dealt once, before running, into one <em>slice</em> per thread (largest first onto
 * the lightest slice); each slice accumulates dQ into its own partial, and the partials are summed
 * in slice order at the end. This costs threads × |Q| floats, O(N), and no recomputation (a
 * second, query-major pass for dQ would redo three of the five products); and since which unit
 * lands in which slice depends only on the shapes and the thread count, the result is bit-identical
 * from run to run. A bias gradient that is broadcast across units gets per-slice partials the same
 * way.
 */
public final class FlashBackward {
    /** Keys per work unit (a multiple of 6, the GEMM tile's rows). */
    public static final int BLOCK_KEYS = Integer.getInteger("attn4j.flashBackward.keys", 96);
    /** Query rows per tile (a multiple of 16: whole AVX-512 vectors). */
    public static final int TILE_ROWS = Integer.getInteger("attn4j.flashBackward.rows", 96);
    /** Rows packed or reduced per parallel item of the packing and reduction passes. */
    private static final int CHUNK = 64;

    private FlashBackward() {}

    /** Key blocks per (batch, kv head). */
    public static int keyBlocks(AttentionProblem p) {
        return (p.nk + BLOCK_KEYS - 1) / BLOCK_KEYS;
    }

    /**
     * Bytes of working memory a call allocates beyond its inputs and gradients: the packed
     * per-head inputs, the per-slice dQ (and dBias) partials and the per-thread tiles.
     */
    public static long extraBytes(AttentionProblem p, int threads, boolean dbias) {
        long heads = (long) p.batch * p.kvHeads, rows = p.groupedRows(), ld = paddedRows(p);
        long packed = heads * (p.d * ld + rows * p.d + p.dv * ld + rows * p.dv + 2 * rows);
        long slices = Math.max(1, Math.min(threads, heads * keyBlocks(p)));
        long partials = slices * heads * rows * p.d;
        if (dbias && p.spec.bias() != null) partials += (slices - 1) * p.spec.bias().size();
        long tiles = 3L * BLOCK_KEYS * TILE_ROWS + (long) BLOCK_KEYS * (2 * p.d + p.dv) + 6L * TILE_ROWS;
        return 4 * (packed + partials + slices * tiles);
    }

    private static int paddedRows(AttentionProblem p) {
        // Rows of the transposed packs are R floats apart; a power-of-two distance would map all of a
        // tile's rows onto the same L1 sets, so pad by one cache line.
        return Math.addExact((p.groupedRows() + 15) / 16 * 16, 16);
    }

    /**
     * @param out   the forward's output [B, Hq, Nq, Dv]
     * @param lse   the forward's log-sum-exp [B, Hq, Nq]
     * @param dOut  ∂loss/∂out [B, Hq, Nq, Dv]
     * @param dq    [B, Hq, Nq, D] row-major, overwritten
     * @param dk    [B, Hkv, Nk, D] row-major, overwritten
     * @param dv    [B, Hkv, Nk, Dv] row-major, overwritten
     * @param dbias row-major with the shape of the spec's bias, overwritten; or null
     */
    public static void run(AttentionProblem p, Tensor out, Tensor lse, Tensor dOut,
                           float[] dq, float[] dk, float[] dv, float[] dbias, int threads) {
        int heads = p.batch * p.kvHeads;
        int rowsPerHead = p.groupedRows();
        if (heads == 0 || rowsPerHead == 0 || p.nk == 0) {
            Arrays.fill(dq, 0f);
            Arrays.fill(dk, 0f);
            Arrays.fill(dv, 0f);
            if (dbias != null) Arrays.fill(dbias, 0f);
            return;
        }
        MicroKernels mk = MicroKernels.get();
        Packed packed = Packed.of(p, out, lse, dOut, threads);

        // Work units (batch·kv head, key block), dealt into slices by estimated cost.
        int blocks = keyBlocks(p);
        int units = Math.multiplyExact(heads, blocks);
        int[] rowFrom = new int[units], rowTo = new int[units];
        long[] cost = new long[units];
        for (int u = 0; u < units; u++) {
            int hh = u / blocks, kb = u % blocks;
            int j0 = kb * BLOCK_KEYS, j1 = Math.min(p.nk, j0 + BLOCK_KEYS);
            int[] range = queryRows(p, hh / p.kvHeads, j0, j1);
            rowFrom[u] = range[0];
            rowTo[u] = range[1];
            cost[u] = (long) (range[1] - range[0]) * (j1 - j0);
        }
        int slices = Math.max(1, Math.min(threads, units));
        List<List<Integer>> dealt = deal(cost, slices);

        int qPart = Math.multiplyExact(Math.multiplyExact(heads, rowsPerHead), p.d);
        float[][] dqPart = new float[slices][];
        for (int s = 0; s < slices; s++) dqPart[s] = new float[qPart];
        Layout dbiasAt = dbias == null ? null
                : Layout.contiguous(p.spec.bias().shape()).broadcastTo(new int[] {p.batch, p.qHeads, p.nq, p.nk});
        boolean sharedBias = dbias != null && (p.batch > 1 && dbiasAt.stride(0) == 0 || p.kvHeads > 1 && dbiasAt.stride(1) == 0
                || blocks > 1 && dbiasAt.stride(3) == 0);
        float[][] dbiasPart = new float[slices][];
        if (dbias != null) {
            Arrays.fill(dbias, 0f);
            for (int s = 0; s < slices; s++) dbiasPart[s] = s == 0 || !sharedBias ? dbias : new float[dbias.length];
        }
        Arrays.fill(dk, 0f);
        Arrays.fill(dv, 0f);

        Parallel.forEach(threads, slices, w -> new Scratch(p), (slice, s) -> {
            for (int u : dealt.get(slice)) { // units that reach no query row were not dealt
                keyBlock(p, mk, packed, s, u / blocks, (u % blocks) * BLOCK_KEYS, rowFrom[u], rowTo[u],
                        dqPart[slice], dbiasPart[slice], dbiasAt, dk, dv);
            }
        });

        // dQ = scale · Σ slices, in slice order, from the grouped layout back to [B, Hq, Nq, D].
        int chunks = (rowsPerHead + CHUNK - 1) / CHUNK;
        Parallel.forEach(threads, heads * chunks, w -> null, (item, unused) -> {
            int hh = item / chunks, t0 = (item % chunks) * CHUNK, t1 = Math.min(rowsPerHead, t0 + CHUNK);
            int b = hh / p.kvHeads, hk = hh % p.kvHeads;
            for (int t = t0; t < t1; t++) {
                int src = (hh * rowsPerHead + t) * p.d;
                int dst = ((b * p.qHeads + hk * p.group + t % p.group) * p.nq + t / p.group) * p.d;
                for (int x = 0; x < p.d; x++) {
                    float sum = dqPart[0][src + x];
                    for (int sl = 1; sl < slices; sl++) sum += dqPart[sl][src + x];
                    dq[dst + x] = sum * p.scale;
                }
            }
        });
        if (sharedBias) {
            for (int s = 1; s < slices; s++) {
                float[] part = dbiasPart[s];
                for (int x = 0; x < dbias.length; x++) dbias[x] += part[x];
            }
        }
    }

    /**
     * Grouped rows {from, to} of batch entry b whose bands reach keys [j0, j1) (bands are
     * contiguous in i, so this is one range); {0, 0} when none.
     */
    private static int[] queryRows(AttentionProblem p, int b, int j0, int j1) {
        MaskSemantics mask = p.mask;
        int first = -1, last = -1;
        for (int i = 0, n = mask.qLength(b); i < n; i++) {
            int lo = Math.max(mask.keyStart(b, i), j0), hi = Math.min(mask.keyEnd(b, i), j1);
            if (lo < hi) {
                if (first < 0) first = i;
                last = i;
            }
        }
        return first < 0 ? new int[] {0, 0} : new int[] {first * p.group, (last + 1) * p.group};
    }

    /** Longest processing time first: each unit, by decreasing cost, onto the slice with the least work so far. */
    private static List<List<Integer>> deal(long[] cost, int slices) {
        Integer[] order = new Integer[cost.length];
        for (int u = 0; u < order.length; u++) order[u] = u;
        Arrays.sort(order, (a, b) -> cost[a] != cost[b] ? Long.compare(cost[b], cost[a]) : Integer.compare(a, b));
        List<List<Integer>> dealt = new ArrayList<>(slices);
        for (int s = 0; s < slices; s++) dealt.add(new ArrayList<>());
        long[] load = new long[slices];
        for (int u : order) {
            if (cost[u] == 0) continue;
            int best = 0;
            for (int s = 1; s < slices; s++) if (load[s] < load[best]) best = s;
            dealt.get(best).add(u);
            load[best] += cost[u];
        }
        return dealt;
    }

    /** One key block [j0, j0 + keys) of (batch, kv head) hh against grouped rows [tFrom, tTo). */
    private static void keyBlock(AttentionProblem p, MicroKernels mk, Packed pk, Scratch s, int hh, int j0, int tFrom, int tTo,
                                 float[] dqPart, float[] dbias, Layout dbiasAt, float[] dk, float[] dv) {
        MaskSemantics mask = p.mask;
        int b = hh / p.kvHeads, hk = hh % p.kvHeads;
        int g = p.group, d = p.d, dvDim = p.dv, ld = TILE_ROWS, rowsPerHead = p.groupedRows();
        int keys = Math.min(BLOCK_KEYS, p.nk - j0), j1 = j0 + keys;
        float[] kd = p.k.data(), vd = p.v.data();
        int ks2 = p.k.stride(2), ks3 = p.k.stride(3), vs2 = p.v.stride(2), vs3 = p.v.stride(3);
        int kBlk = p.k.offset() + b * p.k.stride(0) + hk * p.k.stride(1) + j0 * ks2;
        int vBlk = p.v.offset() + b * p.v.stride(0) + hk * p.v.stride(1) + j0 * vs2;
        // K by rows for the dQ product (its B operand must be row-major).
        float[] kRows = kd;
        int kRowsOff = kBlk, ldk = ks2;
        if (ks3 != 1) {
            for (int r = 0; r < keys; r++) {
                for (int x = 0; x < d; x++) s.kPack[r * d + x] = kd[kBlk + r * ks2 + x * ks3];
            }
            kRows = s.kPack;
            kRowsOff = 0;
            ldk = d;
        }
        Arrays.fill(s.dK, 0, keys * d, 0f);
        Arrays.fill(s.dV, 0, keys * dvDim, 0f);
        boolean elementwise = mask.hasElementwise(), softcap = mask.hasSoftcap();
        int ldR = pk.ld;
        int qT = hh * d * ldR, dOT = hh * dvDim * ldR, rowBase = hh * rowsPerHead;
        float[] sT = s.sT, dpT = s.dpT;

        for (int t0 = tFrom; t0 < tTo; t0 += TILE_ROWS) {
            int cols = Math.min(TILE_ROWS, tTo - t0);
            boolean inside = true, overlap = false;
            for (int c = 0; c < cols; c++) {
                int i = (t0 + c) / g;
                int lo = mask.keyStart(b, i), hi = mask.keyEnd(b, i);
                s.lo[c] = lo;
                s.hi[c] = hi;
                if (lo > j0 || hi < j1) inside = false;
                if (Math.max(lo, j0) < Math.min(hi, j1)) overlap = true;
            }
            if (!overlap) continue;
            boolean masked = !inside || elementwise;

            // Sᵀ = K_blk · (scale·Q)ᵀ, then the forward's mask, bias and soft-cap.
            mk.gemm(keys, cols, d, kd, kBlk, ks2, ks3, pk.qT, qT + t0, ldR, sT, 0, ld, false);
            if (softcap) {
                for (int r = 0; r < keys; r++) System.arraycopy(sT, r * ld, s.capT, r * ld, cols);
                mask.softcapDerivativeTransposed(s.capT, 0, keys, cols, ld);
            }
            if (masked) mask.applyTransposed(sT, 0, ld, b, hk, g, t0, cols, j0, keys, !inside, mk);
            // Pᵀ = e^(Sᵀ − shift), shift = lse less the row constant applyTransposed left out.
            System.arraycopy(pk.shift, rowBase + t0, s.colShift, 0, cols);
            mk.expColumns(sT, 0, keys, cols, ld, s.colShift, s.sums);

            // dV += Pᵀ·dO;  dPᵀ = V·dOᵀ;  dSᵀ = Pᵀ ∘ (dPᵀ − D).
            mk.gemm(keys, dvDim, cols, sT, 0, ld, 1, pk.dORows, (rowBase + t0) * dvDim, dvDim, s.dV, 0, dvDim, true);
            mk.gemm(keys, cols, dvDim, vd, vBlk, vs2, vs3, pk.dOT, dOT + t0, ldR, dpT, 0, ld, false);
            mk.softmaxBackwardColumns(sT, dpT, 0, keys, cols, ld, pk.rowDot, rowBase + t0);
            if (dbias != null) scatterBias(p, dpT, ld, b, hk, t0, cols, j0, keys, dbias, dbiasAt);
            if (softcap) {
                for (int r = 0; r < keys; r++) {
                    for (int c = 0, q = r * ld; c < cols; c++, q++) dpT[q] *= s.capT[q];
                }
            }

            // dK += dSᵀ·(scale·Q);  dQ += (dSᵀ)ᵀ·K.
            mk.gemm(keys, d, cols, dpT, 0, ld, 1, pk.qRows, (rowBase + t0) * d, d, s.dK, 0, d, true);
            mk.gemm(cols, d, keys, dpT, 0, 1, ld, kRows, kRowsOff, ldk, dqPart, (rowBase + t0) * d, d, true);
        }
        int kOut = (hh * p.nk + j0) * d, vOut = (hh * p.nk + j0) * dvDim;
        System.arraycopy(s.dK, 0, dk, kOut, keys * d);
        System.arraycopy(s.dV, 0, dv, vOut, keys * dvDim);
    }

    /** Adds a dSᵀ tile into dBias through its broadcast layout (zero strides sum the broadcast dimensions). */
    private static void scatterBias(AttentionProblem p, float[] dsT, int ld, int b, int hk, int t0, int cols, int j0, int keys,
                                    float[] dbias, Layout at) {
        int s3 = at.stride(3);
        for (int c = 0; c < cols; c++) {
            int t = t0 + c, i = t / p.group, h = hk * p.group + t % p.group;
            if (i >= p.mask.qLength(b)) continue;
            int base = at.offset() + b * at.stride(0) + h * at.stride(1) + i * at.stride(2) + j0 * s3;
            for (int r = 0; r < keys; r++) dbias[base + r * s3] += dsT[r * ld + c];
        }
    }

    /** The per-head packs of the first pass (see the class comment). */
    private static final class Packed {
        final int ld;
        final float[] qT, qRows, dOT, dORows, shift, rowDot;

        private Packed(AttentionProblem p) {
            int heads = p.batch * p.kvHeads, rows = p.groupedRows();
            ld = paddedRows(p);
            qT = new float[Math.multiplyExact(Math.multiplyExact(heads, p.d), ld)];
            qRows = new float[Math.multiplyExact(Math.multiplyExact(heads, rows), p.d)];
            dOT = new float[Math.multiplyExact(Math.multiplyExact(heads, p.dv), ld)];
            dORows = new float[Math.multiplyExact(Math.multiplyExact(heads, rows), p.dv)];
            shift = new float[heads * rows];
            rowDot = new float[heads * rows];
        }

        static Packed of(AttentionProblem p, Tensor out, Tensor lse, Tensor dOut, int threads) {
            Packed pk = new Packed(p);
            int rows = p.groupedRows(), chunks = (rows + CHUNK - 1) / CHUNK;
            Parallel.forEach(threads, p.batch * p.kvHeads * chunks, w -> null, (item, unused) -> {
                int hh = item / chunks, t0 = (item % chunks) * CHUNK, t1 = Math.min(rows, t0 + CHUNK);
                pk.pack(p, out, lse, dOut, hh, t0, t1);
            });
            return pk;
        }

        private void pack(AttentionProblem p, Tensor out, Tensor lse, Tensor dOut, int hh, int t0, int t1) {
            int b = hh / p.kvHeads, hk = hh % p.kvHeads, rows = p.groupedRows(), d = p.d, dv = p.dv;
            Tensor q = p.q;
            float[] qd = q.data(), od = out.data(), dod = dOut.data(), ld2 = lse.data();
            for (int t = t0; t < t1; t++) {
                int i = t / p.group, h = hk * p.group + t % p.group, row = hh * rows + t;
                int qBase = q.offset() + b * q.stride(0) + h * q.stride(1) + i * q.stride(2);
                for (int x = 0; x < d; x++) {
                    float val = qd[qBase + x * q.stride(3)] * p.scale;
                    qT[(hh * d + x) * ld + t] = val;
                    qRows[row * d + x] = val;
                }
                int oBase = out.offset() + b * out.stride(0) + h * out.stride(1) + i * out.stride(2);
                int gBase = dOut.offset() + b * dOut.stride(0) + h * dOut.stride(1) + i * dOut.stride(2);
                double dot = 0;
                for (int x = 0; x < dv; x++) {
                    float g = dod[gBase + x * dOut.stride(3)];
                    dOT[(hh * dv + x) * ld + t] = g;
                    dORows[row * dv + x] = g;
                    dot += (double) g * od[oBase + x * out.stride(3)];
                }
                rowDot[row] = (float) dot;
                float l = ld2[lse.offset() + b * lse.stride(0) + h * lse.stride(1) + i * lse.stride(2)];
                // A row that saw no key: +inf makes every e^(s − shift) exactly 0 (never e^(−inf + inf)).
                shift[row] = l == Float.NEGATIVE_INFINITY ? Float.POSITIVE_INFINITY : l - p.mask.rowShift(b, h, i);
            }
        }
    }

    /** Per-thread tiles, independent of N. */
    private static final class Scratch {
        final float[] sT, dpT, capT, dK, dV, kPack, colShift, sums;
        final int[] lo, hi;

        Scratch(AttentionProblem p) {
            int keys = Math.min(BLOCK_KEYS, Math.max(1, p.nk));
            sT = new float[keys * TILE_ROWS];
            dpT = new float[keys * TILE_ROWS];
            capT = p.mask.hasSoftcap() ? new float[keys * TILE_ROWS] : new float[0];
            dK = new float[keys * p.d];
            dV = new float[keys * p.dv];
            kPack = p.k.stride(3) == 1 ? new float[0] : new float[keys * p.d];
            colShift = new float[TILE_ROWS];
            sums = new float[TILE_ROWS];
            lo = new int[TILE_ROWS];
            hi = new int[TILE_ROWS];
        }
    }
}
