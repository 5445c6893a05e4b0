package org.attn4j.variants.contentsparse;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P93 — Training-free Context-adaptive Attention for Efficient Long Context Modeling
 * (TCA-Attention; You et al., 2025): training-free sparse attention that keeps, per head, only the
 * context tokens a cheap estimate marks as informative, then attends them exactly.
 *
 * <p>Input {@code q [B, H, N, D]}, {@code k [B, Hkv, N, D]}, {@code v [B, Hkv, N, Dv]}; output
 * {@code [B, H, N, Dv]}; scale {@code 1/sqrt(D)}. Queries are cut into blocks of {@code block}; for block
 * c with pooled query {@code q̄_c = mean(q_i : i in c)} and candidate keys C (the keys before the block
 * when causal, every key outside the block otherwise):
 * <pre>
 *   e_j = scale · q̄_c · k_j,   p̂_j = softmax_{j ∈ C}(e_j)                (the cheap estimate)
 *   rank C by e (ties: earlier key first); S_c = the shortest prefix with Σ p̂ ≥ threshold, at most topk keys
 *   out_i = softmax attention of q_i over S_c ∪ own block (causal inside the block when causal)
 * </pre>
 * The threshold makes the number of kept tokens adapt to the context and head (a peaked estimate
 * keeps few, a flat one many) under the {@code topk} budget. This is our reading of the paper's online
 * phase; its offline per-head budget calibration is not reproduced: the budget is a parameter.
 *
 * <p>Computation: the estimate is one row of dot products per query block (N·D·N/block in all); the
 * selected keys are gathered and attended with the flash kernel, the own block causally, merged by
 * log-sum-exp. No score is computed for an unselected key. FLOPs counted: the pooling and estimate
 * dot products and 2·(D + Dv) per attended (query, key) pair.
 */
public final class TcaAttention implements Variant {
    private final TcaParams params;

    public TcaAttention(TcaParams params) {
        if (params == null) throw new IllegalArgumentException("params: expected TcaParams, got null");
        this.params = params;
    }

    public TcaParams params() { return params; }

    @Override
    public boolean causal() {
        return params.causal();
    }

    @Override
    public VariantInfo info() {
        return new VariantInfo("tca-attention", "P93", "Training-free Context-adaptive Attention for Efficient Long Context Modeling",
                Family.S, true, "per query block, keys ranked by a pooled-query estimate; the prefix covering the mass threshold (<= topk) plus the own block, exact");
    }

    /** The keys selected for query block c of head (b, h), ascending (the own block not included). */
    public int[] selected(Tensor q, Tensor k, Tensor v, int b, int h, int c) {
        Shapes s = Shapes.self(q, k, v);
        if (b < 0 || b >= s.batch()) throw new IllegalArgumentException("b: expected 0.." + (s.batch() - 1) + ", got " + b);
        if (h < 0 || h >= s.heads()) throw new IllegalArgumentException("h: expected 0.." + (s.heads() - 1) + ", got " + h);
        int block = blockFor(s.nq()), blocks = (s.nq() + block - 1) / block;
        if (c < 0 || c >= blocks) throw new IllegalArgumentException("c: expected 0.." + (blocks - 1) + " (query blocks of " + block + "), got " + c);
        float[] qh = Shapes.head(q, b, h), kh = Shapes.head(k, b, s.kvHead(h));
        return select(qh, kh, s.nq(), s.d(), c, new long[1], new Scratch(s.nq()));
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        int th = Parallel.resolveThreads(threads);
        int n = s.nq(), d = s.d(), dv = s.dv(), heads = s.batch() * s.heads(), block = blockFor(n);
        float scale = (float) (1.0 / Math.sqrt(d));
        float[] out = new float[Math.multiplyExact(heads * n, dv)];
        if (n == 0 || heads == 0) return new VariantResult(Tensor.of(out, s.batch(), s.heads(), n, dv), 0);
        int nb = (n + block - 1) / block;
        float[][] qh = new float[heads][], kh = new float[heads][], vh = new float[heads][];
        Parallel.forEach(th, heads, x -> null, (bh, u) -> {
            int b = bh / s.heads(), h = bh % s.heads();
            qh[bh] = Shapes.head(q, b, h);
            kh[bh] = Shapes.head(k, b, s.kvHead(h));
            vh[bh] = Shapes.head(v, b, s.kvHead(h));
        });
        int[] identity = new int[n], never = new int[n];
        for (int j = 0; j < n; j++) identity[j] = j;
        Arrays.fill(never, Integer.MAX_VALUE);
        AtomicLong flops = new AtomicLong();
        // Later query blocks (more candidates when causal) first.
        Parallel.forEach(th, heads * nb, x -> new Scratch(n), (item, sc) -> {
            int bh = item / nb, c = nb - 1 - item % nb;
            int b = bh / s.heads(), h = bh % s.heads();
            int row0 = c * block, rows = Math.min(block, n - row0);
            long[] work = {0};
            int[] sel = select(qh[bh], kh[bh], n, d, c, work, sc);
            int[] keys = Arrays.copyOf(sel, sel.length + rows);
            for (int r = 0; r < rows; r++) keys[sel.length + r] = row0 + r;
            int[] qpos = new int[rows];
            for (int r = 0; r < rows; r++) qpos[r] = row0 + r;
            long[] pairs = {0};
            float[] o = SubsetAttention.attend(SubsetAttention.view(q, b, h, row0, rows), qpos, kh[bh], vh[bh], d, dv, keys, keys.length,
                    params.causal() ? identity : null, never, null, scale, pairs);
            System.arraycopy(o, 0, out, (bh * n + row0) * dv, o.length);
            flops.addAndGet(work[0] + 2L * (d + dv) * pairs[0]);
        });
        return new VariantResult(Tensor.of(out, s.batch(), s.heads(), n, dv), flops.get());
    }

    /** The query block on n tokens: a block longer than the sequence is the whole sequence (N + block − 1 must not overflow). */
    private int blockFor(int n) {
        return Math.min(params.block(), Math.max(1, n));
    }

    private static final class Scratch {
        final float[] e, p, shift, sums;
        final long[] order;

        Scratch(int n) {
            e = new float[Math.max(1, n)];
            p = new float[Math.max(1, n)];
            shift = new float[Math.max(1, n)];
            sums = new float[Math.max(1, n)];
            order = new long[Math.max(1, n)];
        }
    }

    /** The selection of query block c: candidates, estimate, best-first prefix under mass and budget. */
    private int[] select(float[] qh, float[] kh, int n, int d, int c, long[] work, Scratch sc) {
        int block = blockFor(n), row0 = c * block, rows = Math.min(block, n - row0), end = row0 + rows;
        int candidates = params.causal() ? row0 : n - rows;
        if (candidates == 0) return new int[0];
        float[] qbar = new float[d];
        for (int x = 0; x < d; x++) {
            double acc = 0;
            for (int r = row0; r < end; r++) acc += qh[r * d + x];
            qbar[x] = (float) (acc / rows * (1.0 / Math.sqrt(d)));
        }
        MicroKernels mk = MicroKernels.get();
        float[] e = sc.e;
        int span = params.causal() ? row0 : n;
        mk.gemmTransB(1, span, d, qbar, 0, d, kh, 0, d, e, 0, span);
        work[0] += (long) rows * d + 2L * span * d;
        // Order keys: e descending, then index ascending, packed into sortable longs.
        long[] order = sc.order;
        int m = 0;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < span; j++) {
            if (j >= row0 && j < end) continue;
            order[m++] = SubsetAttention.key(e[j], j);
            max = Math.max(max, e[j]);
        }
        int budget = Math.min(params.topk(), m);
        if (budget < m) SubsetAttention.smallest(order, m, budget);
        Arrays.sort(order, 0, budget);
        int keep = budget;
        if (params.threshold() < 1) {
            // p̂ up to the common factor: e^(e − max), vectorised over the candidates.
            float[] pe = sc.p;
            System.arraycopy(e, 0, pe, 0, span);
            Arrays.fill(sc.shift, 0, span, max);
            mk.expColumns(pe, 0, 1, span, span, sc.shift, sc.sums);
            double total = 0;
            for (int j = 0; j < span; j++) if (j < row0 || j >= end) total += pe[j];
            double need = params.threshold() * total, acc = 0;
            for (int t = 0; t < budget; t++) {
                acc += pe[SubsetAttention.index(order[t])];
                if (acc >= need) {
                    keep = t + 1;
                    break;
                }
            }
        }
        int[] out = new int[keep];
        for (int t = 0; t < keep; t++) out[t] = SubsetAttention.index(order[t]);
        Arrays.sort(out);
        return out;
    }
}
