package org.attn4j.variants.recurrent;

/**
 * Hyper-parameters of {@link MambaImplicitAttention}.
 *
 * @param state S, the state size per channel (columns of B_t and C_t)
 */
public record SelectiveSsmParams(int state) {
    public SelectiveSsmParams {
        if (state < 1) throw new IllegalArgumentException("state: expected >= 1, got " + state);
    }
}
