package org.attn4j.core.attention;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;

/** Invariants of attention checked on the fast kernels over random shapes. */
class AttentionPropertiesTest {

    static KernelChoice kernel(int pick) {
        return pick == 0 ? KernelChoice.FLASH : KernelChoice.DECODE;
    }

    @Property(tries = 40)
    void permutingKeysAndValuesTogetherChangesNothing(@ForAll long seed, @ForAll @IntRange(min = 1, max = 70) int nq,
                                                      @ForAll @IntRange(min = 1, max = 400) int nk,
                                                      @ForAll @IntRange(min = 1, max = 70) int d,
                                                      @ForAll @IntRange(min = 0, max = 1) int pick) {
        Random r = new Random(seed);
        Tensor q = Inputs.gaussian(r, 1f, 1, 2, nq, d);
        Tensor k = Inputs.gaussian(r, 1f, 1, 1, nk, d);
        Tensor v = Inputs.gaussian(r, 1f, 1, 1, nk, 5);
        int[] perm = new int[nk];
        for (int j = 0; j < nk; j++) perm[j] = j;
        for (int j = nk - 1; j > 0; j--) {
            int x = r.nextInt(j + 1), t = perm[j];
            perm[j] = perm[x];
            perm[x] = t;
        }
        Tensor kp = Tensor.zeros(1, 1, nk, d), vp = Tensor.zeros(1, 1, nk, 5);
        for (int j = 0; j < nk; j++) {
            for (int x = 0; x < d; x++) kp.set(k.get(0, 0, perm[j], x), 0, 0, j, x);
            for (int x = 0; x < 5; x++) vp.set(v.get(0, 0, perm[j], x), 0, 0, j, x);
        }
        AttentionSpec spec = AttentionSpec.builder().kernel(kernel(pick)).build();
        Inputs.assertClose("permuted", Attention.sdpa(q, k, v, spec).output().data(), Attention.sdpa(q, kp, vp, spec).output().data(), 1e-5, 1e-5);
    }

    @Property(tries = 40)
    void addingAConstantToARowChangesNothing(@ForAll long seed, @ForAll @IntRange(min = 1, max = 70) int nq,
                                             @ForAll @IntRange(min = 1, max = 400) int nk,
                                             @ForAll @IntRange(min = -50, max = 50) int constant,
                                             @ForAll @IntRange(min = 0, max = 1) int pick) {
        Random r = new Random(seed);
        Tensor q = Inputs.gaussian(r, 1f, 2, 2, nq, 16);
        Tensor k = Inputs.gaussian(r, 1f, 2, 2, nk, 16);
        Tensor v = Inputs.gaussian(r, 1f, 2, 2, nk, 16);
        Tensor bias = Inputs.gaussian(r, 1f, 2, 2, nq, nk);
        Tensor shifted = Tensor.of(bias.toArray(), bias.shape());
        float[] rowConst = new float[nq];
        for (int i = 0; i < nq; i++) rowConst[i] = constant * (i % 3 - 1) + 0.25f * i;
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < 2; h++)
                for (int i = 0; i < nq; i++)
                    for (int j = 0; j < nk; j++) shifted.set(bias.get(b, h, i, j) + rowConst[i], b, h, i, j);
        AttentionSpec.Builder s = AttentionSpec.builder().kernel(kernel(pick)).causal(CausalAlignment.BOTTOM_RIGHT);
        Inputs.assertClose("row constant", Attention.sdpa(q, k, v, s.bias(bias).build()).output().data(),
                Attention.sdpa(q, k, v, s.bias(shifted).build()).output().data(), 2e-5, 2e-5);
    }

    @Property(tries = 40)
    void causalOutputIgnoresLaterTokens(@ForAll long seed, @ForAll @IntRange(min = 2, max = 300) int n,
                                        @ForAll @IntRange(min = 0, max = 1) int pick) {
        Random r = new Random(seed);
        int cut = 1 + r.nextInt(n - 1);
        Tensor q = Inputs.gaussian(r, 1f, 1, 4, n, 32);
        Tensor k = Inputs.gaussian(r, 1f, 1, 2, n, 32);
        Tensor v = Inputs.gaussian(r, 1f, 1, 2, n, 32);
        Tensor q2 = Tensor.of(q.toArray(), q.shape()), k2 = Tensor.of(k.toArray(), k.shape()), v2 = Tensor.of(v.toArray(), v.shape());
        for (int t = cut; t < n; t++) {
            for (int x = 0; x < 32; x++) {
                for (int h = 0; h < 4; h++) q2.set((float) r.nextGaussian(), 0, h, t, x);
                for (int h = 0; h < 2; h++) {
                    k2.set((float) r.nextGaussian() * 5, 0, h, t, x);
                    v2.set((float) r.nextGaussian() * 5, 0, h, t, x);
                }
            }
        }
        AttentionSpec spec = AttentionSpec.builder().kernel(kernel(pick)).causal(CausalAlignment.TOP_LEFT).build();
        float[] a = Attention.sdpa(q, k, v, spec).output().data();
        float[] b = Attention.sdpa(q2, k2, v2, spec).output().data();
        for (int h = 0; h < 4; h++)
            for (int i = 0; i < cut; i++)
                for (int x = 0; x < 32; x++) {
                    int at = (h * n + i) * 32 + x;
                    if (a[at] != b[at]) throw new AssertionError("position " + i + " (< " + cut + ") changed: " + a[at] + " vs " + b[at]);
                }
    }
}
