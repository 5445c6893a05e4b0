package org.attn4j.core.attention;

import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;

/**
 * A second, independent oracle written straight from the definitions in the issue (no
 * MaskSemantics, no shared code with the kernels), used to check the reference kernel itself.
 * Only for small shapes: it reads every element through {@code Tensor.get}.
 */
final class NaiveAttention {
    private NaiveAttention() {}

    static double[] run(Tensor q, Tensor k, Tensor v, AttentionSpec spec) {
        int b = q.dim(0), hq = q.dim(1), nq = q.dim(2), d = q.dim(3);
        int hkv = k.dim(1), nk = k.dim(2), dv = v.dim(3);
        double scale = spec.scale() != null ? spec.scale() : 1.0 / Math.sqrt(d);
        double[] out = new double[b * hq * nq * dv];
        for (int bb = 0; bb < b; bb++) {
            int kvLen = spec.kvLengths() == null ? nk : spec.kvLengths()[bb];
            int qLen = spec.qLengths() == null ? nq : spec.qLengths()[bb];
            int off = kvLen - qLen;
            for (int h = 0; h < hq; h++) {
                int hk = h / (hq / hkv);
                for (int i = 0; i < nq; i++) {
                    double[] s = new double[nk];
                    boolean[] vis = new boolean[nk];
                    for (int j = 0; j < nk; j++) {
                        boolean visible = i < qLen && j < kvLen;
                        if (spec.causal() == CausalAlignment.TOP_LEFT) visible &= j <= i;
                        if (spec.causal() == CausalAlignment.BOTTOM_RIGHT) visible &= j <= i + off;
                        if (spec.windowLeft() != AttentionSpec.UNBOUNDED) visible &= j >= i + off - spec.windowLeft();
                        if (spec.windowRight() != AttentionSpec.UNBOUNDED) visible &= j <= i + off + spec.windowRight();
                        if (spec.mask() != null) visible &= broadcastGet(spec.mask(), bb, h, i, j);
                        double x = 0;
                        for (int c = 0; c < d; c++) x += (double) q.get(bb, h, i, c) * k.get(bb, hk, j, c);
                        x *= scale;
                        if (spec.softcap() > 0) x = spec.softcap() * Math.tanh(x / spec.softcap());
                        if (spec.alibi()) {
                            double slope = spec.alibiSlopes() != null ? spec.alibiSlopes()[h] : Math.pow(2, -8.0 * (h + 1) / hq);
                            x -= slope * Math.abs(i + off - j);
                        }
                        if (spec.bias() != null) x += broadcastGet(spec.bias(), bb, h, i, j);
                        if (x == Double.NEGATIVE_INFINITY) visible = false;
                        s[j] = x;
                        vis[j] = visible;
                    }
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < nk; j++) if (vis[j]) max = Math.max(max, s[j]);
                    int o = ((bb * hq + h) * nq + i) * dv;
                    if (max == Double.NEGATIVE_INFINITY) continue;
                    double z = 0;
                    for (int j = 0; j < nk; j++) if (vis[j]) z += Math.exp(s[j] - max);
                    for (int j = 0; j < nk; j++) {
                        if (!vis[j]) continue;
                        double w = Math.exp(s[j] - max) / z;
                        for (int c = 0; c < dv; c++) out[o + c] += w * v.get(bb, hk, j, c);
                    }
                }
            }
        }
        return out;
    }

    static boolean broadcastGet(BoolTensor m, int b, int h, int i, int j) {
        int[] idx = tail(m.shape(), b, h, i, j);
        return m.get(idx);
    }

    static float broadcastGet(Tensor m, int b, int h, int i, int j) {
        int[] idx = tail(m.shape(), b, h, i, j);
        return m.get(idx);
    }

    private static int[] tail(int[] shape, int... full) {
        int[] idx = new int[shape.length];
        int lead = full.length - shape.length;
        for (int a = 0; a < shape.length; a++) idx[a] = shape[a] == 1 ? 0 : full[a + lead];
        return idx;
    }
}
