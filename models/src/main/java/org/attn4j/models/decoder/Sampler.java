package org.attn4j.models.decoder;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits: greedy at temperature 0, otherwise softmax of
 * {@code logits / temperature} restricted to the {@code topK} most likely tokens (0 = all) and then
 * to the smallest set whose probability reaches {@code topP} (1 = all), sampled with a seeded
 * generator (same seed, same choices).
 */
public final class Sampler {
    private final float temperature, topP;
    private final int topK;
    private final SplittableRandom random;

    public Sampler(float temperature, int topK, float topP, long seed) {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) throw new IllegalArgumentException("temperature: expected a finite number >= 0, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("topK: expected >= 0 (0 = all tokens), got " + topK);
        if (!(topP > 0f && topP <= 1f)) throw new IllegalArgumentException("topP: expected a number in (0, 1], got " + topP);
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    /** The id of the largest logit (the lowest id among ties). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    /** The next token id. */
    public int sample(float[] logits) {
        if (temperature == 0f) return argmax(logits);
        int n = logits.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        int keep = topK > 0 ? Math.min(topK, n) : n;
        double max = logits[order[0]];
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) sum += p[i] = Math.exp((logits[order[i]] - max) / temperature);
        double cum = 0;
        int nucleus = keep;
        for (int i = 0; i < keep; i++) {
            cum += p[i] / sum;
            if (cum >= topP) {
                nucleus = i + 1;
                break;
            }
        }
        double total = 0;
        for (int i = 0; i < nucleus; i++) total += p[i];
        double u = random.nextDouble() * total;
        for (int i = 0; i < nucleus; i++) {
            u -= p[i];
            if (u < 0) return order[i];
        }
        return order[nucleus - 1];
    }
}
