package org.attn4j.variants.trainable;

import java.util.List;
import java.util.Map;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.variants.contentsparse.MobaParams;

/**
 * {@code moba} (P85, MoBA: Mixture of Block Attention), trainable; the same selection as
 * {@link org.attn4j.variants.contentsparse.MobaAttention}. Keys are cut into blocks of {@code block}
 * tokens; query i in block c attends its own block causally (keys c·block .. i) plus the
 * {@code topk − 1} past blocks b &lt; c with the largest gate {@code g(i, b) = q_i · mean(k in b)}
 * (every past block when there are at most topk − 1; ties to the earlier block); softmax attention
 * over that key set, scale 1/√D. No parameters: the paper's gate is parameter-free.
 *
 * <p>Backward: the selection is a discrete top-k and is not differentiated (as in the paper, whose
 * gate only routes); the gradient flows through the softmax attention over the selected keys, so
 * dq, dk, dv are those of exact attention restricted to each row's key set. The block means that
 * score the gate therefore get no gradient; k gets its gradient from being attended.
 */
public final class MobaTrainable extends Float64Attention {
    private final MobaParams params;

    public MobaTrainable(MobaParams params) {
        this.params = params;
    }

    @Override public String name() { return "moba"; }

    @Override
    public List<TrainableParam> parameters(int heads, int headDim, int seqLen) { return List.of(); }

    /** Block size on n tokens (a block longer than the sequence is the whole sequence). */
    int blockFor(int n) { return Math.min(params.blockFor(n), Math.max(1, n)); }

    /** The keys each row of one head attends, ascending: selected past blocks, then the own block up to i. */
    int[][] select(double[] q, double[] k, int n, int d) {
        int block = blockFor(n), nb = (n + block - 1) / block, want = params.topk() - 1;
        int past = nb - 1;
        double[] means = new double[Math.max(1, past) * d];
        for (int b = 0; b < past; b++) {
            for (int j = b * block; j < (b + 1) * block; j++) Softmax64.axpy(1.0 / block, k, j * d, means, b * d, d);
        }
        int[][] keys = new int[n][];
        double[] g = new double[Math.max(1, past)];
        for (int i = 0; i < n; i++) {
            int c = i / block;
            boolean[] chosen = new boolean[Math.max(1, c)];
            if (c <= want) {
                java.util.Arrays.fill(chosen, 0, c, true);
            } else {
                for (int b = 0; b < c; b++) g[b] = Softmax64.dot(q, i * d, means, b * d, d);
                for (int t = 0; t < want; t++) {
                    int best = -1;
                    for (int b = 0; b < c; b++) if (!chosen[b] && (best < 0 || g[b] > g[best])) best = b;
                    chosen[best] = true;
                }
            }
            int count = 0;
            for (int b = 0; b < c; b++) if (chosen[b]) count += block;
            int[] row = new int[count + i - c * block + 1];
            int at = 0;
            for (int b = 0; b < c; b++) if (chosen[b]) for (int j = b * block; j < (b + 1) * block; j++) row[at++] = j;
            for (int j = c * block; j <= i; j++) row[at++] = j;
            keys[i] = row;
        }
        return keys;
    }

    private record State(Dims dims, double[][] q, double[][] k, double[][] v, double[][] output, double[][] lse, int[][][] keys) implements Saved64 {}

    @Override
    public Saved64 forward64(Dims dims, double[][] q, double[][] k, double[][] v, Map<String, double[]> weights, int threads) {
        int n = dims.n(), d = dims.d(), dv = dims.dv();
        double[][] out = new double[dims.bh()][n * dv], lse = new double[dims.bh()][n];
        int[][][] keys = new int[dims.bh()][][];
        double scale = 1 / Math.sqrt(d);
        Parallel.forEach(threads, dims.bh(), w -> null, (bh, u) -> {
            keys[bh] = select(q[bh], k[bh], n, d);
            Softmax64.forward(q[bh], k[bh], v[bh], n, d, dv, scale, Softmax64.lists(keys[bh]), out[bh], lse[bh]);
        });
        return new State(dims, q, k, v, out, lse, keys);
    }

    @Override
    public void backward64(Saved64 saved, double[][] dOut, double[][] dq, double[][] dk, double[][] dv, Map<String, double[]> grads, int threads) {
        State s = (State) saved;
        Dims dims = s.dims();
        double scale = 1 / Math.sqrt(dims.d());
        Parallel.forEach(threads, dims.bh(), w -> null, (bh, u) ->
                Softmax64.backward(s.q()[bh], s.k()[bh], s.v()[bh], s.output()[bh], s.lse()[bh], dOut[bh], dims.n(), dims.d(), dims.dv(),
                        scale, Softmax64.lists(s.keys()[bh]), dq[bh], dk[bh], dv[bh]));
    }
}
