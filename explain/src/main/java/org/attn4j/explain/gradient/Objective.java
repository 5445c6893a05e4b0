package org.attn4j.explain.gradient;

import org.attn4j.models.bert.BertGrad;

/**
 * The scalar f an explanation explains, as a function of the pooled, pre-normalisation embeddings
 * p of one example's sequences (one sequence, or two for a pair).
 *
 * <ul>
 *   <li>{@link Kind#PAIR}: f = cos(p_A, p_B), the cosine similarity of the two sentence embeddings
 *       (the embeddings are L2-normalised, so it is their dot product);</li>
 *   <li>{@link Kind#SELF}: f = ⟨p, c⟩ with c a detached copy of the text's own p (a constant: it does
 *       not change when the input is interpolated or tokens are deleted). Its gradient is the
 *       direction in which the embedding grows along itself;</li>
 *   <li>{@link Kind#TARGET}: f = cos(p, t) with t the (detached) embedding of a target text.</li>
 * </ul>
 */
public final class Objective {
    /** Which objective. */
    public enum Kind { PAIR, SELF, TARGET }

    private final Kind kind;
    private final float[] constant;

    private Objective(Kind kind, float[] constant) {
        this.kind = kind;
        this.constant = constant;
    }

    /** cos(p_A, p_B) of a pair. */
    public static Objective pair() { return new Objective(Kind.PAIR, null); }

    /** ⟨p, c⟩ with c = {@code pooled}, copied (the text's own pooled pre-normalisation embedding). */
    public static Objective self(float[] pooled) { return new Objective(Kind.SELF, pooled.clone()); }

    /** cos(p, t) with t = {@code targetPooled} (pre-normalisation; normalised here). */
    public static Objective target(float[] targetPooled) { return new Objective(Kind.TARGET, BertGrad.normalise(targetPooled)); }

    public Kind kind() { return kind; }

    /** Sequences per example: 2 for a pair, else 1. */
    public int sequences() { return kind == Kind.PAIR ? 2 : 1; }

    /** A one-line description for reports. */
    public String describe() {
        return switch (kind) {
            case PAIR -> "cosine similarity of the two sentence embeddings";
            case SELF -> "dot product of the pooled pre-normalisation embedding with a detached copy of itself";
            case TARGET -> "cosine similarity of the sentence embedding to the --target text's embedding";
        };
    }

    /** f of one example, given its sequences' pooled pre-normalisation embeddings. */
    public double value(float[][] pooled) {
        return switch (kind) {
            case PAIR -> dot(BertGrad.normalise(pooled[0]), BertGrad.normalise(pooled[1]));
            case SELF -> dot(pooled[0], constant);
            case TARGET -> dot(BertGrad.normalise(pooled[0]), constant);
        };
    }

    /** ∂f/∂p for each sequence of one example. */
    public float[][] gradient(float[][] pooled) {
        return switch (kind) {
            case PAIR -> new float[][] {BertGrad.normaliseBackward(pooled[0], BertGrad.normalise(pooled[1])),
                    BertGrad.normaliseBackward(pooled[1], BertGrad.normalise(pooled[0]))};
            case SELF -> new float[][] {constant.clone()};
            case TARGET -> new float[][] {BertGrad.normaliseBackward(pooled[0], constant)};
        };
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }
}
