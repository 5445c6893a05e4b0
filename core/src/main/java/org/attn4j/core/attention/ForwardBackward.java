package org.attn4j.core.attention;

/**
 * What {@link Attention#forwardBackward} returns: the forward result (output and log-sum-exp) and
 * the gradients for the given output gradient.
 */
public record ForwardBackward(AttentionResult forward, AttentionGradients gradients) {}
