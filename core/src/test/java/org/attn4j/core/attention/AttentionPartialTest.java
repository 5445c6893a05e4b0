package org.attn4j.core.attention;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

class AttentionPartialTest {
    final Random rnd = new Random(9);
    final int b = 2, hq = 4, hkv = 2, nq = 9, nk = 700, d = 33;
    final Tensor q = Inputs.gaussian(rnd, 1f, b, hq, nq, d);
    final Tensor k = Inputs.gaussian(rnd, 1f, b, hkv, nk, d);
    final Tensor v = Inputs.gaussian(rnd, 1f, b, hkv, nk, d);
    final AttentionSpec spec = AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).alibi(true)
            .bias(Inputs.gaussian(rnd, 1f, nq, nk)).kvLengths(650, 700).build();

    static Tensor slice(Tensor t, int from, int to) {
        return Tensor.view(t.data(), t.offset() + from * t.stride(2), new int[] {t.dim(0), t.dim(1), to - from, t.dim(3)}, t.strides());
    }

    List<AttentionPartial> shards(int[] cuts) {
        List<AttentionPartial> parts = new ArrayList<>();
        for (int s = 0; s + 1 < cuts.length; s++) {
            parts.add(Attention.partial(q, slice(k, cuts[s], cuts[s + 1]), slice(v, cuts[s], cuts[s + 1]), spec, cuts[s], nk));
        }
        return parts;
    }

    static AttentionPartial tree(List<AttentionPartial> parts, int lo, int hi) {
        if (hi - lo == 1) return parts.get(lo);
        int mid = (lo + hi) / 2;
        return tree(parts, lo, mid).merge(tree(parts, mid, hi));
    }

    @Test
    void everyMergeOrderGivesTheSameAnswerAsOneCall() {
        AttentionResult whole = Attention.sdpa(q, k, v, spec.toBuilder().kernel(KernelChoice.REFERENCE).returnLse(true).build());
        List<AttentionPartial> parts = shards(new int[] {0, 1, 130, 131, 400, 655, 700});
        List<float[]> outputs = new ArrayList<>();
        // left fold, right fold, balanced tree, and random orders
        AttentionPartial left = parts.get(0);
        for (int i = 1; i < parts.size(); i++) left = left.merge(parts.get(i));
        AttentionPartial right = parts.get(parts.size() - 1);
        for (int i = parts.size() - 2; i >= 0; i--) right = parts.get(i).merge(right);
        List<AttentionPartial> orders = new ArrayList<>(List.of(left, right, tree(parts, 0, parts.size())));
        Random r = new Random(1);
        for (int t = 0; t < 10; t++) {
            List<AttentionPartial> shuffled = new ArrayList<>(parts);
            Collections.shuffle(shuffled, r);
            AttentionPartial acc = AttentionPartial.empty(b, hq, nq, d);
            for (AttentionPartial p : shuffled) acc = r.nextBoolean() ? acc.merge(p) : p.merge(acc);
            orders.add(acc);
        }
        for (AttentionPartial p : orders) {
            AttentionResult res = p.finish();
            outputs.add(res.output().data());
            Inputs.assertClose("merged output", whole.output().data(), res.output().data(), 1e-5, 1e-5);
            Inputs.assertClose("merged lse", whole.lse().data(), res.lse().data(), 1e-5, 1e-5);
        }
        for (float[] o : outputs) Inputs.assertClose("order vs order", outputs.get(0), o, 1e-6, 1e-6);
    }

    @Test
    void mergeIsExactlyCommutativeAndEmptyIsIdentity() {
        List<AttentionPartial> parts = shards(new int[] {0, 300, 700});
        AttentionPartial ab = parts.get(0).merge(parts.get(1)), ba = parts.get(1).merge(parts.get(0));
        assertArrayEquals(ab.acc(), ba.acc());
        assertArrayEquals(ab.sum(), ba.sum());
        AttentionPartial e = AttentionPartial.empty(b, hq, nq, d);
        assertArrayEquals(parts.get(0).acc(), e.merge(parts.get(0)).acc());
        assertArrayEquals(parts.get(0).max(), parts.get(0).merge(e).max());
        float[] out = e.finish().output().data();
        for (float x : out) assertTrue(x == 0f);
    }

    @Test
    void mismatchedPartialsAreRejected() {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                () -> AttentionPartial.empty(1, 2, 3, 4).merge(AttentionPartial.empty(1, 2, 3, 5)));
        assertTrue(ex.getMessage().contains("Dv=4"), ex.getMessage());
    }

    @Test
    void aPartialRebuiltFromItsPartsMergesLikeTheOriginal() {
        List<AttentionPartial> parts = shards(new int[] {0, 300, 700});
        AttentionPartial a = parts.get(0), copy = AttentionPartial.of(a.batch(), a.heads(), a.queries(), a.valueDim(), a.max(), a.sum(), a.acc());
        assertArrayEquals(a.merge(parts.get(1)).finish().output().toArray(), copy.merge(parts.get(1)).finish().output().toArray(), 0f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttentionPartial.of(b, hq, nq, d, a.max(), a.sum(), new float[3]));
        assertTrue(e.getMessage().startsWith("acc: expected " + (b * hq * nq * d) + " values, got 3"), e.getMessage());
    }
}
