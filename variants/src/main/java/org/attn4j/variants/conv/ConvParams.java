package org.attn4j.variants.conv;

/**
 * Hyper-parameters of {@link LightweightConv} and {@link DynamicConv}.
 *
 * @param kernel kernel width k over time (>= 1)
 * @param heads  weight-sharing groups: the C = H·Dv channels are split into {@code heads}
 *               contiguous groups of C/heads channels that share one kernel; 0 means one group per
 *               input head (heads = H)
 * @param causal left-padded (output i sees inputs i−k+1..i) rather than centred (offsets
 *               −⌊k/2⌋..k−1−⌊k/2⌋, the paper's encoder padding)
 */
public record ConvParams(int kernel, int heads, boolean causal) {
    public ConvParams {
        if (kernel < 1) throw new IllegalArgumentException("kernel: expected >= 1, got " + kernel);
        if (heads < 0) throw new IllegalArgumentException("heads: expected >= 1 (or 0 = one group per input head), got " + heads);
    }

    /** The weight-sharing groups for an input with {@code inputHeads} heads and {@code channels} channels. */
    public int groups(int inputHeads, int channels) {
        int g = heads == 0 ? inputHeads : heads;
        if (channels % g != 0) {
            throw new IllegalArgumentException("heads: the " + channels + " channels (H·Dv) must split evenly into " + g + " weight-sharing groups");
        }
        return g;
    }

    /** Offset of tap 0 relative to the output position: −(k−1) causal, −⌊k/2⌋ centred. */
    public int firstOffset() { return causal ? -(kernel - 1) : -(kernel / 2); }
}
