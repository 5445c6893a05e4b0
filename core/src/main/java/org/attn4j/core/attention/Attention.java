package org.attn4j.core.attention;

import org.attn4j.core.kernel.FlashBackward;
import org.attn4j.core.kernel.FlashKernel;
import org.attn4j.core.kernel.ReferenceBackward;
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
 *
 * <p>Gradients: {@link #backward} takes the forward's output and log-sum-exp (ask for them with
 * {@code returnLse(true)}: the fast kernels compute the lse anyway, so it costs nothing) and the
 * gradient of the loss with respect to the output, and returns dQ, dK, dV (and dBias):
 * <pre>{@code
 * AttentionSpec spec = AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).returnLse(true).build();
 * AttentionResult fwd = Attention.sdpa(q, k, v, spec);
 * AttentionGradients g = Attention.backward(q, k, v, fwd.output(), fwd.lse(), dOut, spec);
 * }</pre>
 */
public final class Attention {
    private Attention() {}

    /** Plain attention with default options. */
    public static AttentionResult sdpa(Tensor q, Tensor k, Tensor v) {
        return sdpa(q, k, v, AttentionSpec.defaults());
    }

    /** Attention as described by {@code spec}; throws IllegalArgumentException on bad input. */
    public static AttentionResult sdpa(Tensor q, Tensor k, Tensor v, AttentionSpec spec) {
        return forward(AttentionProblem.of(q, k, v, spec));
    }

    private static AttentionResult forward(AttentionProblem p) {
        AttentionSpec spec = p.spec;
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

    /**
     * The backward pass of {@link #sdpa} with the same {@code spec}: gradients of a scalar loss with
     * respect to q, k, v (and the bias when {@code spec.biasRequiresGrad()}), given
     * {@code dOut} = ∂loss/∂output.
     *
     * @param out  the forward's output [B, Hq, Nq, Dv] (any strided view)
     * @param lse  the forward's log-sum-exp [B, Hq, Nq] (−inf for rows that saw no key)
     * @param dOut ∂loss/∂output, [B, Hq, Nq, Dv] (any strided view)
     * @return dq, dk, dv with the shapes of q, k, v (row-major); rows that saw no key, and padded
     *         query rows, get zero gradients
     * @throws IllegalArgumentException naming the argument on bad input
     */
    public static AttentionGradients backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor lse, Tensor dOut, AttentionSpec spec) {
        AttentionProblem p = AttentionProblem.of(q, k, v, spec);
        AttentionProblem.checkBackwardInputs(p, out, lse, dOut);
        return backward(p, out, lse, dOut);
    }

    /** The backward on a validated problem whose out, lse and dOut have been checked. */
    private static AttentionGradients backward(AttentionProblem p, Tensor out, Tensor lse, Tensor dOut) {
        AttentionSpec spec = p.spec;
        int threads = Parallel.resolveThreads(spec.threads());
        Dispatcher.Decision decision = Dispatcher.chooseBackward(p, threads);
        float[] dq = new float[Math.multiplyExact(Math.multiplyExact(p.batch * p.qHeads, p.nq), p.d)];
        float[] dk = new float[Math.multiplyExact(Math.multiplyExact(p.batch * p.kvHeads, p.nk), p.d)];
        float[] dv = new float[Math.multiplyExact(Math.multiplyExact(p.batch * p.kvHeads, p.nk), p.dv)];
        Tensor bias = spec.bias();
        float[] dbias = spec.biasRequiresGrad() ? new float[Math.toIntExact(bias.size())] : null;
        switch (decision.kernel()) {
            case REFERENCE -> ReferenceBackward.run(p, dOut, dq, dk, dv, dbias, threads);
            case FLASH -> FlashBackward.run(p, out, lse, dOut, dq, dk, dv, dbias, threads);
            default -> throw new IllegalStateException("unexpected backward kernel " + decision.kernel());
        }
        return new AttentionGradients(Tensor.of(dq, p.q.shape()), Tensor.of(dk, p.k.shape()), Tensor.of(dv, p.v.shape()),
                dbias == null ? null : Tensor.of(dbias, bias.shape()), decision);
    }

    /**
     * {@link #sdpa} (with the log-sum-exp) followed by {@link #backward} for {@code dOut}: one call
     * for the common training step.
     */
    public static ForwardBackward forwardBackward(Tensor q, Tensor k, Tensor v, Tensor dOut, AttentionSpec spec) {
        if (spec == null) throw new IllegalArgumentException("spec: expected an AttentionSpec, got null");
        AttentionSpec withLse = spec.returnLse() ? spec : spec.toBuilder().returnLse(true).build();
        // One validated problem for both passes: the inputs are checked (and scanned) once, and the
        // output and lse the forward just made need no checking.
        AttentionProblem p = AttentionProblem.of(q, k, v, withLse);
        AttentionProblem.checkOutputGradient(p, dOut);
        AttentionResult fwd = forward(p);
        return new ForwardBackward(fwd, backward(p, fwd.output(), fwd.lse(), dOut));
    }

    /** The dispatch decision {@link #backward} would make, without running anything. */
    public static Dispatcher.Decision explainBackward(Tensor q, Tensor k, Tensor v, AttentionSpec spec) {
        return Dispatcher.chooseBackward(AttentionProblem.of(q, k, v, spec), Parallel.resolveThreads(spec.threads()));
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
