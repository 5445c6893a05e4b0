package org.attn4j.core.kernel;

import org.attn4j.core.attention.AttentionProblem;
import org.attn4j.core.mask.MaskSemantics;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Tensor;

/**
 * The oracle: for every query row, all Nk logits in float64, {@link MaskSemantics#logit}, a
 * two-pass softmax in float64 and the weighted sum of values in float64. No tiling, no tricks:
 * every other kernel is tested against this one.
 */
public final class ReferenceKernel {
    private ReferenceKernel() {}

    /**
     * @param out   [B, Hq, Nq, Dv] row-major
     * @param lse   [B, Hq, Nq] or null
     * @param probs [B, Hq, Nq, Nk] or null (probabilities over the keys held by k/v)
     */
    public static void run(AttentionProblem p, float[] out, float[] lse, float[] probs, int threads) {
        run(p, out, null, lse, probs, threads);
    }

    /**
     * The same computation with the output kept in float64 ([B, Hq, Nq, Dv] row-major): the forward
     * that finite-difference checks of the backward pass differentiate, free of fp32 output rounding.
     */
    public static double[] forward64(AttentionProblem p, int threads) {
        double[] out = new double[Math.multiplyExact(p.batch * p.qHeads * p.nq, p.dv)];
        run(p, null, out, null, null, threads);
        return out;
    }

    private static void run(AttentionProblem p, float[] out, double[] out64, float[] lse, float[] probs, int threads) {
        int rows = p.batch * p.qHeads * p.nq;
        int perTask = Math.max(1, 4096 / Math.max(1, p.localKeys));
        int tasks = (rows + perTask - 1) / perTask;
        Parallel.forEach(threads, tasks, w -> new double[Math.max(p.localKeys, 1) + p.dv], (task, scratch) -> {
            int end = Math.min(rows, (task + 1) * perTask);
            for (int row = task * perTask; row < end; row++) row(p, row, scratch, out, out64, lse, probs);
        });
    }

    /**
     * The float64 logits of query row (b, h, i) over the keys k holds: {@code logit[jl]} for key
     * {@code keyOffset + jl}, −inf where it is not visible ({@link MaskSemantics#logit}), and, when
     * {@code scaled} is not null, {@code scaled[jl] = scale·q·k} before the mask's steps (set only
     * inside the band). Returns the row maximum (−inf when no key is visible). Shared by the forward
     * and {@link ReferenceBackward}, so both see the same logits.
     */
    static double logits(AttentionProblem p, int b, int h, int i, double[] logit, double[] scaled) {
        MaskSemantics mask = p.mask;
        Tensor q = p.q, k = p.k;
        float[] qd = q.data(), kd = k.data();
        int qBase = q.offset() + b * q.stride(0) + h * q.stride(1) + i * q.stride(2);
        int kBase = k.offset() + b * k.stride(0) + (h / p.group) * k.stride(1);
        double max = Double.NEGATIVE_INFINITY;
        int lo = mask.keyStart(b, i), hi = mask.keyEnd(b, i);
        for (int jl = 0; jl < p.localKeys; jl++) {
            int j = jl + p.keyOffset;
            double value = Double.NEGATIVE_INFINITY;
            if (j >= lo && j < hi) {
                double dot = 0;
                int kRow = kBase + jl * k.stride(2);
                for (int x = 0; x < p.d; x++) dot += (double) qd[qBase + x * q.stride(3)] * kd[kRow + x * k.stride(3)];
                double s0 = dot * p.scale;
                if (scaled != null) scaled[jl] = s0;
                value = mask.logit(b, h, i, j, s0);
            }
            logit[jl] = value;
            if (value > max) max = value;
        }
        return max;
    }

    private static void row(AttentionProblem p, int row, double[] scratch, float[] out, double[] out64, float[] lse, float[] probs) {
        int i = row % p.nq;
        int h = (row / p.nq) % p.qHeads;
        int b = row / (p.nq * p.qHeads);
        int hk = h / p.group;
        int n = p.localKeys;
        MaskSemantics mask = p.mask;
        Tensor q = p.q, k = p.k, v = p.v;
        float[] qd = q.data(), kd = k.data(), vd = v.data();
        int vBase = v.offset() + b * v.stride(0) + hk * v.stride(1);
        double[] s = scratch;
        double max = logits(p, b, h, i, s, null);
        int outBase = row * p.dv;
        if (max == Double.NEGATIVE_INFINITY) {
            if (out != null) java.util.Arrays.fill(out, outBase, outBase + p.dv, 0f);
            if (out64 != null) java.util.Arrays.fill(out64, outBase, outBase + p.dv, 0.0);
            if (lse != null) lse[row] = Float.NEGATIVE_INFINITY;
            if (probs != null) java.util.Arrays.fill(probs, row * n, row * n + n, 0f);
            return;
        }
        double z = 0;
        for (int jl = 0; jl < n; jl++) {
            double e = s[jl] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[jl] - max);
            s[jl] = e;
            z += e;
        }
        int accOff = Math.max(n, 1);
        java.util.Arrays.fill(s, accOff, accOff + p.dv, 0.0);
        for (int jl = 0; jl < n; jl++) {
            double w = s[jl] / z;
            if (probs != null) probs[row * n + jl] = (float) w;
            if (w == 0) continue;
            int vRow = vBase + jl * v.stride(2);
            for (int x = 0; x < p.dv; x++) s[accOff + x] += w * vd[vRow + x * v.stride(3)];
        }
        if (out != null) for (int x = 0; x < p.dv; x++) out[outBase + x] = (float) s[accOff + x];
        if (out64 != null) System.arraycopy(s, accOff, out64, outBase, p.dv);
        if (lse != null) lse[row] = (float) (max + Math.log(z));
    }
}
