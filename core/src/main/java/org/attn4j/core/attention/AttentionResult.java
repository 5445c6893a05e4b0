package org.attn4j.core.attention;

import org.attn4j.core.tensor.Tensor;

/**
 * What {@link Attention#sdpa} returns.
 *
 * @param output   [B, Hq, Nq, Dv] float32, row-major
 * @param lse      [B, Hq, Nq] natural-log log-sum-exp of the visible logits (−inf for a row with
 *                 no visible key), or null when not requested
 * @param probs    [B, Hq, Nq, Nk] attention probabilities, or null when not requested
 * @param dispatch which kernel ran and why
 */
public record AttentionResult(Tensor output, Tensor lse, Tensor probs, Dispatcher.Decision dispatch) {}
