package org.attn4j.variants.neighborhood;

import java.util.Arrays;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;

/**
 * A dedicated kernel for plain 2-D neighbourhood attention (dilation 1, stride 1, not causal): no
 * key box, so no score is computed for a key outside the query's window except at the grid's
 * left and right edges.
 *
 * <p>On a grid row, query column i's window starts at key column {@code wx(i) = clamp(i − ⌊kx/2⌋, 0, W − kx)},
 * i.e. at the shift {@code wx(i) − i} ∈ [−(kx−1), 0], the same shift for every interior column. With
 * Q, K and V of each grid row transposed ({@code D × W}, one query or key per column), the scores of a
 * unit of up to 16 consecutive query columns against key row y' are
 * {@code S[j][i] = Σ_x Qᵀ[x][i] · Kᵀ[y'][x][i + sMin + j]}: vector lanes over queries, one FMA per
 * (query, key, x) with a contiguous key load per shift j ({@link MicroKernels#shiftedScores}); a unit
 * holding clamped edge columns takes the union of their shifts and masks each lane's extra ones.
 * All {@code ky × shifts} scores of a query fit one buffer, so the softmax is exact in two passes
 * (max, then exp and sum) and {@code Oᵀ[x][i] = Σ_{y', j} P[y', j][i] · Vᵀ[y'][x][i + sMin + j]}
 * ({@link MicroKernels#shiftedValues}). Two adjacent query rows share the loads of their common key rows.
 *
 * <p>Work items are (batch·head, run of query rows, as long as the thread count allows); each
 * transposes the K and V rows its windows reach once, into a ring of ky + 2 rows. Every query's arithmetic is the same whatever the thread count.
 */
final class ShiftedKernel2d {
    private ShiftedKernel2d() {}

    /** Query columns per unit (one AVX-512 vector, two AVX2 vectors). */
    static final int UNIT = 16;

    /** Whether this kernel computes the problem: 2-D, dilation and stride 1, not causal, rows contiguous. */
    static boolean applies(int[] grid, int[] kernel, int[] dilation, int[] stride, boolean[] causal, Tensor q, Tensor k, Tensor v) {
        if (Boolean.getBoolean("attn4j.neighborhood.noShifted")) return false;
        if (grid.length != 2) return false;
        for (int a = 0; a < 2; a++) {
            if (dilation[a] != 1 || stride[a] != 1 || causal[a] || kernel[a] > grid[a]) return false;
        }
        return q.stride(3) == 1 && k.stride(3) == 1 && v.stride(3) == 1;
    }

    /** Output {@code [B, H, N, Dv]} and executed FLOPs. */
    record Result(Tensor output, long flops) {}

    static Result run(Tensor q, Tensor k, Tensor v, int[] grid, int[] kernel, float scale, int threads) {
        int batch = q.dim(0), hq = q.dim(1), n = q.dim(2), d = q.dim(3), dv = v.dim(3);
        int group = hq / k.dim(1);
        int rowsH = grid[0], w = grid[1];
        float[] out = new float[Math.multiplyExact(Math.multiplyExact(batch * hq, n), dv)];
        // Runs of query rows per item: as long as the thread count allows (each item transposes the
        // key rows its windows reach, ky − 1 more than its query rows), at least 2.
        int heads = batch * hq, workers = Parallel.resolveThreads(threads);
        int splits = Math.max(1, Math.min((4 * workers + heads - 1) / heads, (rowsH + 1) / 2));
        int per = (rowsH + splits - 1) / splits;
        per += per % 2;
        int rowsPer = per;
        int chunks = (rowsH + rowsPer - 1) / rowsPer;
        long items = (long) batch * hq * chunks;
        if (items > Integer.MAX_VALUE) throw new IllegalArgumentException("neighborhood: too many work items: " + items);
        MicroKernels mk = MicroKernels.get();
        java.util.Queue<Scratch> scratches = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Parallel.forEach(threads, (int) items, t -> {
            Scratch s = new Scratch(grid, kernel, d, dv);
            scratches.add(s);
            return s;
        }, (item, s) -> {
            int bh = item / chunks, chunk = item % chunks;
            int b = bh / hq, h = bh % hq;
            int y0 = chunk * rowsPer, y1 = Math.min(rowsH, y0 + rowsPer);
            rows(q, k, v, b, h, h / group, y0, y1, grid, kernel, scale, mk, s, out);
        });
        long flops = 0;
        for (Scratch s : scratches) flops += s.flops;
        return new Result(Tensor.of(out, batch, hq, n, dv), flops);
    }

    /** Window start along an extent of {@code len} for position t, kernel kk (NATTEN's rule, stride 1). */
    static int start(int t, int kk, int len) {
        return Math.max(0, Math.min(t - kk / 2, len - kk));
    }

    private static void rows(Tensor q, Tensor k, Tensor v, int b, int h, int hk, int y0, int y1, int[] grid, int[] kernel,
                             float scale, MicroKernels mk, Scratch s, float[] out) {
        int rowsH = grid[0], w = grid[1], ky = kernel[0], kx = kernel[1];
        int d = q.dim(3), dv = v.dim(3), n = q.dim(2);
        int ld = s.ld, pad = kx - 1;
        // Transposed rows, in rings: Qᵀ (scaled) of the current query rows, Kᵀ and Vᵀ of the key rows
        // their windows reach (windows only move forward as y grows).
        int qBase = q.offset() + b * q.stride(0) + h * q.stride(1), qs = q.stride(2);
        int kBase = k.offset() + b * k.stride(0) + hk * k.stride(1), ks = k.stride(2);
        int vBase = v.offset() + b * v.stride(0) + hk * v.stride(1), vs = v.stride(2);
        int ring = s.ring, next = start(y0, ky, rowsH);
        int outBase = (b * q.dim(1) + h) * n;
        for (int y = y0; y < y1; y += 2) {
            boolean two = y + 1 < y1;
            int wa = start(y, ky, rowsH), wb = two ? start(y + 1, ky, rowsH) : wa;
            for (int r = 0; r < (two ? 2 : 1); r++) {
                packRow(mk, s, q.data(), qBase + (y + r) * w * qs, qs, d, w, scale, s.qT, r * d * ld + pad, ld);
            }
            for (; next < Math.max(wa, wb) + ky; next++) {
                int slot = next % ring;
                packRow(mk, s, k.data(), kBase + next * w * ks, ks, d, w, 1f, s.kT, slot * d * ld + pad, ld);
                packRow(mk, s, v.data(), vBase + next * w * vs, vs, dv, w, 1f, s.vT, slot * dv * ld + pad, ld);
            }
            for (int i0 = 0; i0 < w; i0 += UNIT) {
                int cols = Math.min(UNIT, w - i0);
                int sMin = Integer.MAX_VALUE, sMax = Integer.MIN_VALUE;
                for (int i = i0; i < i0 + cols; i++) {
                    int lo = start(i, kx, w) - i;
                    sMin = Math.min(sMin, lo);
                    sMax = Math.max(sMax, lo + kx - 1);
                }
                int shifts = sMax - sMin + 1;
                int block = shifts * UNIT; // one key row's scores in the buffer
                int qa = pad + i0, qb = two ? qa + d * ld : -1;
                // Scores: key rows both query rows see once for both, the others for one row.
                for (int yk = Math.min(wa, wb); yk < Math.max(wa, wb) + ky; yk++) {
                    boolean seenA = yk >= wa && yk < wa + ky, seenB = two && yk >= wb && yk < wb + ky;
                    int k0 = (yk % ring) * d * ld + pad + i0 + sMin;
                    int sa = (yk - wa) * block, sb = s.half + (yk - wb) * block;
                    if (seenA && seenB) {
                        mk.shiftedScores(d, cols, shifts, s.qT, qa, qb, s.kT, k0, ld, s.sc, sa, sb, UNIT);
                    } else if (seenA) {
                        mk.shiftedScores(d, cols, shifts, s.qT, qa, -1, s.kT, k0, ld, s.sc, sa, 0, UNIT);
                    } else if (seenB) {
                        mk.shiftedScores(d, cols, shifts, s.qT, qb, -1, s.kT, k0, ld, s.sc, sb, 0, UNIT);
                    }
                }
                s.flops += 2L * (two ? 2 : 1) * ky * shifts * cols * (d + dv);
                softmax(mk, s, 0, i0, cols, sMin, shifts, kx, w, ky);
                if (two) softmax(mk, s, s.half, i0, cols, sMin, shifts, kx, w, ky);
                // Values: key rows both query rows see once for both (their V loads shared).
                Arrays.fill(s.o, 0, (two ? 2 : 1) * dv * UNIT, 0f);
                int ob = dv * UNIT;
                for (int yk = Math.min(wa, wb); yk < Math.max(wa, wb) + ky; yk++) {
                    boolean seenA = yk >= wa && yk < wa + ky, seenB = two && yk >= wb && yk < wb + ky;
                    int v0 = (yk % ring) * dv * ld + pad + i0 + sMin;
                    int pa = (yk - wa) * block, pb = s.half + (yk - wb) * block;
                    if (seenA && seenB) {
                        mk.shiftedValues(dv, cols, shifts, s.sc, pa, pb, UNIT, s.vT, v0, ld, s.o, 0, ob, UNIT);
                    } else if (seenA) {
                        mk.shiftedValues(dv, cols, shifts, s.sc, pa, -1, UNIT, s.vT, v0, ld, s.o, 0, 0, UNIT);
                    } else if (seenB) {
                        mk.shiftedValues(dv, cols, shifts, s.sc, pb, -1, UNIT, s.vT, v0, ld, s.o, ob, 0, UNIT);
                    }
                }
                write(mk, s, 0, 0, y, i0, cols, w, dv, outBase, out);
                if (two) write(mk, s, s.half, ob, y + 1, i0, cols, w, dv, outBase, out);
            }
        }
    }

    /**
     * Transposes one grid row ({@code w} tokens of {@code len} features, token i at
     * {@code src[base + i·stride]}) into columns of {@code dst} (feature x at {@code dst[off + x·ld + i]}),
     * times alpha. A row whose tokens are contiguous is first copied into a scratch buffer: the
     * transposing gathers touch 16 rows at once, which the hardware prefetcher does not follow, and read
     * straight from q/k/v (megabytes, out of cache) they took half the kernel's time; after one sequential
     * copy they read from L1/L2 (a 64 × 64 row: 3.4 → 1.6 µs, measured).
     */
    private static void packRow(MicroKernels mk, Scratch s, float[] src, int base, int stride, int len, int w,
                                float alpha, float[] dst, int off, int ld) {
        int[] idx = s.idx;
        if (stride == len) {
            System.arraycopy(src, base, s.stage, 0, w * len);
            for (int i = 0; i < w; i++) idx[i] = i * len;
            mk.packTransposed(len, w, s.stage, idx, alpha, dst, off, ld);
        } else {
            for (int i = 0; i < w; i++) idx[i] = base + i * stride;
            mk.packTransposed(len, w, src, idx, alpha, dst, off, ld);
        }
    }

    /** Masks a unit's edge lanes and runs the softmax (max, exp, sums) over its ky·shifts scores at {@code base}. */
    private static void softmax(MicroKernels mk, Scratch s, int base, int i0, int cols, int sMin, int shifts, int kx, int w, int ky) {
        int rows = ky * shifts;
        float[] sc = s.sc;
        if (shifts != kx) {
            // Edge unit: lane i sees shifts [start(i) − i − sMin, … + kx); the others are −inf in every key row.
            for (int c = 0; c < cols; c++) {
                int i = i0 + c, lo = start(i, kx, w) - i - sMin;
                for (int j = 0; j < shifts; j++) {
                    if (j >= lo && j < lo + kx) continue;
                    for (int t = 0; t < ky; t++) sc[base + (t * shifts + j) * UNIT + c] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        int r = base == 0 ? 0 : 1;
        mk.columnMax(sc, base, rows, cols, UNIT, s.max);
        mk.expColumns(sc, base, rows, cols, UNIT, s.max, s.sum[r]);
    }

    /** Normalises a unit's transposed output (at {@code oOff}) and writes its rows. */
    private static void write(MicroKernels mk, Scratch s, int base, int oOff, int y, int i0, int cols, int w, int dv, int outBase, float[] out) {
        float[] sum = s.sum[base == 0 ? 0 : 1];
        for (int c = 0; c < cols; c++) {
            s.inv[c] = 1f / sum[c];
            s.outRow[c] = (outBase + y * w + i0 + c) * dv;
        }
        mk.unpackTransposed(dv, cols, s.o, oOff, UNIT, s.inv, out, s.outRow);
    }

    /** Per-thread buffers for one work item. */
    private static final class Scratch {
        final int ld;
        final float[] qT, kT, vT, sc, o, max, inv, stage;
        final float[][] sum;
        final int half, ring;
        final int[] idx, outRow;
        long flops;

        Scratch(int[] grid, int[] kernel, int d, int dv) {
            int w = grid[1], ky = kernel[0], kx = kernel[1];
            ld = w + 2 * (kx - 1);
            ring = ky + 2;
            qT = new float[2 * d * ld];
            kT = new float[ring * d * ld];
            vT = new float[ring * dv * ld];
            int maxShifts = UNIT - 1 + kx;
            half = ky * maxShifts * UNIT;
            sc = new float[2 * half];
            o = new float[2 * dv * UNIT];
            max = new float[UNIT];
            sum = new float[2][UNIT];
            inv = new float[UNIT];
            idx = new int[w];
            stage = new float[w * Math.max(d, dv)];
            outRow = new int[UNIT];
        }
    }
}
