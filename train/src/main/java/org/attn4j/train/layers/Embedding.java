package org.attn4j.train.layers;

import org.attn4j.train.Parameters;

/**
 * Token embedding plus (optionally) learned absolute positions:
 * {@code out[b, t, :] = wte[tokens[b, t], :] + wpe[t, :]}.
 *
 * <p>Layout: {@code wte} is {@code [vocab, C]}, {@code wpe} is {@code [seqLen, C]}; tokens are
 * {@code [batch, seqLen]} row-major, the output {@code [batch·seqLen, C]}. Without learned positions
 * (for ALiBi, which puts position into the attention logits instead) only {@code wte} is used.
 *
 * <p>The backward scatters rows back: {@code dwte[tokens[r]] += dOut[r]}, {@code dwpe[r mod T] += dOut[r]},
 * in row order (one thread: a token may appear in many rows, and a fixed order keeps the sums
 * bit-identical from run to run).
 */
public final class Embedding {
    private final Parameters params;
    private final Parameters.Param wte, wpe;
    private final int c, vocab, seqLen;
    private final float[] output;
    private int[] tokens;
    private int rows;

    /** Declares {@code wte} {@code [vocab, C]} and, if {@code learnedPositions}, {@code wpe} {@code [seqLen, C]}, both without weight decay. */
    public static void declare(Parameters.Builder b, int vocab, int seqLen, int c, boolean learnedPositions) {
        b.add("wte", false, vocab, c);
        if (learnedPositions) b.add("wpe", false, seqLen, c);
    }

    public Embedding(Parameters params, int seqLen, int maxRows) {
        this.params = params;
        this.wte = params.get("wte");
        this.wpe = params.contains("wpe") ? params.get("wpe") : null;
        this.vocab = wte.dim(0);
        this.c = wte.dim(1);
        this.seqLen = seqLen;
        this.output = new float[Math.multiplyExact(maxRows, c)];
    }

    /**
     * Embeds {@code rows} tokens (a multiple of seqLen; row r is position {@code r mod seqLen});
     * returns the output buffer {@code [rows, C]}. Throws IllegalArgumentException on a token outside
     * {@code [0, vocab)}.
     */
    public float[] forward(int[] tokens, int rows) {
        if (Math.multiplyExact(rows, c) > output.length) throw new IllegalArgumentException("rows: at most " + output.length / c + ", got " + rows);
        float[] p = params.values();
        for (int r = 0; r < rows; r++) {
            int tok = tokens[r];
            if (tok < 0 || tok >= vocab) throw new IllegalArgumentException("tokens[" + r + "]: expected 0.." + (vocab - 1) + ", got " + tok);
            System.arraycopy(p, wte.offset() + tok * c, output, r * c, c);
            if (wpe != null) {
                int pos = wpe.offset() + (r % seqLen) * c;
                for (int i = 0; i < c; i++) output[r * c + i] += p[pos + i];
            }
        }
        this.tokens = tokens;
        this.rows = rows;
        return output;
    }

    /** Accumulates the wte (and wpe) gradients for {@code dOut} = ∂loss/∂out ({@code [rows, C]}). */
    public void backward(float[] dOut) {
        float[] g = params.grads();
        for (int r = 0; r < rows; r++) {
            int t = wte.offset() + tokens[r] * c;
            for (int i = 0; i < c; i++) g[t + i] += dOut[r * c + i];
            if (wpe != null) {
                int pos = wpe.offset() + (r % seqLen) * c;
                for (int i = 0; i < c; i++) g[pos + i] += dOut[r * c + i];
            }
        }
    }
}
