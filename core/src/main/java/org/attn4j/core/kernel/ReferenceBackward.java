package org.attn4j.core.kernel;

import org.attn4j.core.attention.AttentionProblem;
import org.attn4j.core.mask.MaskSemantics;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Layout;
import org.attn4j.core.tensor.Tensor;

/**
 * The oracle of the backward pass, in float64 and without tricks: for every query row it recomputes
 * the logits and the probabilities P from scratch (it does not trust the forward's output or lse),
 * then, with dPⱼ = dO·Vⱼ and D = Σⱼ Pⱼ·dPⱼ,
 * <pre>
 *   dSⱼ  = Pⱼ·(dPⱼ − D)                      ∂loss/∂logit (= dBias)
 *   dS₀ⱼ = dSⱼ·(1 − tanh²(s₀ⱼ/cap))          through the soft-cap (factor 1 without it)
 *   dQ   = scale·Σⱼ dS₀ⱼ·Kⱼ,   dKⱼ += scale·dS₀ⱼ·Q,   dVⱼ += Pⱼ·dO
 * </pre>
 * Masked keys have P = 0 and contribute nothing; a row that sees no key contributes nothing.
 * Work is split by (batch, kv head), so dK and dV of a kv head sum the query heads that share it
 * without races; with a bias gradient requested it runs on one thread (dBias may be broadcast
 * across heads and batch entries).
 */
public final class ReferenceBackward {
    private ReferenceBackward() {}

    /**
     * @param dq    [B, Hq, Nq, D] row-major, overwritten
     * @param dk    [B, Hkv, Nk, D] row-major, overwritten
     * @param dv    [B, Hkv, Nk, Dv] row-major, overwritten
     * @param dbias row-major with the shape of the spec's bias, overwritten; or null
     */
    public static void run(AttentionProblem p, Tensor dOut, float[] dq, float[] dk, float[] dv, float[] dbias, int threads) {
        double[] dbias64 = dbias == null ? null : new double[dbias.length];
        Layout dbiasAt = dbias == null ? null
                : Layout.contiguous(p.spec.bias().shape()).broadcastTo(new int[] {p.batch, p.qHeads, p.nq, p.nk});
        int units = p.batch * p.kvHeads;
        Parallel.forEach(dbias == null ? threads : 1, units, w -> new Row(p), (unit, row) -> {
            int b = unit / p.kvHeads, hk = unit % p.kvHeads;
            java.util.Arrays.fill(row.dk, 0.0);
            java.util.Arrays.fill(row.dv, 0.0);
            for (int g = 0; g < p.group; g++) {
                int h = hk * p.group + g;
                for (int i = 0; i < p.nq; i++) row(p, b, h, i, dOut, row, dq, dbias64, dbiasAt);
            }
            int kBase = (b * p.kvHeads + hk) * p.nk;
            for (int x = 0; x < p.nk * p.d; x++) dk[kBase * p.d + x] = (float) row.dk[x];
            for (int x = 0; x < p.nk * p.dv; x++) dv[kBase * p.dv + x] = (float) row.dv[x];
        });
        if (dbias != null) {
            for (int x = 0; x < dbias.length; x++) dbias[x] = (float) dbias64[x];
        }
    }

    /** Per-thread float64 buffers for one row and one kv head's dK, dV. */
    private static final class Row {
        final double[] s0, logit, prob, q, dO, dQ, dk, dv;

        Row(AttentionProblem p) {
            s0 = new double[p.nk];
            logit = new double[p.nk];
            prob = new double[p.nk];
            q = new double[p.d];
            dO = new double[p.dv];
            dQ = new double[p.d];
            dk = new double[p.nk * p.d];
            dv = new double[p.nk * p.dv];
        }
    }

    private static void row(AttentionProblem p, int b, int h, int i, Tensor dOut, Row r, float[] dq, double[] dbias, Layout dbiasAt) {
        MaskSemantics mask = p.mask;
        Tensor q = p.q, k = p.k, v = p.v;
        int hk = h / p.group;
        int n = p.nk, d = p.d, dv = p.dv;
        float[] qd = q.data(), kd = k.data(), vd = v.data(), dod = dOut.data();
        int qBase = q.offset() + b * q.stride(0) + h * q.stride(1) + i * q.stride(2);
        int kBase = k.offset() + b * k.stride(0) + hk * k.stride(1);
        int vBase = v.offset() + b * v.stride(0) + hk * v.stride(1);
        int oBase = dOut.offset() + b * dOut.stride(0) + h * dOut.stride(1) + i * dOut.stride(2);
        for (int x = 0; x < d; x++) r.q[x] = qd[qBase + x * q.stride(3)];
        for (int x = 0; x < dv; x++) r.dO[x] = dod[oBase + x * dOut.stride(3)];

        // Forward again: the forward's own logits, then a two-pass softmax in float64.
        double max = ReferenceKernel.logits(p, b, h, i, r.logit, r.s0);
        int dqBase = ((b * p.qHeads + h) * p.nq + i) * d;
        if (max == Double.NEGATIVE_INFINITY) {
            java.util.Arrays.fill(dq, dqBase, dqBase + d, 0f);
            return;
        }
        double z = 0;
        for (int j = 0; j < n; j++) {
            double e = r.logit[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(r.logit[j] - max);
            r.prob[j] = e;
            z += e;
        }
        for (int j = 0; j < n; j++) r.prob[j] /= z;

        // dP = dO·V, D = Σ P·dP; then back through softmax, soft-cap and the two products.
        double rowDot = 0;
        for (int j = 0; j < n; j++) {
            if (r.prob[j] == 0) {
                r.logit[j] = 0; // reused below as dP
                continue;
            }
            int vRow = vBase + j * v.stride(2);
            double dp = 0;
            for (int x = 0; x < dv; x++) dp += r.dO[x] * vd[vRow + x * v.stride(3)];
            r.logit[j] = dp;
            rowDot += r.prob[j] * dp;
        }
        java.util.Arrays.fill(r.dQ, 0.0);
        for (int j = 0; j < n; j++) {
            double pj = r.prob[j];
            if (pj == 0) continue;
            double ds = pj * (r.logit[j] - rowDot);
            if (dbias != null) {
                dbias[dbiasAt.offset() + b * dbiasAt.stride(0) + h * dbiasAt.stride(1) + i * dbiasAt.stride(2) + j * dbiasAt.stride(3)] += ds;
            }
            double ds0 = ds * mask.softcapDerivative(r.s0[j]) * p.scale;
            int kRow = kBase + j * k.stride(2);
            for (int x = 0; x < d; x++) r.dQ[x] += ds0 * kd[kRow + x * k.stride(3)];
            int dkRow = j * d;
            for (int x = 0; x < d; x++) r.dk[dkRow + x] += ds0 * r.q[x];
            int dvRow = j * dv;
            for (int x = 0; x < dv; x++) r.dv[dvRow + x] += pj * r.dO[x];
        }
        for (int x = 0; x < d; x++) dq[dqBase + x] = (float) r.dQ[x];
    }
}
