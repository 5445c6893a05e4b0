package org.attn4j.bench.sdpa;

/** One benchmark shape: [B, Hq, Nq, D] queries against [B, Hkv, Nk, D] keys. */
public record SdpaShape(int b, int hq, int hkv, int nq, int nk, int d, int dv, boolean causal) {

    /** Parses {@code B,H,N,D} (Nq = Nk = N) or {@code B,H,NQ,NK,D}. */
    public static SdpaShape parse(String text, Integer kvHeads, boolean causal) {
        String[] parts = text.split(",");
        int[] v = new int[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) v[i] = Integer.parseInt(parts[i].trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--shape: expected B,H,N,D or B,H,NQ,NK,D (whole numbers), got '" + text + "'");
        }
        SdpaShape s;
        if (v.length == 4) s = new SdpaShape(v[0], v[1], kvHeads == null ? v[1] : kvHeads, v[2], v[2], v[3], v[3], causal);
        else if (v.length == 5) s = new SdpaShape(v[0], v[1], kvHeads == null ? v[1] : kvHeads, v[2], v[3], v[4], v[4], causal);
        else throw new IllegalArgumentException("--shape: expected B,H,N,D or B,H,NQ,NK,D, got '" + text + "'");
        for (int x : v) if (x < 1) throw new IllegalArgumentException("--shape: every dimension must be >= 1, got '" + text + "'");
        if (s.hkv < 1 || s.hq % s.hkv != 0) {
            throw new IllegalArgumentException("--kv-heads: must divide H=" + s.hq + ", got " + s.hkv);
        }
        return s;
    }

    /** Visible (query, key) pairs: all of them, or the bottom-right-aligned causal triangle. */
    public double visiblePairs() {
        double per = 0;
        if (!causal) per = (double) nq * nk;
        else for (long i = 0; i < nq; i++) per += Math.max(0, Math.min(nk, i + nk - nq + 1));
        return per * b * hq;
    }

    /** Forward FLOPs: 2·(D + Dv) per visible pair (Q·Kᵀ and P·V), i.e. 4·B·H·Nq·Nk·D for D = Dv without a mask. */
    public double flops() {
        return 2.0 * (d + dv) * visiblePairs();
    }

    /**
     * How many forwards a backward counts as: five products over the visible pairs (S recomputed,
     * dV, dP, dK, dQ) against the forward's two, 10·D against 4·D per pair when D = Dv (the count
     * FlashAttention-2 uses; exp and the elementwise steps are not counted, as in the forward).
     */
    public static final double BACKWARD_FACTOR = 2.5;

    /** Backward FLOPs: {@link #BACKWARD_FACTOR} × {@link #flops()}, the same count for every implementation. */
    public double backwardFlops() {
        return BACKWARD_FACTOR * flops();
    }

    /** Forward + backward FLOPs: (1 + {@link #BACKWARD_FACTOR}) × {@link #flops()}. */
    public double forwardBackwardFlops() {
        return (1 + BACKWARD_FACTOR) * flops();
    }

    @Override
    public String toString() {
        return b + "x" + hq + (hkv != hq ? "/" + hkv : "") + "x" + (nq == nk ? String.valueOf(nq) : nq + "x" + nk) + "x" + d;
    }
}
