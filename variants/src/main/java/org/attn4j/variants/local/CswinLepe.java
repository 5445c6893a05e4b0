package org.attn4j.variants.local;

import org.attn4j.variants.Init;

/**
 * The learned weights of CSWin's locally-enhanced positional encoding for {@code heads} query heads
 * of value width {@code dv}: one depthwise 3×3 kernel and one bias per channel (head, c).
 *
 * @param weight {@code [heads, dv, 3, 3]} row-major; tap (i, j) multiplies V at (y + i − 1, x + j − 1)
 * @param bias   {@code [heads, dv]}
 */
public record CswinLepe(int heads, int dv, float[] weight, float[] bias) {
    public CswinLepe {
        if (heads < 1) throw new IllegalArgumentException("heads: expected >= 1, got " + heads);
        if (dv < 1) throw new IllegalArgumentException("dv: expected >= 1, got " + dv);
        if (weight == null || weight.length != heads * dv * 9) {
            throw new IllegalArgumentException("weight: expected heads·dv·9 = " + heads * dv * 9 + " values, got " + (weight == null ? "null" : weight.length));
        }
        if (bias == null || bias.length != heads * dv) {
            throw new IllegalArgumentException("bias: expected heads·dv = " + heads * dv + " values, got " + (bias == null ? "null" : bias.length));
        }
        weight = weight.clone();
        bias = bias.clone();
    }

    /** PyTorch's default Conv2d initialisation for a depthwise 3×3 conv (fan-in 9): U(−1/3, 1/3), from the seed. */
    public static CswinLepe init(long seed, int heads, int dv) {
        return new CswinLepe(heads, dv, Init.uniform(seed, "cswin.lepe.weight", heads * dv * 9, -1.0 / 3, 1.0 / 3),
                Init.uniform(seed, "cswin.lepe.bias", heads * dv, -1.0 / 3, 1.0 / 3));
    }

    @Override
    public float[] weight() { return weight.clone(); }

    @Override
    public float[] bias() { return bias.clone(); }
}
