package org.attn4j.core.attention;

import org.attn4j.core.kernel.FlashKernel;
import org.attn4j.core.kernel.ReferenceKernel;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Tensor;

/**
 * Scaled-dot-product attention, the engine's entry point.
 *
 * <pre>{@code
 * Tensor q = Tensor.of(qData, 1, 8, 128, 64);            // [B, Hq, Nq, D]
 * Tensor k = Tensor.of(kData, 1, 2, 128, 64);            // [B, Hkv, Nk, D] (GQA: Hq % Hkv == 0)
 * Tensor v = Tensor.of(vData, 1, 2, 128, 64);            // [B, Hkv, Nk, Dv]
 * AttentionResult r = Attention.sdpa(q, k, v, AttentionSpec.builder()
 *         .causal(CausalAlignment.BOTTOM_RIGHT).returnLse(true).build());
 * Tensor out = r.output();                               // [B, Hq, Nq, Dv]
 * }</pre>
 *
 * Inputs may be strided views (e.g. {@code [B, N, H, D]} buffers permuted to {@code [B, H, N, D]});
 * they are read in place, never copied whole.
 */
public final class Attention {
    private Attention() {}

    /** Plain attention with default options. */
    public static AttentionResult sdpa(Tensor q, Tensor k, Tensor v) {
        return sdpa(q, k, v, AttentionSpec.defaults());
    }

    /** Attention as described by {@code spec}; throws IllegalArgumentException on bad input. */
    public static AttentionResult sdpa(Tensor q, Tensor k, Tensor v, AttentionSpec spec) {
        AttentionProblem p = AttentionProblem.of(q, k, v, spec);
        int threads = Parallel.resolveThreads(spec.threads());
        Dispatcher.Decision decision = Dispatcher.choose(p, threads);
        int rows = p.batch * p.qHeads * p.nq;
        float[] out = new float[Math.multiplyExact(rows, p.dv)];
        float[] lse = spec.returnLse() ? new float[rows] : null;
        float[] probs = null;
        switch (decision.kernel()) {
            case REFERENCE -> {
                if (spec.returnProbs()) probs = new float[Math.multiplyExact(rows, p.nk)];
                ReferenceKernel.run(p, out, lse, probs, threads);
            }
            case FLASH, DECODE -> FlashKernel.run(p, out, lse, threads, decision.splits());
            default -> throw new IllegalStateException("unexpected kernel " + decision.kernel());
        }
        return new AttentionResult(Tensor.of(out, p.batch, p.qHeads, p.nq, p.dv),
                lse == null ? null : Tensor.of(lse, p.batch, p.qHeads, p.nq),
                probs == null ? null : Tensor.of(probs, p.batch, p.qHeads, p.nq, p.nk), decision);
    }

    /** The dispatch decision {@link #sdpa} would make, without running anything. */
    public static Dispatcher.Decision explain(Tensor q, Tensor k, Tensor v, AttentionSpec spec) {
        return Dispatcher.choose(AttentionProblem.of(q, k, v, spec), Parallel.resolveThreads(spec.threads()));
    }

    /**
     * Attention of all queries over a shard of the keys: {@code k} and {@code v} hold keys
     * {@code [keyOffset, keyOffset + k.dim(2))} of a sequence of {@code totalKeys} keys; masks,
     * biases, causal and window positions use the global key index. Merge the shards' partials with
     * {@link AttentionPartial#merge} and call {@link AttentionPartial#finish}.
     */
    public static AttentionPartial partial(Tensor q, Tensor k, Tensor v, AttentionSpec spec, int keyOffset, int totalKeys) {
        AttentionProblem p = AttentionProblem.of(q, k, v, spec, keyOffset, totalKeys);
        if (spec.returnProbs()) throw new IllegalArgumentException("returnProbs: partials carry no probabilities; call sdpa instead");
        AttentionPartial partial = AttentionPartial.empty(p.batch, p.qHeads, p.nq, p.dv);
        FlashKernel.run(p, Parallel.resolveThreads(spec.threads()), 1, (b, hk, t0, cols, m, l, a) -> partial.put(p, b, hk, t0, cols, m, l, a));
        return partial;
    }
}
