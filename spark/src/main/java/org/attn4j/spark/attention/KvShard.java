package org.attn4j.spark.attention;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.attn4j.core.tensor.Tensor;

/**
 * Keys and values {@code [keyOffset, keyOffset + length)} of a sequence of {@code totalKeys} keys:
 * {@code k} is [B, Hkv, length, D] and {@code v} is [B, Hkv, length, Dv], both row-major.
 */
public record KvShard(int keyOffset, int totalKeys, int batch, int kvHeads, int length, int d, int dv, float[] k, float[] v)
        implements Serializable {
    public KvShard {
        if (batch < 1 || kvHeads < 1 || length < 1 || d < 1 || dv < 1) {
            throw new IllegalArgumentException("shape: expected B, Hkv, length, D, Dv >= 1, got [" + batch + ", " + kvHeads + ", " + length + ", " + d + ", " + dv + "]");
        }
        if (keyOffset < 0 || keyOffset + length > totalKeys) {
            throw new IllegalArgumentException("keyOffset: expected keys [" + keyOffset + ", " + (keyOffset + length) + ") inside [0, " + totalKeys + ")");
        }
        if (k == null || k.length != (long) batch * kvHeads * length * d) throw new IllegalArgumentException("k: expected " + (long) batch * kvHeads * length * d + " values, got " + (k == null ? "null" : k.length));
        if (v == null || v.length != (long) batch * kvHeads * length * dv) throw new IllegalArgumentException("v: expected " + (long) batch * kvHeads * length * dv + " values, got " + (v == null ? "null" : v.length));
    }

    /** Keys {@code [from, to)} of {@code k} [B, Hkv, N, D] and {@code v} [B, Hkv, N, Dv] (any strides), copied. */
    public static KvShard slice(Tensor k, Tensor v, int from, int to) {
        if (k.rank() != 4 || v.rank() != 4) throw new IllegalArgumentException("k, v: expected rank 4 [B, Hkv, N, D], got ranks " + k.rank() + " and " + v.rank());
        int n = k.dim(2);
        if (v.dim(0) != k.dim(0) || v.dim(1) != k.dim(1) || v.dim(2) != n) {
            throw new IllegalArgumentException("v: expected [" + k.dim(0) + ", " + k.dim(1) + ", " + n + ", Dv], got " + java.util.Arrays.toString(v.shape()));
        }
        if (from < 0 || to > n || from >= to) throw new IllegalArgumentException("range: expected 0 <= from < to <= " + n + ", got [" + from + ", " + to + ")");
        return new KvShard(from, n, k.dim(0), k.dim(1), to - from, k.dim(3), v.dim(3), copy(k, from, to), copy(v, from, to));
    }

    /** {@code shards} contiguous shards of nearly equal length covering all keys, in key order. */
    public static List<KvShard> split(Tensor k, Tensor v, int shards) {
        int n = k.dim(2);
        if (shards < 1 || shards > n) throw new IllegalArgumentException("shards: expected 1.." + n + " (one key at least per shard), got " + shards);
        List<KvShard> out = new ArrayList<>(shards);
        for (int s = 0; s < shards; s++) out.add(slice(k, v, (int) ((long) n * s / shards), (int) ((long) n * (s + 1) / shards)));
        return out;
    }

    public Tensor keys() { return Tensor.of(k, batch, kvHeads, length, d); }
    public Tensor values() { return Tensor.of(v, batch, kvHeads, length, dv); }

    private static float[] copy(Tensor t, int from, int to) {
        int b = t.dim(0), h = t.dim(1), d = t.dim(3), len = to - from;
        float[] out = new float[b * h * len * d];
        int o = 0;
        for (int i = 0; i < b; i++) for (int j = 0; j < h; j++) for (int n = from; n < to; n++) for (int c = 0; c < d; c++) out[o++] = t.get(i, j, n, c);
        return out;
    }
}
