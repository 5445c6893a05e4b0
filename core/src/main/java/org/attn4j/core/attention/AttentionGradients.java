package org.attn4j.core.attention;

import org.attn4j.core.tensor.Tensor;

/**
 * What {@link Attention#backward} returns: the gradients of a scalar loss with respect to the
 * inputs of {@link Attention#sdpa}, given the loss's gradient with respect to the output. All are
 * new row-major float32 tensors, whatever the layout of the inputs.
 *
 * @param dq       [B, Hq, Nq, D], the shape of q
 * @param dk       [B, Hkv, Nk, D], the shape of k (with GQA, summed over the query heads sharing each kv head)
 * @param dv       [B, Hkv, Nk, Dv], the shape of v
 * @param dbias    the shape of the spec's bias, summed over the dimensions it was broadcast along;
 *                 null unless the bias was marked as needing a gradient
 * @param dispatch which backward kernel ran and why
 */
public record AttentionGradients(Tensor dq, Tensor dk, Tensor dv, Tensor dbias, Dispatcher.Decision dispatch) {}
