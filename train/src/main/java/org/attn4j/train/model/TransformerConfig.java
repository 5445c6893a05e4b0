package org.attn4j.train.model;

/**
 * The shape of a {@link TransformerLM}.
 *
 * @param vocab            vocabulary size V
 * @param seqLen           sequence length T (every batch is {@code [B, T]})
 * @param layers           number of transformer blocks L
 * @param dModel           width C
 * @param heads            attention heads H (C % H == 0)
 * @param mlpRatio         hidden width of the MLP as a multiple of C (4 in GPT-2)
 * @param learnedPositions learned absolute positions ({@code wpe}); false leaves position to ALiBi or to the causal mask alone
 * @param alibi            ALiBi biases in every attention layer
 * @param window           causal sliding window in every attention layer (keys {@code j ≥ i − window}); 0 for none
 * @param lnEps            LayerNorm epsilon
 * @param initStd          standard deviation of the normal initialisation of matrices and embeddings (GPT-2: 0.02);
 *                         the residual output projections get {@code initStd/√(2L)}
 */
public record TransformerConfig(int vocab, int seqLen, int layers, int dModel, int heads, int mlpRatio,
                                boolean learnedPositions, boolean alibi, int window, float lnEps, float initStd) {

    public TransformerConfig {
        positive("vocab", vocab);
        positive("seqLen", seqLen);
        positive("layers", layers);
        positive("dModel", dModel);
        positive("heads", heads);
        positive("mlpRatio", mlpRatio);
        if (dModel % heads != 0) throw new IllegalArgumentException("heads: must divide dModel=" + dModel + ", got " + heads);
        if (window < 0) throw new IllegalArgumentException("window: expected 0 (none) or a positive count, got " + window);
        if (!(lnEps > 0)) throw new IllegalArgumentException("lnEps: expected > 0, got " + lnEps);
        if (!(initStd > 0)) throw new IllegalArgumentException("initStd: expected > 0, got " + initStd);
    }

    /** GPT-2's choices: learned positions, MLP ratio 4, eps 1e-5, init std 0.02, no ALiBi, no window. */
    public static TransformerConfig gpt(int vocab, int seqLen, int layers, int dModel, int heads) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, 4, true, false, 0, 1e-5f, 0.02f);
    }

    public TransformerConfig withAlibi(boolean on) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, on, window, lnEps, initStd);
    }

    public TransformerConfig withLearnedPositions(boolean on) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, on, alibi, window, lnEps, initStd);
    }

    public TransformerConfig withWindow(int w) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, w, lnEps, initStd);
    }

    public TransformerConfig withInitStd(float std) {
        return new TransformerConfig(vocab, seqLen, layers, dModel, heads, mlpRatio, learnedPositions, alibi, window, lnEps, std);
    }

    /** Head dimension D = C/H. */
    public int headDim() { return dModel / heads; }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + ": expected > 0, got " + v);
    }
}
