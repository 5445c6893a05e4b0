package org.attn4j.train.layers;

import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.train.Parameters;

/**
 * The output projection tied to the token embedding, fused with softmax cross-entropy over the
 * vocabulary on the positions a task marks:
 * <pre>
 *   logits[m, :] = h[r_m, :]·wteᵀ                       for each marked row r_m (M of them)
 *   loss         = (1/M)·Σ_m (logsumexp(logits[m, :]) − logits[m, target[r_m]])
 * </pre>
 * Unmarked rows cost nothing: their logits are never computed.
 *
 * <p>Memory: one {@code [M, V]} buffer, filled block by block (logits, then softmax, then loss) and, in
 * a training forward, overwritten in place by the gradient {@code dlogits = (softmax − onehot)/M}. The
 * logits are never held twice, and the backward reads the gradient from the same buffer:
 * {@code dh[r_m] += dlogits[m]·wte} and {@code dwte += dlogitsᵀ·h_marked}, both on
 * {@link MicroKernels#gemm} ({@code wte} {@code [V, C]} is row-major B for the first; dlogitsᵀ is read
 * through strides for the second). The forward needs {@code wteᵀ} row-major and copies it once per
 * forward.
 */
public final class TiedCrossEntropy {
    /** Marked rows per parallel work item (a multiple of the GEMM's 6-row tile). */
    static final int ROW_BLOCK = 24;
    /** Vocabulary rows of dwte per parallel work item (a multiple of 6, too). */
    static final int VOCAB_BLOCK = 240;

    private final Parameters params;
    private final Parameters.Param wte;
    private final int vocab, c, threads;
    private final float[] wteT;
    private final int maxMarked;
    // Sized for the largest M seen so far (grown on demand: a task that marks 4 of 64 positions
    // should not pay for a [B·T, V] buffer).
    private float[] hMarked = new float[0], logits = new float[0], rowLoss = new float[0];
    private boolean[] rowCorrect = new boolean[0];
    private int[] markedRows = new int[0], markedTargets = new int[0];
    private int marked;
    private boolean hasGradient;

    /** @param maxMarked the most marked rows a forward will see (sizes the {@code [M, V]} buffer) */
    public TiedCrossEntropy(Parameters params, int maxMarked, int threads) {
        this.params = params;
        this.wte = params.get("wte");
        this.vocab = wte.dim(0);
        this.c = wte.dim(1);
        this.threads = threads;
        this.wteT = new float[vocab * c];
        this.maxMarked = maxMarked;
    }

    /**
     * Mean cross-entropy (natural log) over the rows where {@code lossMask[r]}, of {@code h}
     * ({@code [rows, C]}) against {@code targets[r]} in {@code [0, V)}. With {@code training}, the
     * gradient is left in place for {@link #backward}. Returns 0 when no row is marked.
     */
    public double forward(float[] h, int rows, int[] targets, boolean[] lossMask, boolean training) {
        int m = 0;
        for (int r = 0; r < rows; r++) if (lossMask[r]) m++;
        if (m > maxMarked) throw new IllegalArgumentException("lossMask: at most " + maxMarked + " marked positions, got " + m);
        ensureCapacity(m);
        m = 0;
        for (int r = 0; r < rows; r++) {
            if (!lossMask[r]) continue;
            int t = targets[r];
            if (t < 0 || t >= vocab) throw new IllegalArgumentException("targets[" + r + "]: expected 0.." + (vocab - 1) + " at a marked position, got " + t);
            markedRows[m] = r;
            markedTargets[m] = t;
            System.arraycopy(h, r * c, hMarked, m * c, c);
            m++;
        }
        this.marked = m;
        this.hasGradient = training;
        if (m == 0) return 0;
        float[] w = params.values();
        int wOff = wte.offset();
        for (int v = 0; v < vocab; v++) {
            for (int i = 0; i < c; i++) wteT[i * vocab + v] = w[wOff + v * c + i];
        }
        MicroKernels mk = MicroKernels.get();
        final int count = m;
        final float invM = 1f / m;
        Parallel.forEach(threads, (m + ROW_BLOCK - 1) / ROW_BLOCK, t -> null, (item, unused) -> {
            int m0 = item * ROW_BLOCK, mb = Math.min(ROW_BLOCK, count - m0);
            mk.gemm(mb, vocab, c, hMarked, m0 * c, c, 1, wteT, 0, vocab, logits, m0 * vocab, vocab, false);
            for (int i = m0; i < m0 + mb; i++) {
                int o = i * vocab, target = markedTargets[i];
                float max = Float.NEGATIVE_INFINITY;
                int argmax = 0;
                for (int v = 0; v < vocab; v++) {
                    if (logits[o + v] > max) {
                        max = logits[o + v];
                        argmax = v;
                    }
                }
                float sum = 0f;
                for (int v = 0; v < vocab; v++) sum += (float) Math.exp(logits[o + v] - max);
                float lse = max + (float) Math.log(sum);
                rowLoss[i] = lse - logits[o + target];
                rowCorrect[i] = argmax == target;
                if (training) {
                    // In place: logits → dloss/dlogits = (softmax − onehot)/M.
                    for (int v = 0; v < vocab; v++) logits[o + v] = (float) Math.exp(logits[o + v] - lse) * invM;
                    logits[o + target] -= invM;
                }
            }
        });
        double loss = 0;
        for (int i = 0; i < m; i++) loss += rowLoss[i];
        return loss / m;
    }

    private void ensureCapacity(int m) {
        if (m <= markedRows.length) return;
        hMarked = new float[Math.multiplyExact(m, c)];
        logits = new float[Math.multiplyExact(m, vocab)];
        rowLoss = new float[m];
        rowCorrect = new boolean[m];
        markedRows = new int[m];
        markedTargets = new int[m];
    }

    /** Marked rows of the last forward. */
    public int marked() { return marked; }

    /** Marked rows of the last forward whose most likely token (first maximum) was the target. */
    public int correct() {
        int n = 0;
        for (int i = 0; i < marked; i++) if (rowCorrect[i]) n++;
        return n;
    }

    /**
     * Accumulates {@code dh += ∂loss/∂h} ({@code [rows, C]}, only marked rows change) and the wte
     * gradient, from the gradient a training forward left in place.
     */
    public void backward(float[] dh) {
        if (!hasGradient) throw new IllegalStateException("backward: the last forward was not a training forward");
        hasGradient = false; // the buffer holds one gradient, used once
        int m = marked;
        if (m == 0) return;
        MicroKernels mk = MicroKernels.get();
        float[] w = params.values(), g = params.grads();
        int wOff = wte.offset();
        // dh[r_m] += dlogits[m]·wte, a block at a time through a small scratch (hMarked must keep h
        // for dwte below). Marked rows are distinct, so blocks never write the same row of dh.
        Parallel.forEach(threads, (m + ROW_BLOCK - 1) / ROW_BLOCK, t -> new float[ROW_BLOCK * c], (item, scratch) -> {
            int m0 = item * ROW_BLOCK, mb = Math.min(ROW_BLOCK, m - m0);
            mk.gemm(mb, c, vocab, logits, m0 * vocab, vocab, 1, w, wOff, c, scratch, 0, c, false);
            for (int i = 0; i < mb; i++) mk.axpy(1f, scratch, i * c, dh, markedRows[m0 + i] * c, c);
        });
        // dwte[v0:v1, :] += dlogits[:, v0:v1]ᵀ · h_marked: A(v, i) = logits[i·V + v], aRs = 1, aCs = V.
        Parallel.forEach(threads, (vocab + VOCAB_BLOCK - 1) / VOCAB_BLOCK, t -> null, (item, unused) -> {
            int v0 = item * VOCAB_BLOCK, vb = Math.min(VOCAB_BLOCK, vocab - v0);
            mk.gemm(vb, c, m, logits, v0, 1, vocab, hMarked, 0, c, g, wOff + v0 * c, c, true);
        });
    }
}
