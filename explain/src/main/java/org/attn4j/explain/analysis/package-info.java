/**
 * Attention analyses on plain arrays (no model capture).
 *
 * <p>Shapes used throughout:
 * <ul>
 *   <li>an attention map is {@code double[n][n]}: row {@code i} is query token {@code i}, column
 *       {@code j} key token {@code j}; entries are finite, non-negative, and every row sums to 1
 *       within 1e-6;</li>
 *   <li>one layer's heads are {@code double[heads][n][n]};</li>
 *   <li>a whole model's attention is {@code double[layers][heads][n][n]}, layer 0 nearest the
 *       input (the embeddings); every map has the same {@code n}, and every layer at least one head;</li>
 *   <li>hidden states are {@code double[layers + 1][n][d]}, index 0 the embeddings.</li>
 * </ul>
 * Invalid input throws {@link IllegalArgumentException} naming the argument, the offending index and
 * the expected and actual values.
 */
package org.attn4j.explain.analysis;
