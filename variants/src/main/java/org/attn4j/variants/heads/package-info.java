/**
 * Family H: head design and head mixing — mixture-of-heads routing ({@code moh}, P39),
 * knocking-heads shared transforms ({@code knocking-heads}, P73), EIT's many-to-many subspace
 * interaction ({@code eit}, P10), head embeddings with one shared projection ({@code mhe}, P59),
 * talking-heads logit/weight mixing ({@code talking-heads}), multi-token convolutions over the
 * score maps ({@code multi-token}, P68) and signed Cog attention ({@code cog}, P35).
 *
 * <p>Inputs are the per-head projected {@code q, k, v [B, H, N, D]}; where a paper needs the layer
 * input (MoH's router, MHE's shared projection) it is defined from them as the concatenation of
 * the token's heads, as each class documents. Mechanisms that mix or convolve score maps across
 * heads materialise them, but only for a block of query rows at a time (at most 64 rows, fewer
 * when {@code H·N} is large): memory is {@code O(blockRows·N·H)} per worker, never
 * {@code N × N × H}. Products use the core micro-kernels' GEMM; the softmax row uses their
 * vectorised max/exp. Mechanisms that only change the inputs (knocking-heads, MHE) run on the
 * engine's {@code Attention.sdpa}. Every mixing form reduces to standard multi-head attention at
 * its identity setting (MHE, which has no such setting, has a hand-checkable case instead), and
 * the tests check it against the engine's reference kernel.
 */
package org.attn4j.variants.heads;
