package org.attn4j.variants.linear;

import java.util.concurrent.atomic.AtomicLong;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.VariantResult;

/**
 * The shared engine of the kernelised (feature-map) attention family: for feature maps
 * φ_q, φ_k of width F it computes, per head,
 * <pre>
 *   num_i = Σ_{j ∈ J(i)} (φ_q(q_i)·φ_k(k_j)) v_j,   den_i = Σ_{j ∈ J(i)} φ_q(q_i)·φ_k(k_j),
 *   out_i = num_i / den_i   (normalised; a zero denominator gives a zero row)   or   out_i = num_i
 * </pre>
 * with J(i) all keys (non-causal) or keys j ≤ i (causal), in O(N·F·Dv) time and O(F·Dv + block·F)
 * memory: never anything N × N. The non-causal form accumulates S = Σ φ_k(k_j) v_jᵀ (F × Dv) and
 * z = Σ φ_k(k_j) over key blocks, then reads φ_q(q_i)ᵀ S and φ_q(q_i)·z per query block. The causal
 * form is chunked: inside a chunk of C tokens the masked C × C block of scores is multiplied
 * directly (quadratic in C only), earlier chunks enter through the running state (S, z), which is
 * then updated with the chunk's keys. Chunk 1 is the plain prefix-sum recurrence.
 *
 * <p>Exponential feature maps carry a log-shift per key ({@link FeatureMap#keyShift}): key j's
 * features are computed as φ_k(k_j)/e^{M_j}. In the non-causal form every key has the same shift,
 * which cancels in the normalisation. In the causal form M_j must be non-decreasing in j and depend
 * on keys ≤ j only (a running maximum): the score of (i, j ≤ i) is then rebuilt as
 * (φ_q(q_i)·φ_k(k_j)/e^{M_j})·e^{M_j − M_i} and the state is kept relative to the last shift, so
 * every factor is ≤ 1 (no overflow), the common factor e^{−M_i} of row i cancels, and row i reads
 * nothing after token i.
 */
final class LinearCore {
    private LinearCore() {}

    /** Row-block size of the non-causal passes. */
    static final int BLOCK = 128;

    /** Feature maps of one head. Implementations read their own copies of the head's q and k. */
    interface FeatureMap {
        /** Feature width F. */
        int dim();

        /** φ_q of query rows [r0, r0 + rows) into {@code out} (rows × F, row-major). */
        void queries(int r0, int rows, float[] out);

        /** φ_k of key rows [r0, r0 + rows), each divided by e^{keyShift(row)}, into {@code out} (rows × F). */
        void keys(int r0, int rows, float[] out);

        /** FLOPs spent per feature row (queries and keys alike), for the FLOP count. */
        long flopsPerRow();

        /**
         * True when {@link #keyShift} is not identically 0. Non-causal use needs one shift for all
         * keys; causal use needs a shift that is non-decreasing in j and a function of keys ≤ j.
         */
        default boolean shifted() { return false; }

        /** The log-shift M_j of key j's features. */
        default float keyShift(int j) { return 0f; }

        /**
         * Optionally writes the scores φ_q(q_i)·φ_k(k_j) for queries [q0, q0+qn) × keys [k0, k0+kn)
         * into {@code a} (row stride {@code lda}) by a cheaper route than the features (e.g. a
         * polynomial of q·k; only for maps without shifts); returns the FLOPs spent, or −1 to let the
         * engine use the features.
         */
        default long scores(int q0, int qn, int k0, int kn, float[] a, int lda) { return -1; }
    }

    /** Per-thread scratch buffers, grown on demand. */
    static final class Scratch {
        float[] fq = new float[0], fk = new float[0], s = new float[0], z = new float[0], a = new float[0];

        float[] fq(int n) { return fq.length >= n ? fq : (fq = new float[n]); }
        float[] fk(int n) { return fk.length >= n ? fk : (fk = new float[n]); }
        float[] s(int n) { return s.length >= n ? s : (s = new float[n]); }
        float[] z(int n) { return z.length >= n ? z : (z = new float[n]); }
        float[] a(int n) { return a.length >= n ? a : (a = new float[n]); }
    }

    /** Non-causal form: every query sees all {@code nk} keys. Writes nq × dv into {@code out}; returns FLOPs. */
    static long nonCausal(FeatureMap f, int nq, int nk, float[] v, int dv, boolean normalize, float[] out, Scratch sc) {
        if (f.shifted() && !normalize) throw new IllegalStateException("shifted features need the normalised form");
        MicroKernels mk = MicroKernels.get();
        int fd = f.dim();
        float[] s = sc.s(fd * dv), z = sc.z(fd);
        java.util.Arrays.fill(s, 0, fd * dv, 0f);
        java.util.Arrays.fill(z, 0, fd, 0f);
        float[] fk = sc.fk(BLOCK * fd), fq = sc.fq(BLOCK * fd);
        long flops = 0;
        for (int k0 = 0; k0 < nk; k0 += BLOCK) {
            int len = Math.min(BLOCK, nk - k0);
            f.keys(k0, len, fk);
            // S += φ(K_blk)ᵀ V_blk: A(i,p) = fk[p·F + i]
            mk.gemm(fd, dv, len, fk, 0, 1, fd, v, k0 * dv, dv, s, 0, dv, true);
            if (normalize) for (int r = 0; r < len; r++) mk.axpy(1f, fk, r * fd, z, 0, fd);
            flops += len * f.flopsPerRow() + 2L * len * fd * dv + (normalize ? 2L * len * fd : 0);
        }
        for (int q0 = 0; q0 < nq; q0 += BLOCK) {
            int len = Math.min(BLOCK, nq - q0);
            f.queries(q0, len, fq);
            mk.gemm(len, dv, fd, fq, 0, fd, 1, s, 0, dv, out, q0 * dv, dv, false);
            flops += len * f.flopsPerRow() + 2L * len * fd * dv;
            if (normalize) {
                for (int r = 0; r < len; r++) {
                    float den = mk.dot(fq, r * fd, z, 0, fd);
                    divide(out, (q0 + r) * dv, dv, den);
                }
                flops += len * (2L * fd + dv);
            }
        }
        return flops;
    }

    /**
     * Causal form by chunks of {@code chunk} tokens (self-attention, n queries and n keys). Writes
     * n × dv into {@code out}; returns FLOPs.
     */
    static long causal(FeatureMap f, int n, float[] v, int dv, int chunk, boolean normalize, float[] out, Scratch sc) {
        if (f.shifted() && !normalize) throw new IllegalStateException("shifted features need the normalised form");
        MicroKernels mk = MicroKernels.get();
        int fd = f.dim();
        int c = Math.max(1, Math.min(chunk, n));
        if ((long) c * c > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("chunk: the causal form holds a chunk × chunk block; expected chunk ≤ 46340 (or N), got " + chunk + " with N = " + n);
        }
        boolean shifted = f.shifted();
        float[] s = sc.s(fd * dv), z = sc.z(fd);
        java.util.Arrays.fill(s, 0, fd * dv, 0f);
        java.util.Arrays.fill(z, 0, fd, 0f);
        float[] fk = sc.fk(c * fd), fq = sc.fq(c * fd), a = sc.a(c * c);
        float[] m = shifted ? new float[c] : null, e = shifted ? new float[c] : null; // shifts M_j of the chunk's tokens
        float ref = 0f; // the shift the state (S, z) is relative to
        long flops = 0;
        for (int c0 = 0; c0 < n; c0 += c) {
            int len = Math.min(c, n - c0);
            f.queries(c0, len, fq);
            f.keys(c0, len, fk);
            flops += 2L * len * f.flopsPerRow();
            long sf = shifted ? -1 : f.scores(c0, len, c0, len, a, len);
            if (sf < 0) {
                mk.gemmTransB(len, len, fd, fq, 0, fd, fk, 0, fd, a, 0, len);
                sf = 2L * len * len * fd;
            }
            flops += sf;
            if (shifted) {
                for (int i = 0; i < len; i++) m[i] = f.keyShift(c0 + i);
                for (int i = 1; i < len; i++) {
                    System.arraycopy(m, 0, e, 0, i);
                    VecExp.exp(e, 0, i, m[i]); // e^{M_j − M_i} ≤ 1
                    for (int j = 0; j < i; j++) a[i * len + j] *= e[j];
                }
                flops += (long) len * len;
            }
            for (int i = 0; i < len; i++) for (int j = i + 1; j < len; j++) a[i * len + j] = 0f;
            // intra-chunk: num = A·V_c, plus the state of earlier chunks: num += φ(Q_c)·S (· e^{ref − M_i})
            mk.gemm(len, dv, len, a, 0, len, 1, v, c0 * dv, dv, out, c0 * dv, dv, false);
            flops += 2L * len * len * dv;
            if (c0 > 0) {
                if (shifted) {
                    // fold e^{ref − M_i} (≤ 1) into the query features of row i: it scales both φ_q·S and φ_q·z
                    for (int i = 0; i < len; i++) mk.scale(fq, i * fd, fd, (float) Math.exp((double) ref - m[i]));
                    flops += (long) len * fd;
                }
                mk.gemm(len, dv, fd, fq, 0, fd, 1, s, 0, dv, out, c0 * dv, dv, true);
                flops += 2L * len * fd * dv;
            }
            if (normalize) {
                for (int i = 0; i < len; i++) {
                    float den = 0f;
                    for (int j = 0; j <= i; j++) den += a[i * len + j];
                    if (c0 > 0) den += mk.dot(fq, i * fd, z, 0, fd);
                    divide(out, (c0 + i) * dv, dv, den);
                }
                flops += len * ((long) len + 2L * fd + dv);
            }
            if (c0 + len < n) {
                if (shifted) {
                    // move the state to the chunk's last shift, and the chunk's keys onto it too
                    float next = m[len - 1];
                    if (c0 > 0 && next != ref) {
                        float r = (float) Math.exp((double) ref - next);
                        mk.scale(s, 0, fd * dv, r);
                        mk.scale(z, 0, fd, r);
                        flops += (long) fd * dv + fd;
                    }
                    for (int j = 0; j < len; j++) mk.scale(fk, j * fd, fd, (float) Math.exp((double) m[j] - next));
                    flops += (long) len * fd;
                    ref = next;
                }
                mk.gemm(fd, dv, len, fk, 0, 1, fd, v, c0 * dv, dv, s, 0, dv, true);
                flops += 2L * len * fd * dv;
                if (normalize) {
                    for (int r = 0; r < len; r++) mk.axpy(1f, fk, r * fd, z, 0, fd);
                    flops += 2L * len * fd;
                }
            }
        }
        return flops;
    }

    /**
     * x[off..off+n) /= den; a zero (or non-finite) denominator leaves a zero row. A subnormal
     * denominator (features that underflowed) is divided element by element: its reciprocal would
     * overflow to Inf and turn the row into Inf/NaN.
     */
    static void divide(float[] x, int off, int n, float den) {
        if (den == 0f || !Float.isFinite(den)) {
            java.util.Arrays.fill(x, off, off + n, 0f);
        } else if (Float.isFinite(1f / den)) {
            MicroKernels.get().scale(x, off, n, 1f / den);
        } else {
            for (int i = off; i < off + n; i++) x[i] /= den;
        }
    }

    /** What a head computes: given its q, k, v copies (row-major), fill {@code out} and return FLOPs. */
    interface HeadBody {
        long run(int b, int h, float[] q, float[] k, float[] v, float[] out, Scratch scratch);
    }

    /**
     * Runs {@code body} for every (batch, head) on up to {@code threads} threads and assembles the
     * [B, H, Nq, Dv] output. Query head h reads kv head {@link Shapes#kvHead}.
     */
    static VariantResult perHead(Shapes s, Tensor q, Tensor k, Tensor v, int threads, HeadBody body) {
        float[] out = new float[Math.multiplyExact(Math.multiplyExact(s.batch() * s.heads(), s.nq()), s.dv())];
        AtomicLong flops = new AtomicLong();
        int heads = s.batch() * s.heads();
        Parallel.forEach(Parallel.resolveThreads(threads), heads, w -> new Scratch(), (item, scratch) -> {
            int b = item / s.heads(), h = item % s.heads(), hk = s.kvHead(h);
            float[] qh = Shapes.head(q, b, h), kh = Shapes.head(k, b, hk), vh = Shapes.head(v, b, hk);
            float[] oh = new float[s.nq() * s.dv()];
            flops.addAndGet(body.run(b, h, qh, kh, vh, oh, scratch));
            Shapes.putHead(out, s.heads(), s.nq(), s.dv(), b, h, oh);
        });
        return new VariantResult(Tensor.of(out, s.batch(), s.heads(), s.nq(), s.dv()), flops.get());
    }

    /** Causal forms are self-attention: Nq must equal Nk. */
    static void requireSelf(Shapes s, String variant) {
        if (s.nq() != s.nk()) {
            throw new IllegalArgumentException("k: causal " + variant + " needs Nk = Nq = " + s.nq() + ", got Nk = " + s.nk());
        }
    }
}
