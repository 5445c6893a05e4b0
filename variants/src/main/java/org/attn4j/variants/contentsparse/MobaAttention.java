package org.attn4j.variants.contentsparse;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.attn4j.core.attention.AttentionPartial;
import org.attn4j.core.kernel.SoftmaxState;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P85 — MoBA: Mixture of Block Attention for Long-Context LLMs (Lu et al., 2025). Causal
 * self-attention in which every query attends only a few key blocks chosen by a parameter-free gate.
 *
 * <p>Input {@code q [B, H, N, D]}, {@code k [B, Hkv, N, D]}, {@code v [B, Hkv, N, Dv]}; output
 * {@code [B, H, N, Dv]}; scale {@code 1/sqrt(D)}. Keys are cut into blocks of {@code block} tokens
 * (the last may be shorter; see {@link MobaParams#blockFor}). Query i in block c = ⌊i/block⌋ attends
 * <pre>
 *   its own block, causally (keys c·block ≤ j ≤ i), and
 *   the topk − 1 blocks b &lt; c with the largest gates g(i, b) = q_i · mean(k_j : j in block b)
 * </pre>
 * (all past blocks when there are at most {@code topk − 1} of them; future blocks never; ties go to
 * the earlier block), as in the paper's reference code, where the own block counts toward top-k.
 * The result is exact softmax attention over that key set.
 *
 * <p>Computation (the paper's efficient form, no N × N mask): the own blocks run as causal flash
 * attention on views; for each key block the queries that selected it are gathered and attend the
 * block with the flash kernel; the partial states of a query merge by log-sum-exp. FLOPs counted: the
 * mean pooling, the gates actually evaluated (2·D each) and 2·(D + Dv) per visible (query, key) pair.
 */
public final class MobaAttention implements Variant {
    /** Floats of per-query partial states held at once (heads are processed in passes under it). */
    private static final long STATE_BUDGET = 1L << 23;

    private final MobaParams params;

    public MobaAttention(MobaParams params) {
        if (params == null) throw new IllegalArgumentException("params: expected MobaParams, got null");
        this.params = params;
    }

    public MobaParams params() { return params; }

    @Override
    public boolean causal() {
        return true;
    }

    @Override
    public VariantInfo info() {
        return new VariantInfo("moba", "P85", "MoBA: Mixture of Block Attention for Long-Context LLMs", Family.S, true,
                "causal; each query attends its own block plus the top-k-1 past key blocks by q . mean(block keys)");
    }

    /**
     * The past blocks query rows select, per (b, h) head: {@code result[b·H + h][i]} lists the selected
     * block indices of query i (the own block is implicit): best gate first when gates decide, latest
     * block first when every past block is taken (at most {@code topk − 1} of them; no gate is evaluated).
     */
    public int[][][] selection(Tensor q, Tensor k, Tensor v) {
        Shapes s = Shapes.self(q, k, v);
        int[][][] out = new int[s.batch() * s.heads()][][];
        for (int bh = 0; bh < out.length; bh++) {
            int block = blockFor(s.nq());
            Head hd = new Head(s, q, k, bh / s.heads(), bh % s.heads(), block, topkFor(s.nq(), block));
            int nb = (s.nq() + block - 1) / block;
            float[] scratch = new float[block * Math.max(1, s.nq() / block)];
            for (int c = 0; c < nb; c++) hd.select(c, scratch, MicroKernels.get());
            out[bh] = new int[s.nq()][];
            for (int i = 0; i < s.nq(); i++) out[bh][i] = Arrays.copyOfRange(hd.sel, i * hd.stride, i * hd.stride + hd.count[i]);
        }
        return out;
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        int th = Parallel.resolveThreads(threads);
        int n = s.nq(), d = s.d(), dv = s.dv(), block = blockFor(n), topk = topkFor(n, block);
        int heads = s.batch() * s.heads();
        float[] out = new float[Math.multiplyExact(heads * n, dv)];
        if (n == 0 || heads == 0) return new VariantResult(Tensor.of(out, s.batch(), s.heads(), n, dv), 0);
        int nb = (n + block - 1) / block, nFull = n / block;
        float scale = (float) (1.0 / Math.sqrt(d));
        long perHead = (long) n * topk * (dv + 2) + 2L * n * d;
        int pass = (int) Math.max(1, Math.min(heads, STATE_BUDGET / Math.max(1, perHead)));
        AtomicLong flops = new AtomicLong();
        MicroKernels mk = MicroKernels.get();
        for (int h0 = 0; h0 < heads; h0 += pass) {
            final int first = h0, count = Math.min(pass, heads - h0);
            Head[] hs = new Head[count];
            SubsetAttention.States[] st = new SubsetAttention.States[count];
            // 1. Block means and per-head copies.
            Parallel.forEach(th, count, w -> null, (x, u) -> {
                int bh = first + x;
                hs[x] = new Head(s, q, k, bh / s.heads(), bh % s.heads(), block, topk);
                st[x] = new SubsetAttention.States(n * topk, dv);
            });
            // 2. Gates and top-k, per (head, query block).
            Parallel.forEach(th, count * nb, w -> new float[block * Math.max(1, nFull)],
                    (item, scratch) -> hs[item / nb].select(item % nb, scratch, mk));
            // 3. Attention work items: own blocks (causal) and gathered queries per key block.
            int[][] lists = new int[count * nFull][];
            int[][] slots = new int[count * nFull][];
            for (int x = 0; x < count; x++) hs[x].byKeyBlock(lists, slots, x * nFull);
            int items = count * (nb + nFull);
            Integer[] order = new Integer[items];
            long[] cost = new long[items];
            for (int it = 0; it < items; it++) {
                order[it] = it;
                int x = it / (nb + nFull), r = it % (nb + nFull);
                if (r < nb) {
                    long len = Math.min(block, n - r * block);
                    cost[it] = len * (len + 1) / 2;
                } else {
                    cost[it] = (long) lists[x * nFull + r - nb].length * block;
                }
            }
            Arrays.sort(order, (a, b) -> Long.compare(cost[b], cost[a]));
            Parallel.forEach(th, items, w -> null, (o, u) -> {
                int it = order[o];
                int x = it / (nb + nFull), r = it % (nb + nFull);
                if (cost[it] == 0) return;
                Head hd = hs[x];
                SubsetAttention.States sx = st[x];
                if (r < nb) {
                    int row0 = r * block, len = Math.min(block, n - row0);
                    AttentionPartial p = SubsetAttention.partial(SubsetAttention.view(q, hd.b, hd.h, row0, len), SubsetAttention.view(k, hd.b, hd.kvh, row0, len),
                            SubsetAttention.view(v, hd.b, hd.kvh, row0, len), scale, true, null, null);
                    float[] pm = p.max(), pl = p.sum(), pa = p.acc();
                    for (int c = 0; c < len; c++) SoftmaxState.merge(sx.m, sx.l, sx.acc, (row0 + c) * topk, pm, pl, pa, c, dv);
                } else {
                    int kb = r - nb;
                    int[] rows = lists[x * nFull + kb], slot = slots[x * nFull + kb];
                    AttentionPartial p = SubsetAttention.partial(SubsetAttention.gather(hd.q, d, rows, 0, rows.length), SubsetAttention.view(k, hd.b, hd.kvh, kb * block, block),
                            SubsetAttention.view(v, hd.b, hd.kvh, kb * block, block), scale, false, null, null);
                    float[] pm = p.max(), pl = p.sum(), pa = p.acc();
                    for (int c = 0; c < rows.length; c++) SoftmaxState.merge(sx.m, sx.l, sx.acc, rows[c] * topk + slot[c], pm, pl, pa, c, dv);
                }
            });
            // 4. Merge each query's partials (own block in slot 0) and normalise.
            int chunk = 256, chunks = (n + chunk - 1) / chunk;
            Parallel.forEach(th, count * chunks, w -> null, (item, u) -> {
                int x = item / chunks, i0 = (item % chunks) * chunk, i1 = Math.min(n, i0 + chunk);
                SubsetAttention.States sx = st[x];
                Head hd = hs[x];
                int base = (first + x) * n * dv;
                for (int i = i0; i < i1; i++) {
                    int r0 = i * topk;
                    for (int t = 1; t <= hd.count[i]; t++) SoftmaxState.merge(sx.m, sx.l, sx.acc, r0, sx.m, sx.l, sx.acc, r0 + t, dv);
                    SoftmaxState.finish(sx.m[r0], sx.l[r0], sx.acc, r0 * dv, out, base + i * dv, dv);
                }
            });
            long f = 0;
            for (int x = 0; x < count; x++) f += hs[x].flops(dv);
            flops.addAndGet(f);
        }
        return new VariantResult(Tensor.of(out, s.batch(), s.heads(), n, dv), flops.get());
    }

    /** The block size on n tokens: a block longer than the sequence is the whole sequence (N + block − 1 must not overflow). */
    private int blockFor(int n) {
        return Math.min(params.blockFor(n), Math.max(1, n));
    }

    /**
     * The top-k budget that can actually be used on n tokens: at most the number of blocks (a larger
     * topk means every past block; per-query state is sized by it).
     */
    private int topkFor(int n, int block) {
        return (int) Math.max(1, Math.min(params.topk(), (n + (long) block - 1) / block));
    }

    /** One (batch, head): copies of its queries, block means of its keys, and the selection. */
    private static final class Head {
        final int b, h, kvh, n, d, block, nb, nFull, stride, want;
        final float[] q, means;
        final int[] sel, count;
        long gateFlops;

        Head(Shapes s, Tensor qt, Tensor kt, int b, int h, int block, int topk) {
            this.b = b;
            this.h = h;
            this.kvh = s.kvHead(h);
            this.n = s.nq();
            this.d = s.d();
            this.block = block;
            this.nb = (n + block - 1) / block;
            this.nFull = n / block;
            this.stride = Math.max(1, topk - 1);
            this.want = topk - 1;
            this.q = Shapes.head(qt, b, h);
            this.sel = new int[n * stride];
            this.count = new int[n];
            // Mean-pooled keys of the full blocks (only full blocks are ever a query's past block).
            int m = Math.min(nFull, Math.max(0, nb - 1));
            means = new float[Math.max(1, m) * d];
            int base = kt.offset() + b * kt.stride(0) + kvh * kt.stride(1);
            float[] kd = kt.data();
            for (int c = 0; c < m; c++) {
                for (int j = c * block; j < (c + 1) * block; j++) {
                    int p0 = base + j * kt.stride(2);
                    for (int x = 0; x < d; x++) means[c * d + x] += kd[p0 + x * kt.stride(3)];
                }
                float inv = 1f / block;
                for (int x = 0; x < d; x++) means[c * d + x] *= inv;
            }
            gateFlops = (long) m * block * d;
        }

        /** Selects the past blocks of the queries of block c. */
        void select(int c, float[] g, MicroKernels mk) {
            int row0 = c * block, rows = Math.min(block, n - row0);
            int keep = Math.min(want, c);
            if (keep == 0) return;
            if (c <= want) {
                // Every past block is taken: no gate needed.
                for (int i = row0; i < row0 + rows; i++) {
                    for (int j = 0; j < c; j++) sel[i * stride + j] = c - 1 - j;
                    count[i] = c;
                }
                return;
            }
            mk.gemmTransB(rows, c, d, q, row0 * d, d, means, 0, d, g, 0, c);
            synchronized (this) {
                gateFlops += 2L * rows * c * d;
            }
            for (int r = 0; r < rows; r++) {
                int i = row0 + r, o = i * stride, got = 0;
                for (int j = 0; j < c; j++) {
                    float val = g[r * c + j];
                    if (got == keep && !(val > g[r * c + sel[o + got - 1]])) continue;
                    int p = Math.min(got, keep - 1);
                    // Shift smaller gates down; equal gates stay ahead (the earlier block wins a tie).
                    while (p > 0 && val > g[r * c + sel[o + p - 1]]) {
                        sel[o + p] = sel[o + p - 1];
                        p--;
                    }
                    sel[o + p] = j;
                    if (got < keep) got++;
                }
                count[i] = got;
            }
        }

        /** For every full key block: the queries that selected it and their state slots (1..). */
        void byKeyBlock(int[][] lists, int[][] slots, int at) {
            int[] fill = new int[nFull];
            for (int i = 0; i < n; i++) for (int t = 0; t < count[i]; t++) fill[sel[i * stride + t]]++;
            for (int j = 0; j < nFull; j++) {
                lists[at + j] = new int[fill[j]];
                slots[at + j] = new int[fill[j]];
            }
            Arrays.fill(fill, 0);
            for (int i = 0; i < n; i++) {
                for (int t = 0; t < count[i]; t++) {
                    int j = sel[i * stride + t];
                    lists[at + j][fill[j]] = i;
                    slots[at + j][fill[j]++] = t + 1;
                }
            }
        }

        /** Gating plus the two attention products over every visible (query, key) pair. */
        long flops(int dv) {
            long pairs = 0;
            for (int i = 0; i < n; i++) pairs += (long) count[i] * block + (i - (i / block) * block + 1);
            return gateFlops + 2L * (d + dv) * pairs;
        }
    }
}
