package org.attn4j.models.decoder;

/**
 * Perplexity of a token sequence under a KV-cache policy: teacher-forced decoding, one token per
 * step, so every prediction sees exactly the keys the policy keeps at that point (as a long
 * generation would). {@code exp(−mean_i log p(tokens[i+1] | tokens[..i]))} over the
 * {@code tokens.length − 1} predictions, log-softmax in float64.
 */
public final class KvPerplexity {
    private KvPerplexity() {}

    /** Perplexity of {@code tokens} (at least 2) decoded one by one through a cache under {@code policy}. */
    public static double perplexity(DecoderModel m, int[] tokens, KvPolicy policy) {
        return Math.exp(negativeLogLikelihood(m, tokens, policy) / (tokens.length - 1));
    }

    /**
     * The summed negative log-likelihood (nats) of the {@code tokens.length − 1} next-token predictions
     * of {@link #perplexity}: sums of several texts pool into one perplexity, {@code exp(Σ nll / Σ predictions)}.
     */
    public static double negativeLogLikelihood(DecoderModel m, int[] tokens, KvPolicy policy) {
        if (tokens == null || tokens.length < 2) {
            throw new IllegalArgumentException("tokens: expected at least 2 tokens to predict one, got " + (tokens == null ? "null" : tokens.length));
        }
        if (policy == null) throw new IllegalArgumentException("policy: expected a KvPolicy, got null");
        KvCache cache = m.newCache(tokens.length, policy);
        double nll = 0;
        for (int i = 0; i + 1 < tokens.length; i++) {
            float[] logits = m.forward(cache, new int[] {tokens[i]}, false);
            nll -= logSoftmax(logits, tokens[i + 1]);
        }
        return nll;
    }

    /** {@code log softmax(logits)[target]} in float64. */
    static double logSoftmax(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return logits[target] - max - Math.log(sum);
    }
}
