/**
 * Training on the attn4j engine, in llm.c's style: every layer has an explicit {@code forward} that
 * keeps what its {@code backward} needs, and a {@code backward} that accumulates (+=) into gradient
 * buffers; a model's forward calls its layers in order and its backward calls them in reverse.
 * There is no tape.
 *
 * <ul>
 *   <li>{@link org.attn4j.train.Parameters}: every parameter in one flat float32 buffer, the gradients
 *       in a second with the same layout, tensors found by name;</li>
 *   <li>{@code layers}: embedding (+ learned positions), LayerNorm, Linear ({@code [out, in]} weights,
 *       all three products on {@code MicroKernels.gemm}), GELU, residual, causal self-attention (fused
 *       QKV, the engine's exact attention and its backward, output projection), tied output projection
 *       fused with cross-entropy on marked positions;</li>
 *   <li>{@code model}: {@link org.attn4j.train.model.TransformerLM}, GPT-2-style;</li>
 *   <li>{@code optim}: AdamW, warm-up + cosine schedule, global-norm clipping;</li>
 *   <li>{@code task}: batches and the MQAR generator; {@code loop}: the training loop.</li>
 * </ul>
 *
 * <pre>{@code
 * Mqar.Config task = Mqar.Config.of(64, 4);                                  // seq 64, 4 pairs, vocab 8192
 * TransformerLM model = new TransformerLM(TransformerConfig.gpt(8192, 64, 2, 64, 2), 32, 2, 1L);
 * Trainer.Result r = new Trainer(model, TrainConfig.of(2000, 32).withEval(100, 0.99))
 *         .run(new Mqar(task, 1), Mqar.dataset(task, 4, 32, 1_000_001), p -> {});
 * r.lastEval().accuracy();                                                   // on the held-out set
 * }</pre>
 *
 * Or step by step: {@code params.zeroGrad(); model.forward(tokens, targets, lossMask); model.backward();
 * GradientClipping.clip(params, 1); adamW.step(schedule.at(step));}
 */
package org.attn4j.train;
