package org.attn4j.variants.block;

import java.util.SplittableRandom;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.VariantAssert;

/**
 * Throwaway timing (not a test): MoBA against causal flash attention on the same shape and threads.
 * {@code java ... MobaSpeed N D H block topk threads reps}
 */
public final class MobaSpeed {
    public static void main(String[] a) {
        int n = Integer.parseInt(a[0]), d = Integer.parseInt(a[1]), h = Integer.parseInt(a[2]);
        int block = Integer.parseInt(a[3]), topk = Integer.parseInt(a[4]), threads = Integer.parseInt(a[5]), reps = Integer.parseInt(a[6]);
        SplittableRandom r = new SplittableRandom(1);
        Tensor q = VariantAssert.random(r, 1, h, n, d), k = VariantAssert.random(r, 1, h, n, d), v = VariantAssert.random(r, 1, h, n, d);
        MobaAttention moba = new MobaAttention(new MobaParams(block, topk));
        AttentionSpec spec = AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).threads(threads).validate(false).build();
        long flops = 0;
        double bestMoba = Double.MAX_VALUE, bestFlash = Double.MAX_VALUE;
        for (int i = 0; i <= reps; i++) {
            long t0 = System.nanoTime();
            flops = moba.run(q, k, v, threads).flops();
            double tm = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            Attention.sdpa(q, k, v, spec);
            double tf = (System.nanoTime() - t0) / 1e9;
            if (i > 0) {
                bestMoba = Math.min(bestMoba, tm);
                bestFlash = Math.min(bestFlash, tf);
            }
            System.out.printf("run %d: moba %.3f s, causal flash %.3f s%n", i, tm, tf);
        }
        double ideal = (n / 2.0) / ((double) topk * block);
        double causalFlops = 2.0 * h * n * (n + 1) / 2.0 * 2 * d;
        System.out.printf("N=%d D=%d B=1 H=%d block=%d topk=%d threads=%d: moba %.3f s (%.1f GFLOP/s), causal flash %.3f s (%.1f GFLOP/s), "
                        + "speed-up %.2fx, ideal %.2fx, ratio %.2f; work ratio (flops) %.2fx%n",
                n, d, h, block, topk, threads, bestMoba, flops / bestMoba / 1e9, bestFlash, causalFlops / bestFlash / 1e9,
                bestFlash / bestMoba, ideal, bestFlash / bestMoba / ideal, causalFlops / flops);
    }
}
