package org.attn4j.core.attention;

import java.util.Arrays;
import org.attn4j.core.kernel.SparseKernel;
import org.attn4j.core.mask.KeyBlock;
import org.attn4j.core.mask.KeyPattern;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Tensor;

/**
 * Block-sparse exact attention: softmax attention in which query i sees only the keys that a
 * {@link KeyPattern} lists for it, computed by the flash kernel's tiled online-softmax loop over
 * those keys alone (no Nq × Nk mask, no tile outside the pattern). Local and structured patterns
 * (neighbourhood attention in 1-D/2-D/3-D, dilated or strided windows, blocks) run in time
 * proportional to the keys they see.
 *
 * <pre>{@code
 * SparseAttention.Result r = SparseAttention.run(q, k, v, pattern, null, 0);
 * Tensor out = r.output();   // [B, Hq, Nq, Dv]
 * }</pre>
 *
 * For batch b, query head h (kv head {@code h / (Hq/Hkv)}) and query i:
 * {@code out[b,h,i] = Σ_{j ∈ V(i)} softmax_j(scale·q·k_j)·v_j} over the visible set V(i) of the
 * pattern (the same for every batch entry and head); an empty V(i) gives 0 and log-sum-exp −inf.
 * Equal, up to fp32 rounding, to {@link Attention#sdpa} with the dense boolean mask of V.
 * Inputs may be strided views; they are not scanned for NaN or infinity. Results do not depend on
 * the thread count.
 */
public final class SparseAttention {
    private SparseAttention() {}

    /**
     * @param output [B, Hq, Nq, Dv]
     * @param lse    [B, Hq, Nq] natural-log log-sum-exp of each query's visible logits (−inf when none)
     * @param flops  floating-point operations of the two matrix products actually executed
     *               ({@code 2·rows·cols·(D + Dv)} per computed score tile; skipped keys cost nothing)
     */
    public record Result(Tensor output, Tensor lse, long flops) {}

    /**
     * Runs block-sparse attention.
     *
     * @param q       [B, Hq, Nq, D]
     * @param k       [B, Hkv, Nk, D], Hq a multiple of Hkv
     * @param v       [B, Hkv, Nk, Dv]
     * @param pattern which keys each query sees; {@code queries() == Nq}, {@code keys() == Nk}
     * @param scale   logit scale, null for 1/sqrt(D)
     * @param threads worker threads, 0 for all cores
     * @throws IllegalArgumentException on bad shapes, or a pattern that breaks its contract (a query
     *         in no block or in two, a key out of range or listed twice in a block, a bad interval, a
     *         block with more queries or spans than its stated bounds)
     */
    public static Result run(Tensor q, Tensor k, Tensor v, KeyPattern pattern, Float scale, int threads) {
        // Shapes only: no finiteness scan of the inputs (a full pass over Q, K and V, comparable to the sparse work itself).
        AttentionProblem p = AttentionProblem.of(q, k, v, AttentionSpec.builder().scale(scale).validate(false).build());
        if (threads < 0) throw new IllegalArgumentException("threads: expected >= 1 (or 0 for all processors), got " + threads);
        if (pattern == null) throw new IllegalArgumentException("pattern: expected a KeyPattern, got null");
        if (pattern.queries() != p.nq) {
            throw new IllegalArgumentException("pattern: queries() must equal Nq=" + p.nq + " (q shape " + Arrays.toString(q.shape())
                    + "), got " + pattern.queries());
        }
        if (pattern.keys() != p.nk) {
            throw new IllegalArgumentException("pattern: keys() must equal Nk=" + p.nk + " (k shape " + Arrays.toString(k.shape())
                    + "), got " + pattern.keys());
        }
        validate(pattern);
        int rows = p.batch * p.qHeads * p.nq;
        float[] out = new float[Math.multiplyExact(rows, p.dv)];
        float[] lse = new float[rows];
        long flops = SparseKernel.run(q, k, v, pattern, p.scale, out, lse, Parallel.resolveThreads(threads));
        return new Result(Tensor.of(out, p.batch, p.qHeads, p.nq, p.dv), Tensor.of(lse, p.batch, p.qHeads, p.nq), flops);
    }

    /** Checks the pattern's contract once per call (O(Nq + listed keys), single pass over the blocks). */
    static void validate(KeyPattern pattern) {
        int nq = pattern.queries(), nk = pattern.keys();
        int maxQ = pattern.maxBlockQueries(), maxS = pattern.maxBlockSpans();
        if (pattern.blocks() < 0) throw new IllegalArgumentException("pattern: blocks() must be >= 0, got " + pattern.blocks());
        if (maxQ < 1 || maxS < 1) {
            throw new IllegalArgumentException("pattern: maxBlockQueries() and maxBlockSpans() must be >= 1, got " + maxQ + " and " + maxS);
        }
        KeyBlock kb = new KeyBlock(maxQ, maxS);
        boolean[] seen = new boolean[nq];
        int[] stamp = new int[nk];
        int covered = 0;
        for (int blk = 0; blk < pattern.blocks(); blk++) {
            kb.clear();
            try {
                pattern.describe(blk, kb);
            } catch (IllegalStateException e) {
                // KeyBlock misuse: more queries or spans than maxBlockQueries()/maxBlockSpans(), or visible() before addQuery/addSpan.
                throw new IllegalArgumentException("pattern: describe(" + blk + ") breaks the KeyBlock contract (maxBlockQueries() = " + maxQ
                        + ", maxBlockSpans() = " + maxS + "): " + e.getMessage(), e);
            }
            for (int c = 0; c < kb.queryCount(); c++) {
                int i = kb.query(c);
                if (i < 0 || i >= nq) throw new IllegalArgumentException("pattern: block " + blk + " lists query " + i + " outside [0, " + nq + ")");
                if (seen[i]) throw new IllegalArgumentException("pattern: query " + i + " is in two blocks (again in block " + blk + ")");
                seen[i] = true;
                covered++;
            }
            for (int s = 0; s < kb.spanCount(); s++) {
                int first = kb.first(s), len = kb.length(s), step = kb.step(s);
                long last = first + (long) (len - 1) * step;
                if (len < 0 || step < 1 || first < 0 || (len > 0 && (last >= nk || last < 0))) {
                    throw new IllegalArgumentException("pattern: block " + blk + " span " + s + " (first " + first + ", length " + len
                            + ", step " + step + ") must lie inside [0, " + nk + ") with step >= 1");
                }
                for (int u = 0; u < len; u++) {
                    int j = first + u * step;
                    if (stamp[j] == blk + 1) throw new IllegalArgumentException("pattern: block " + blk + " lists key " + j + " in two spans");
                    stamp[j] = blk + 1;
                }
                for (int c = 0; c < kb.queryCount(); c++) {
                    int lo = kb.lo(s, c), hi = kb.hi(s, c);
                    if (lo < hi && (lo < 0 || hi > len)) {
                        throw new IllegalArgumentException("pattern: block " + blk + " span " + s + " query column " + c + " interval ["
                                + lo + ", " + hi + ") must lie inside [0, " + len + "]");
                    }
                }
            }
        }
        if (covered != nq) {
            for (int i = 0; i < nq; i++) {
                if (!seen[i]) throw new IllegalArgumentException("pattern: query " + i + " is in no block (" + covered + " of " + nq + " covered)");
            }
        }
    }
}
