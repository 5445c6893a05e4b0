package org.attn4j.variants.block;

import java.util.SplittableRandom;
import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;

/**
 * Throwaway timing (not a test): a registered variant against causal flash attention, same shape and
 * threads. {@code java ... ContentSparseSpeed name N D H threads reps [key=value ...]}
 */
public final class ContentSparseSpeed {
    public static void main(String[] a) {
        String name = a[0];
        int n = Integer.parseInt(a[1]), d = Integer.parseInt(a[2]), h = Integer.parseInt(a[3]), threads = Integer.parseInt(a[4]), reps = Integer.parseInt(a[5]);
        Settings set = Settings.of(java.util.Arrays.copyOfRange(a, 6, a.length));
        Variant var = VariantRegistry.create(name, set, 1);
        SplittableRandom r = new SplittableRandom(1);
        Tensor q = VariantAssert.random(r, 1, h, n, d), k = VariantAssert.random(r, 1, h, n, d), v = VariantAssert.random(r, 1, h, n, d);
        AttentionSpec spec = AttentionSpec.builder().causal(CausalAlignment.TOP_LEFT).threads(threads).validate(false).build();
        double best = Double.MAX_VALUE, bestFlash = Double.MAX_VALUE;
        VariantResult res = null;
        for (int i = 0; i <= reps; i++) {
            long t0 = System.nanoTime();
            res = var.run(q, k, v, threads);
            double t = (System.nanoTime() - t0) / 1e9;
            t0 = System.nanoTime();
            Tensor ref = Attention.sdpa(q, k, v, spec).output();
            double tf = (System.nanoTime() - t0) / 1e9;
            if (i > 0) {
                best = Math.min(best, t);
                bestFlash = Math.min(bestFlash, tf);
            }
            if (i == reps) {
                double causalFlops = 2.0 * h * n * (n + 1) / 2.0 * 2 * d;
                System.out.printf("%s N=%d D=%d B=1 H=%d threads=%d [%s]: %.3f s, causal flash %.3f s, speed-up %.2fx, work ratio %.2fx, "
                                + "rel. error vs causal full %.3g%n", name, n, d, h, threads, String.join(" ", java.util.Arrays.copyOfRange(a, 6, a.length)), best, bestFlash, bestFlash / best,
                        causalFlops / res.flops(), VariantAssert.relativeError(ref, res.output()));
            }
        }
    }
}
