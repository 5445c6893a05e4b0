package org.attn4j.train.kv;

import java.util.List;
import org.attn4j.models.decoder.DecoderModel;
import org.attn4j.models.decoder.KvCache;
import org.attn4j.models.decoder.KvPolicy;
import org.attn4j.train.task.Batch;

/**
 * Recall accuracy of a trained model when it decodes through a KV cache under a policy: each
 * sequence of a task's batches (MQAR, induction, selective copying) is fed to the decoder runtime one
 * token per step from an empty cache, so every prediction sees exactly the keys the policy has kept
 * at that moment; at each marked position the arg-max of the logits is compared with the target.
 * With {@link KvPolicy.Full} this is the training stack's held-out accuracy computed by another
 * forward; with a budget smaller than the distance from a query back to its key–value pair it shows
 * what the policy forgets.
 */
public final class KvRecall {
    private KvRecall() {}

    /** {@code correct} of {@code marked} answers; {@link #accuracy} is their ratio (0 when nothing is marked). */
    public record Result(long marked, long correct) {
        public double accuracy() { return marked == 0 ? 0 : (double) correct / marked; }
    }

    /**
     * Decodes every sequence of {@code batches} through a fresh cache under {@code policy} and scores
     * the marked positions. Each sequence is decoded only up to its last marked position.
     */
    public static Result evaluate(DecoderModel model, List<Batch> batches, KvPolicy policy) {
        if (model == null) throw new IllegalArgumentException("model: expected a DecoderModel, got null");
        if (policy == null) throw new IllegalArgumentException("policy: expected a KvPolicy, got null");
        if (batches == null || batches.isEmpty()) throw new IllegalArgumentException("batches: expected at least one batch, got none");
        int vocab = model.config().vocab();
        long marked = 0, correct = 0;
        for (Batch b : batches) {
            int t = b.seqLen();
            for (int s = 0; s < b.batch(); s++) {
                int off = s * t, last = -1;
                for (int p = 0; p < t; p++) if (b.lossMask()[off + p]) last = p;
                if (last < 0) continue;
                KvCache cache = model.newCache(last + 1, policy);
                for (int p = 0; p <= last; p++) {
                    int token = b.tokens()[off + p];
                    if (token < 0 || token >= vocab) {
                        throw new IllegalArgumentException("batches: token " + token + " at position " + p + " is outside the model's vocabulary of " + vocab);
                    }
                    float[] logits = model.forward(cache, new int[] {token}, false);
                    if (!b.lossMask()[off + p]) continue;
                    marked++;
                    if (argmax(logits) == b.targets()[off + p]) correct++;
                }
            }
        }
        return new Result(marked, correct);
    }

    /** The first index of the largest value (the training stack breaks ties the same way). */
    static int argmax(float[] logits) {
        int best = 0;
        for (int v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
        return best;
    }
}
