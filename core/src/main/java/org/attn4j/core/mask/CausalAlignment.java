package org.attn4j.core.mask;

/**
 * Where the causal diagonal sits when the query and key lengths differ.
 */
public enum CausalAlignment {
    /** Query i sees keys j &le; i (PyTorch's {@code is_causal=True}). */
    TOP_LEFT,
    /**
     * Query i sees keys j &le; i + Nk − Nq: the last query sees every key (FlashAttention's convention;
     * what decoding with a KV cache needs).
     */
    BOTTOM_RIGHT
}
