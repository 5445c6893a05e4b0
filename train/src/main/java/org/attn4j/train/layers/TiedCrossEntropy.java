package org.attn4j.train.layers;

import java.util.Arrays;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.train.Parameters;

/**
 * The output projection, tied to the token embedding (or, untied, its own {@code lm_head}
 * {@code [V, C]}, read as "wte" below), fused with softmax cross-entropy over the vocabulary on
 * the positions a task marks:
 * <pre>
 *   logits[m, :] = h[r_m, :]·wteᵀ                       for each marked row r_m (M of them)
 *   loss         = (1/M)·Σ_m (logsumexp(logits[m, :]) − logits[m, target[r_m]])
 * </pre>
 * Unmarked rows cost nothing: their logits are never computed.
 *
 * <p>Layout: the marked rows are taken in blocks of {@link #ROW_BLOCK}; block b's logits are held
 * transposed, a {@code [V, mb]} row-major matrix at offset {@code m0·V} of one buffer of
 * {@code M·V} floats. Transposed, the forward product is {@code wte·h_blockᵀ} with wte itself as
 * the GEMM's A (no transposed copy of the embedding), the column maxima come out of the GEMM
 * ({@link MicroKernels#gemmColumnMax}), and the exponentials and their sums are one vectorised
 * {@link MicroKernels#expColumns} pass, as in the flash attention kernel.
 *
 * <p>Memory: that one buffer holds, block by block, the logits, then the softmax, and, in a training
 * forward, the gradient {@code dlogits = (softmax − onehot)/M} written in place; the logits are never
 * held twice. The backward reads the gradient from it: {@code dh[r_m] += dlogits[m]·wte} and
 * {@code dwte += dlogitsᵀ·h_marked}, both plain {@link MicroKernels#gemm} calls (the transposed
 * layout is read through strides).
 */
public final class TiedCrossEntropy {
    /** Marked rows per block (a multiple of the vector width, for the column-wise softmax). */
    static final int ROW_BLOCK = 32;
    /** Vocabulary rows of dwte per parallel work item (a multiple of the GEMM's 6-row tile). */
    static final int VOCAB_BLOCK = 240;

    private final Parameters params;
    private final Parameters.Param wte;
    private final int vocab, c, threads;
    private final int maxMarked;
    // Sized for the largest M seen so far (grown on demand: a task that marks 4 of 64 positions
    // should not pay for a [B·T, V] buffer).
    private float[] hMarked = new float[0], logits = new float[0], rowLoss = new float[0];
    private boolean[] rowCorrect = new boolean[0];
    private int[] markedRows = new int[0], markedTargets = new int[0];
    private int marked;
    private boolean hasGradient;

    /** Per-thread scratch of the forward: h_blockᵀ, column maxima and sums. */
    private record Scratch(float[] hT, float[] max, float[] sum) {}

    /** The output projection tied to {@code wte}. @param maxMarked the most marked rows a forward may have */
    public TiedCrossEntropy(Parameters params, int maxMarked, int threads) {
        this(params, "wte", maxMarked, threads);
    }

    /**
     * The output projection {@code weight} ({@code [V, C]}): {@code wte} when tied, an untied
     * {@code lm_head.weight} otherwise; everything else is the same.
     */
    public TiedCrossEntropy(Parameters params, String weight, int maxMarked, int threads) {
        this.params = params;
        this.wte = params.get(weight);
        this.vocab = wte.dim(0);
        this.c = wte.dim(1);
        this.threads = threads;
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
        MicroKernels mk = MicroKernels.get();
        float[] w = params.values();
        int wOff = wte.offset();
        final int count = m;
        final float invM = 1f / m;
        Parallel.forEach(threads, blocks(m), t -> new Scratch(new float[c * ROW_BLOCK], new float[ROW_BLOCK], new float[ROW_BLOCK]), (item, s) -> {
            int m0 = item * ROW_BLOCK, mb = Math.min(ROW_BLOCK, count - m0), base = m0 * vocab;
            for (int j = 0; j < mb; j++) {
                for (int i = 0; i < c; i++) s.hT[i * mb + j] = hMarked[(m0 + j) * c + i];
            }
            // logitsᵀ [V, mb] = wte [V, C] · h_blockᵀ [C, mb], with the column (= row of logits) maxima
            Arrays.fill(s.max, 0, mb, Float.NEGATIVE_INFINITY);
            mk.gemmColumnMax(vocab, mb, c, w, wOff, c, 1, s.hT, 0, mb, logits, base, mb, s.max);
            for (int j = 0; j < mb; j++) {
                int argmax = 0; // the first maximum, as argmax conventionally breaks ties
                while (argmax < vocab - 1 && logits[base + argmax * mb + j] != s.max[j]) argmax++;
                int target = markedTargets[m0 + j];
                rowCorrect[m0 + j] = argmax == target;
                rowLoss[m0 + j] = s.max[j] - logits[base + target * mb + j]; // + log Σ exp, below
            }
            mk.expColumns(logits, base, vocab, mb, mb, s.max, s.sum);
            for (int j = 0; j < mb; j++) rowLoss[m0 + j] += (float) Math.log(s.sum[j]);
            if (training) {
                // In place: exp(logit − max) → dloss/dlogit = (softmax − onehot)/M.
                for (int j = 0; j < mb; j++) s.sum[j] = invM / s.sum[j];
                for (int v = 0; v < vocab; v++) {
                    int o = base + v * mb;
                    for (int j = 0; j < mb; j++) logits[o + j] *= s.sum[j];
                }
                for (int j = 0; j < mb; j++) logits[base + markedTargets[m0 + j] * mb + j] -= invM;
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

    private static int blocks(int m) { return (m + ROW_BLOCK - 1) / ROW_BLOCK; }

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
        int wOff = wte.offset(), blocks = blocks(m);
        // dh[r_m] += dlogits[m, :]·wte: A(j, v) = logits[base + v·mb + j] (aRs = 1, aCs = mb). Marked
        // rows are distinct, so blocks never write the same row of dh.
        Parallel.forEach(threads, blocks, t -> new float[ROW_BLOCK * c], (item, scratch) -> {
            int m0 = item * ROW_BLOCK, mb = Math.min(ROW_BLOCK, m - m0), base = m0 * vocab;
            mk.gemm(mb, c, vocab, logits, base, 1, mb, w, wOff, c, scratch, 0, c, false);
            for (int j = 0; j < mb; j++) mk.axpy(1f, scratch, j * c, dh, markedRows[m0 + j] * c, c);
        });
        // dwte[v0:v1, :] += Σ_blocks dlogitsᵀ[v0:v1, block] · h_block, blocks in order: each work item
        // owns a slice of vocabulary rows, so no two items write the same entry.
        Parallel.forEach(threads, (vocab + VOCAB_BLOCK - 1) / VOCAB_BLOCK, t -> null, (item, unused) -> {
            int v0 = item * VOCAB_BLOCK, vb = Math.min(VOCAB_BLOCK, vocab - v0);
            for (int b = 0; b < blocks; b++) {
                int m0 = b * ROW_BLOCK, mb = Math.min(ROW_BLOCK, m - m0), base = m0 * vocab;
                mk.gemm(vb, c, mb, logits, base + v0 * mb, mb, 1, hMarked, m0 * c, c, g, wOff + v0 * c, c, true);
            }
        });
    }
}
