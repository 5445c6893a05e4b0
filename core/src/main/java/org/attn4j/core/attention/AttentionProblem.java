package org.attn4j.core.attention;

import java.util.Arrays;
import org.attn4j.core.mask.MaskSemantics;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Layout;
import org.attn4j.core.tensor.Tensor;

/**
 * One validated attention call: the inputs, their dimensions, the resolved scale and the compiled
 * {@link MaskSemantics}. Built only through {@link #of}, which checks everything and names the
 * argument, the expected and the actual value on failure.
 *
 * <p>{@code k} and {@code v} may hold a slice of the keys: keys {@code [keyOffset, keyOffset + k.dim(2))}
 * of a sequence of {@code totalKeys} keys (masks and biases are indexed by the global key index).
 */
public final class AttentionProblem {
    public final Tensor q, k, v;
    public final int batch, qHeads, kvHeads, group, nq, nk, d, dv;
    /** Keys held by k/v and the global index of the first one. */
    public final int localKeys, keyOffset;
    public final float scale;
    public final MaskSemantics mask;
    public final AttentionSpec spec;

    private AttentionProblem(Tensor q, Tensor k, Tensor v, AttentionSpec spec, int keyOffset, int totalKeys) {
        this.q = q;
        this.k = k;
        this.v = v;
        this.spec = spec;
        this.batch = q.dim(0);
        this.qHeads = q.dim(1);
        this.nq = q.dim(2);
        this.d = q.dim(3);
        this.kvHeads = k.dim(1);
        this.group = qHeads / kvHeads;
        this.localKeys = k.dim(2);
        this.keyOffset = keyOffset;
        this.nk = totalKeys;
        this.dv = v.dim(3);
        this.scale = spec.scale() != null ? spec.scale() : (float) (1.0 / Math.sqrt(d));
        int[] full = {batch, qHeads, nq, nk};
        BoolTensor mask = spec.mask() == null ? null : BoolTensor.view(spec.mask().data(), broadcast("mask", spec.mask().layout(), full));
        Tensor bias = spec.bias() == null ? null : Tensor.view(spec.bias().data(), broadcast("bias", spec.bias().layout(), full));
        float[] slopes = null;
        if (spec.alibi()) {
            slopes = spec.alibiSlopes() != null ? spec.alibiSlopes() : MaskSemantics.defaultAlibiSlopes(qHeads);
            if (slopes.length != qHeads) {
                throw new IllegalArgumentException("alibiSlopes: expected Hq=" + qHeads + " slopes (one per query head), got " + slopes.length);
            }
        }
        this.mask = new MaskSemantics(batch, qHeads, nq, nk, spec.causal(), spec.windowLeft(), spec.windowRight(),
                lengths("kvLengths", spec.kvLengths(), batch, nk, "Nk"), lengths("qLengths", spec.qLengths(), batch, nq, "Nq"),
                mask, bias, slopes, spec.softcap());
    }

    /** Validates a whole-sequence call. */
    public static AttentionProblem of(Tensor q, Tensor k, Tensor v, AttentionSpec spec) {
        if (k != null && k.rank() == 4) return of(q, k, v, spec, 0, k.dim(2));
        return of(q, k, v, spec, 0, 0);
    }

    /** Validates a call over a slice of the keys (see the class comment). */
    public static AttentionProblem of(Tensor q, Tensor k, Tensor v, AttentionSpec spec, int keyOffset, int totalKeys) {
        if (spec == null) throw new IllegalArgumentException("spec: expected an AttentionSpec, got null");
        rank4("q", q, "[B, Hq, Nq, D]");
        rank4("k", k, "[B, Hkv, Nk, D]");
        rank4("v", v, "[B, Hkv, Nk, Dv]");
        int b = q.dim(0), hq = q.dim(1), dd = q.dim(3);
        if (dd < 1) throw new IllegalArgumentException("q: head dimension D must be >= 1, got shape " + Arrays.toString(q.shape()));
        if (k.dim(0) != b) throw mismatch("k", k, 0, "B", b, "q");
        if (k.dim(3) != dd) throw mismatch("k", k, 3, "D", dd, "q");
        if (v.dim(0) != b) throw mismatch("v", v, 0, "B", b, "q");
        if (v.dim(1) != k.dim(1)) throw mismatch("v", v, 1, "Hkv", k.dim(1), "k");
        if (v.dim(2) != k.dim(2)) throw mismatch("v", v, 2, "Nk", k.dim(2), "k");
        if (v.dim(3) < 1) throw new IllegalArgumentException("v: value dimension Dv must be >= 1, got shape " + Arrays.toString(v.shape()));
        int hkv = k.dim(1);
        if (hkv < 1 || hq % hkv != 0) {
            throw new IllegalArgumentException("heads: query heads Hq=" + hq + " must be a positive multiple of key/value heads Hkv="
                    + hkv + " (q " + Arrays.toString(q.shape()) + ", k " + Arrays.toString(k.shape()) + ")");
        }
        if (keyOffset < 0 || totalKeys < keyOffset + k.dim(2)) {
            throw new IllegalArgumentException("keyOffset/totalKeys: the slice [" + keyOffset + ", " + (keyOffset + k.dim(2))
                    + ") must lie inside [0, totalKeys=" + totalKeys + ")");
        }
        if (spec.validate()) {
            finite("q", q, false);
            finite("k", k, false);
            finite("v", v, false);
            if (spec.bias() != null) finite("bias", spec.bias(), true);
        }
        return new AttentionProblem(q, k, v, spec, keyOffset, totalKeys);
    }

    /**
     * Checks the extra inputs of the backward pass: {@code out} and {@code dOut} [B, Hq, Nq, Dv],
     * {@code lse} [B, Hq, Nq] (finite or −inf), all required; and, as {@link #checkOutputGradient},
     * that a bias marked as needing a gradient exists.
     */
    static void checkBackwardInputs(AttentionProblem p, Tensor out, Tensor lse, Tensor dOut) {
        checkOutputGradient(p, dOut);
        shape("out", out, new int[] {p.batch, p.qHeads, p.nq, p.dv}, "[B, Hq, Nq, Dv]");
        shape("lse", lse, new int[] {p.batch, p.qHeads, p.nq}, "[B, Hq, Nq]");
        if (p.spec.validate()) {
            finite("out", out, false);
            finite("lse", lse, true);
        }
    }

    /**
     * Checks what a backward pass needs besides the forward's saved state (for callers that compute
     * that state themselves): {@code dOut} [B, Hq, Nq, Dv], finite; a bias when one is marked as
     * needing a gradient; the whole key sequence.
     */
    static void checkOutputGradient(AttentionProblem p, Tensor dOut) {
        shape("dOut", dOut, new int[] {p.batch, p.qHeads, p.nq, p.dv}, "[B, Hq, Nq, Dv]");
        if (p.spec.biasRequiresGrad() && p.spec.bias() == null) {
            throw new IllegalArgumentException("biasRequiresGrad: a bias gradient was requested but the spec has no bias");
        }
        if (p.keyOffset != 0 || p.localKeys != p.nk) {
            throw new IllegalArgumentException("keyOffset/totalKeys: the backward pass needs the whole key sequence");
        }
        if (p.spec.validate()) finite("dOut", dOut, false);
    }

    private static void shape(String name, Tensor t, int[] expected, String what) {
        if (t == null) {
            String hint = name.equals("lse") ? " (run sdpa with returnLse(true))" : "";
            throw new IllegalArgumentException(name + ": expected a tensor " + what + " = " + Arrays.toString(expected) + ", got null" + hint);
        }
        if (!Arrays.equals(t.shape(), expected)) {
            throw new IllegalArgumentException(name + ": expected shape " + what + " = " + Arrays.toString(expected) + ", got "
                    + Arrays.toString(t.shape()));
        }
    }

    /** Query rows per (batch, kv head) in the grouped layout: Nq × group. */
    public int groupedRows() { return nq * group; }

    /** Floating-point operations of the two matrix products (the usual attention FLOP count). */
    public double flops() {
        return 2.0 * batch * qHeads * (double) nq * nk * (d + dv);
    }

    private static void rank4(String name, Tensor t, String expected) {
        if (t == null) throw new IllegalArgumentException(name + ": expected a tensor " + expected + ", got null");
        if (t.rank() != 4) {
            throw new IllegalArgumentException(name + ": expected rank 4 " + expected + ", got rank " + t.rank() + " " + Arrays.toString(t.shape()));
        }
    }

    private static IllegalArgumentException mismatch(String name, Tensor t, int axis, String dimName, int expected, String from) {
        return new IllegalArgumentException(name + ": dimension " + axis + " (" + dimName + ") must equal " + from + "'s " + dimName + "="
                + expected + ", got " + t.dim(axis) + " (" + name + " shape " + Arrays.toString(t.shape()) + ")");
    }

    private static Layout broadcast(String name, Layout layout, int[] target) {
        Layout l = layout.rank() <= 4 ? layout.broadcastTo(target) : null;
        if (l == null) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(layout.shape()) + " is not broadcastable to [B, Hq, Nq, Nk] = "
                    + Arrays.toString(target));
        }
        return l;
    }

    private static int[] lengths(String name, int[] lengths, int batch, int max, String maxName) {
        if (lengths == null) return null;
        if (lengths.length != batch) {
            throw new IllegalArgumentException(name + ": expected " + batch + " entries (one per batch entry B), got " + lengths.length);
        }
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] < 0 || lengths[i] > max) {
                throw new IllegalArgumentException(name + "[" + i + "]: expected 0.." + maxName + "=" + max + ", got " + lengths[i]);
            }
        }
        return lengths.clone();
    }

    private static void finite(String name, Tensor t, boolean allowNegInf) {
        float[] data = t.data();
        if (t.isContiguous()) {
            int off = t.offset();
            long n = t.size();
            for (int i = 0; i < n; i++) {
                float x = data[off + i];
                if (!Float.isFinite(x) && !(allowNegInf && x == Float.NEGATIVE_INFINITY)) {
                    throw nonFinite(name, t, unravel(i, t.shape()), x, allowNegInf);
                }
            }
            return;
        }
        int[] shape = t.shape();
        int last = shape.length - 1;
        if (last >= 0 && t.stride(last) == 1 && t.size() > 0) {
            // A strided view whose rows are contiguous (e.g. q, k, v inside a fused QKV buffer):
            // scan row by row with plain indexing instead of a Layout lookup per element.
            int[] strides = t.strides();
            int[] idx = new int[last];
            int rowLen = shape[last];
            long rows = t.size() / rowLen;
            for (long r = 0; r < rows; r++) {
                int base = t.offset();
                for (int a = 0; a < last; a++) base += idx[a] * strides[a];
                for (int i = 0; i < rowLen; i++) {
                    float x = data[base + i];
                    if (!Float.isFinite(x) && !(allowNegInf && x == Float.NEGATIVE_INFINITY)) {
                        int[] at = java.util.Arrays.copyOf(idx, last + 1);
                        at[last] = i;
                        throw nonFinite(name, t, at, x, allowNegInf);
                    }
                }
                for (int a = last - 1; a >= 0; a--) {
                    if (++idx[a] < shape[a]) break;
                    idx[a] = 0;
                }
            }
            return;
        }
        int[] idx = new int[shape.length];
        long n = t.size();
        for (long o = 0; o < n; o++) {
            float x = t.get(idx);
            if (!Float.isFinite(x) && !(allowNegInf && x == Float.NEGATIVE_INFINITY)) throw nonFinite(name, t, idx.clone(), x, allowNegInf);
            for (int a = idx.length - 1; a >= 0; a--) {
                if (++idx[a] < shape[a]) break;
                idx[a] = 0;
            }
        }
    }

    private static int[] unravel(long flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int a = shape.length - 1; a >= 0; a--) {
            idx[a] = (int) (flat % shape[a]);
            flat /= shape[a];
        }
        return idx;
    }

    private static IllegalArgumentException nonFinite(String name, Tensor t, int[] idx, float x, boolean allowNegInf) {
        return new IllegalArgumentException(name + ": expected finite values" + (allowNegInf ? " or -inf" : "") + ", got " + x + " at "
                + Arrays.toString(idx) + " (shape " + Arrays.toString(t.shape()) + "; turn validation off to skip this scan)");
    }
}
