package org.attn4j.spark.attention;

import java.io.Serializable;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;

/**
 * The parts of an {@link AttentionSpec} that travel to executors: scale, causal alignment, window,
 * lengths, ALiBi and soft-cap. Explicit masks and biases ([.., Nq, Nk], as large as the keys) are
 * refused rather than broadcast.
 */
record SpecWire(Float scale, CausalAlignment causal, int windowLeft, int windowRight, int[] kvLengths, int[] qLengths,
                boolean alibi, float[] alibiSlopes, float softcap, int threads) implements Serializable {

    static SpecWire of(AttentionSpec s) {
        if (s.mask() != null) throw new IllegalArgumentException("spec.mask: explicit masks are not supported by DistributedAttention (use causal, window or kvLengths)");
        if (s.bias() != null) throw new IllegalArgumentException("spec.bias: explicit biases are not supported by DistributedAttention (ALiBi is)");
        if (s.returnProbs()) throw new IllegalArgumentException("spec.returnProbs: partials carry no probabilities");
        return new SpecWire(s.scale(), s.causal(), s.windowLeft(), s.windowRight(), s.kvLengths(), s.qLengths(), s.alibi(),
                s.alibiSlopes(), s.softcap(), s.threads() == 0 ? 1 : s.threads());
    }

    /** The spec an executor runs (one thread per task unless the caller asked for more). */
    AttentionSpec spec() {
        AttentionSpec.Builder b = AttentionSpec.builder().scale(scale).causal(causal).window(windowLeft, windowRight)
                .kvLengths(kvLengths).qLengths(qLengths).alibi(alibi).softcap(softcap).threads(threads);
        if (alibiSlopes != null) b.alibiSlopes(alibiSlopes);
        return b.build();
    }
}
