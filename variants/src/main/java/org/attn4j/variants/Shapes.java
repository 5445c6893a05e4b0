package org.attn4j.variants;

import java.util.Arrays;
import org.attn4j.core.tensor.Tensor;

/**
 * The dimensions of an attention call, validated once where the input enters a variant:
 * {@code q [B, H, Nq, D]}, {@code k [B, Hkv, Nk, D]}, {@code v [B, Hkv, Nk, Dv]}, {@code H % Hkv == 0}.
 */
public record Shapes(int batch, int heads, int kvHeads, int nq, int nk, int d, int dv) {

    /** Validates and returns the dimensions; errors name the argument and both shapes. */
    public static Shapes of(Tensor q, Tensor k, Tensor v) {
        rank4("q", q);
        rank4("k", k);
        rank4("v", v);
        int b = q.dim(0), h = q.dim(1), nq = q.dim(2), d = q.dim(3);
        if (k.dim(0) != b) throw mismatch("k", "batch " + b, k);
        if (v.dim(0) != b) throw mismatch("v", "batch " + b, v);
        if (k.dim(3) != d) throw mismatch("k", "head dim D=" + d + " (from q)", k);
        if (v.dim(1) != k.dim(1) || v.dim(2) != k.dim(2)) throw mismatch("v", "[B, Hkv, Nk] = " + Arrays.toString(Arrays.copyOf(k.shape(), 3)) + " (from k)", v);
        int hkv = k.dim(1);
        if (hkv == 0 || h % hkv != 0) throw new IllegalArgumentException("k: query heads H=" + h + " must be a multiple of kv heads Hkv=" + hkv);
        return new Shapes(b, h, hkv, nq, k.dim(2), d, v.dim(3));
    }

    /** Also requires Nq == Nk (self-attention over one token sequence or grid). */
    public static Shapes self(Tensor q, Tensor k, Tensor v) {
        Shapes s = of(q, k, v);
        if (s.nq != s.nk) throw new IllegalArgumentException("k: this variant is self-attention and needs Nk = Nq = " + s.nq + ", got Nk = " + s.nk);
        return s;
    }

    /** Also requires H == Hkv (no grouped-query sharing). */
    public Shapes requireSameHeads() {
        if (heads != kvHeads) throw new IllegalArgumentException("k: this variant needs as many kv heads as query heads (" + heads + "), got " + kvHeads);
        return this;
    }

    /** The kv head that query head h reads. */
    public int kvHead(int h) { return h / (heads / kvHeads); }

    /** Rows × cols copy of head (b, h) of a [B, H, N, X] tensor, row-major. */
    public static float[] head(Tensor t, int b, int h) {
        int n = t.dim(2), x = t.dim(3);
        float[] out = new float[n * x];
        float[] d = t.data();
        int base = t.offset() + b * t.stride(0) + h * t.stride(1), s2 = t.stride(2), s3 = t.stride(3);
        for (int i = 0; i < n; i++) {
            int p = base + i * s2;
            if (s3 == 1) System.arraycopy(d, p, out, i * x, x);
            else for (int c = 0; c < x; c++) out[i * x + c] = d[p + c * s3];
        }
        return out;
    }

    /**
     * Batch entry b of a [B, H, N, X] tensor with its heads side by side: row t is
     * {@code concat_h t[b, h, t, :]}, an {@code N × H·X} row-major copy (the layer input that
     * variants working on whole hidden states reconstruct from per-head tensors).
     */
    public static float[] mergedHeads(Tensor t, int b) {
        int heads = t.dim(1), n = t.dim(2), x = t.dim(3), width = heads * x;
        float[] out = new float[n * width];
        for (int h = 0; h < heads; h++) {
            float[] head = head(t, b, h);
            for (int i = 0; i < n; i++) System.arraycopy(head, i * x, out, i * width + h * x, x);
        }
        return out;
    }

    /** Writes a row-major {@code N × X} head into (b, h) of a contiguous [B, H, N, X] array. */
    public static void putHead(float[] dst, int heads, int n, int x, int b, int h, float[] head) {
        System.arraycopy(head, 0, dst, ((b * heads + h) * n) * x, n * x);
    }

    private static void rank4(String name, Tensor t) {
        if (t == null) throw new IllegalArgumentException(name + ": missing");
        if (t.rank() != 4) throw new IllegalArgumentException(name + ": expected rank 4 [B, H, N, D], got shape " + Arrays.toString(t.shape()));
    }

    private static IllegalArgumentException mismatch(String name, String expected, Tensor t) {
        return new IllegalArgumentException(name + ": expected " + expected + ", got shape " + Arrays.toString(t.shape()));
    }
}
