package org.attn4j.variants.trainable;

import java.util.List;
import java.util.Map;
import org.attn4j.core.parallel.Parallel;

/**
 * {@code cog} (P35, "More Expressive Attention with Negative Weights"), trainable and causal:
 * {@code a_ij = sign(s_ij)·exp(|s_ij|) / Σ_{j'≤i} exp(|s_ij'|)}, {@code s = scale·q·k},
 * {@code o_i = Σ_{j≤i} a_ij v_j}; as {@link org.attn4j.variants.heads.CogAttention} with
 * {@code causal=true}. No parameters. Backward: see {@link Softmax64#backward} with {@code signed}.
 */
public final class CogTrainable extends Float64Attention {
    private final double scale;

    /** @param scale logit scale; 0 means 1/√D */
    public CogTrainable(double scale) {
        if (!(scale >= 0 && Double.isFinite(scale))) throw new IllegalArgumentException("scale: expected a finite number ≥ 0 (0 = 1/sqrt(D)), got " + scale);
        this.scale = scale;
    }

    @Override public String name() { return "cog"; }

    @Override
    public List<TrainableParam> parameters(int heads, int headDim, int seqLen) { return List.of(); }

    private record State(Dims dims, double scale, double[][] q, double[][] k, double[][] v, double[][] output, double[][] lse) implements Saved64 {}

    @Override
    public Saved64 forward64(Dims dims, double[][] q, double[][] k, double[][] v, Map<String, double[]> weights, int threads) {
        double sc = scale > 0 ? scale : 1 / Math.sqrt(dims.d());
        double[][] out = new double[dims.bh()][dims.n() * dims.dv()], lse = new double[dims.bh()][dims.n()];
        Parallel.forEach(threads, dims.bh(), w -> null, (bh, u) ->
                Softmax64.forward(q[bh], k[bh], v[bh], dims.n(), dims.d(), dims.dv(), sc, Softmax64.CAUSAL, true, out[bh], lse[bh]));
        return new State(dims, sc, q, k, v, out, lse);
    }

    @Override
    public void backward64(Saved64 saved, double[][] dOut, double[][] dq, double[][] dk, double[][] dv, Map<String, double[]> grads, int threads) {
        State s = (State) saved;
        Dims dims = s.dims();
        Parallel.forEach(threads, dims.bh(), w -> null, (bh, u) ->
                Softmax64.backward(s.q()[bh], s.k()[bh], s.v()[bh], s.output()[bh], s.lse()[bh], dOut[bh], dims.n(), dims.d(), dims.dv(),
                        s.scale(), Softmax64.CAUSAL, true, dq[bh], dk[bh], dv[bh]));
    }
}
