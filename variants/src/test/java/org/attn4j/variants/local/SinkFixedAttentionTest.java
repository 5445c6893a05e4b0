package org.attn4j.variants.local;

import static org.attn4j.variants.local.HaloAttentionTest.assertField;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.attn4j.core.tensor.BoolTensor;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantAssert;
import org.attn4j.variants.VariantRegistry;
import org.attn4j.variants.VariantResult;
import org.junit.jupiter.api.Test;

class SinkFixedAttentionTest {

    /**
     * The SF-Attn mask from its definition: plain heads group by ⌊i/g⌋; shifted heads (the second
     * half) group by ⌊(i − ⌊g/2⌋)/g⌋ (floor division, so the first ⌊g/2⌋ tokens form their own group
     * and nothing wraps around); the first {@code sinks} keys are visible to all; causal adds j ≤ i.
     */
    static BoolTensor sfMask(int heads, int n, int g, int sinks, boolean shift, boolean causal) {
        boolean[] m = new boolean[heads * n * n];
        int o = g / 2;
        for (int h = 0; h < heads; h++) {
            boolean shifted = shift && h >= heads / 2;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++) {
                    boolean same = shifted ? Math.floorDiv(i - o, g) == Math.floorDiv(j - o, g) : i / g == j / g;
                    m[(h * n + i) * n + j] = (same || j < sinks) && (!causal || j <= i);
                }
        }
        return BoolTensor.of(m, 1, heads, n, n);
    }

    private static void check(SplittableRandom r, int batch, int heads, int kvHeads, int n, int g, int sinks, boolean shift, boolean causal, int d, int dv) {
        Tensor q = VariantAssert.random(r, batch, heads, n, d), k = VariantAssert.random(r, batch, kvHeads, n, d), v = VariantAssert.random(r, batch, kvHeads, n, dv);
        SinkFixedAttention a = new SinkFixedAttention(new SfAttnParams(g, sinks, shift, causal, null));
        VariantResult got = a.run(q, k, v, 3);
        int gg = g == 0 ? Math.max(1, n / 4) : g;
        BoolTensor mask = sfMask(heads, n, gg, sinks, shift, causal);
        String what = "N " + n + " g " + g + " sinks " + sinks + " shift " + shift + " causal " + causal + " H " + heads + "/" + kvHeads;
        VariantAssert.assertClose(VariantAssert.reference(q, k, v, mask, null, null), got.output(), 3e-5, 1e-4, what);
        long pairs = 0;
        for (boolean b : mask.data()) if (b) pairs++;
        assertEquals(2L * batch * pairs * (d + dv), got.flops(), what + ": flops");
        assertArrayEquals(got.output().toArray(), a.run(q, k, v, 1).output().toArray(), what + ": 1 vs 3 threads");
    }

    @Test
    void equalsTheDenseSfAttnMask() {
        SplittableRandom r = new SplittableRandom(20);
        for (boolean causal : new boolean[] {true, false}) {
            check(r, 1, 2, 2, 64, 16, 4, true, causal, 16, 16);
            check(r, 2, 4, 2, 37, 8, 3, true, causal, 5, 7);     // ragged, GQA, odd D
            check(r, 1, 2, 2, 37, 5, 2, true, causal, 8, 8);     // odd g: shift 2
            check(r, 1, 3, 3, 30, 8, 12, true, causal, 4, 6);    // sinks longer than a group; odd H
            check(r, 1, 2, 1, 20, 0, 4, true, causal, 8, 8);     // default g = N/4
            check(r, 1, 2, 2, 9, 20, 2, true, causal, 4, 4);     // group larger than N
            check(r, 1, 2, 2, 1, 4, 4, true, causal, 4, 4);      // N = 1
            check(r, 1, 2, 2, 25, 1, 0, true, causal, 4, 4);     // g = 1: no shift possible
            check(r, 1, 2, 2, 19, Integer.MAX_VALUE, 3, true, causal, 4, 4); // huge g: no overflow, shifted half is [0, g/2) = all
        }
    }

    @Test
    void noSinksNoShiftIsBlockDiagonal() {
        SplittableRandom r = new SplittableRandom(21);
        int n = 22, g = 6;
        Tensor q = VariantAssert.random(r, 1, 2, n, 8), k = VariantAssert.random(r, 1, 2, n, 8), v = VariantAssert.random(r, 1, 2, n, 8);
        for (boolean causal : new boolean[] {false, true}) {
            // Each block attended alone by the reference kernel, causal inside the block.
            float[] expected = new float[2 * n * 8];
            for (int a = 0; a < n; a += g) {
                int len = Math.min(g, n - a);
                Tensor qb = slice(q, a, len), kb = slice(k, a, len), vb = slice(v, a, len);
                boolean[] m = new boolean[len * len];
                for (int i = 0; i < len; i++) for (int j = 0; j < len; j++) m[i * len + j] = !causal || j <= i;
                float[] o = VariantAssert.reference(qb, kb, vb, BoolTensor.of(m, 1, 1, len, len), null, null).toArray();
                for (int h = 0; h < 2; h++) System.arraycopy(o, h * len * 8, expected, (h * n + a) * 8, len * 8);
            }
            Tensor got = new SinkFixedAttention(new SfAttnParams(g, 0, false, causal, null)).forward(q, k, v);
            VariantAssert.assertClose(Tensor.of(expected, 1, 2, n, 8), got, 3e-5, 1e-4, "block diagonal, causal " + causal);
        }
    }

    private static Tensor slice(Tensor t, int start, int len) {
        int h = t.dim(1), d = t.dim(3);
        float[] out = new float[h * len * d];
        for (int hh = 0; hh < h; hh++) for (int i = 0; i < len; i++) for (int c = 0; c < d; c++) out[(hh * len + i) * d + c] = t.get(0, hh, start + i, c);
        return Tensor.of(out, 1, h, len, d);
    }

    @Test
    void shiftedGroupsDoNotWrapAround() {
        // S²-Attn's cyclic roll puts the last g/2 tokens and the first g/2 in one group; SF-Attn does not.
        SplittableRandom r = new SplittableRandom(22);
        int n = 16, g = 8;
        Tensor q = VariantAssert.random(r, 1, 2, n, 4), k = VariantAssert.random(r, 1, 2, n, 4), v = VariantAssert.random(r, 1, 2, n, 4);
        SinkFixedAttention a = new SinkFixedAttention(new SfAttnParams(g, 0, true, false, null));
        float[] base = a.forward(q, k, v).toArray();
        float[] vd = v.toArray();
        for (int c = 0; c < 4; c++) vd[(1 * n + n - 1) * 4 + c] += 10f; // the last token's value in the shifted head
        float[] moved = a.forward(q, k, Tensor.of(vd, 1, 2, n, 4)).toArray();
        for (int i = 0; i < 4; i++) for (int c = 0; c < 4; c++) assertEquals(base[(n + i) * 4 + c], moved[(n + i) * 4 + c], 0f, "first tokens must not see the last");
        boolean changed = false;
        for (int c = 0; c < 4; c++) changed |= base[(n + n - 2) * 4 + c] != moved[(n + n - 2) * 4 + c];
        assertTrue(changed, "the last token's own group sees it");
    }

    @Test
    void registryAndErrors() {
        SplittableRandom r = new SplittableRandom(23);
        Tensor q = VariantAssert.random(r, 1, 2, 40, 8);
        Tensor viaRegistry = VariantRegistry.create("sf-attn-sink", Settings.of("group=8", "sinks=2", "causal=false"), 1).forward(q, q, q);
        VariantAssert.assertClose(VariantAssert.reference(q, q, q, sfMask(2, 40, 8, 2, true, false), null, null), viaRegistry, 3e-5, 1e-4, "registry");
        VariantAssert.assertRejects("no parameter sink", () -> VariantRegistry.create("sf-attn-sink", Settings.of("sink=2"), 1));
        Tensor k = VariantAssert.random(r, 1, 2, 30, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SinkFixedAttention(new SfAttnParams(0, 4, true, true, null)).forward(q, k, k));
        assertTrue(e.getMessage().startsWith("k:"), e.getMessage());
        assertField("group", () -> new SfAttnParams(-1, 4, true, true, null));
        assertField("sinks", () -> new SfAttnParams(8, -2, true, true, null));
        assertField("scale", () -> new SfAttnParams(8, 2, true, true, 0f));
        assertField("params", () -> new SinkFixedAttention(null));
    }
}
