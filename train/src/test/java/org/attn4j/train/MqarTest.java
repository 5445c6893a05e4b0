package org.attn4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.attn4j.train.task.Batch;
import org.attn4j.train.task.Mqar;
import org.junit.jupiter.api.Test;

/** The MQAR generator against Zoology's definition. */
class MqarTest {

    @Test
    void everyExampleFollowsTheDefinition() {
        Mqar.Config cfg = Mqar.Config.of(64, 8).withVocab(256);
        Batch b = new Mqar(cfg, 3).next(500);
        int t = 64, k = 8, half = 128;
        for (int e = 0; e < b.batch(); e++) {
            int o = e * t;
            Set<Integer> keys = new HashSet<>(), values = new HashSet<>();
            int[] valueOf = new int[256];
            for (int i = 0; i < k; i++) {
                int key = b.tokens()[o + 2 * i], value = b.tokens()[o + 2 * i + 1];
                assertTrue(key >= 1 && key < half, "key " + key + " in [1, V/2)");
                assertTrue(value >= half && value < 256, "value " + value + " in [V/2, V)");
                keys.add(key);
                values.add(value);
                valueOf[key] = value;
                assertFalse(b.lossMask()[o + 2 * i] || b.lossMask()[o + 2 * i + 1], "no loss inside the pairs");
            }
            assertEquals(k, keys.size(), "distinct keys");
            assertEquals(k, values.size(), "distinct values");
            Set<Integer> queried = new HashSet<>();
            for (int p = 2 * k; p < t; p++) {
                if (!b.lossMask()[o + p]) continue;
                assertEquals(0, (p - 2 * k) % 2, "queries sit at even offsets after the pairs");
                int key = b.tokens()[o + p];
                assertTrue(keys.contains(key), "a marked position holds one of the keys");
                assertEquals(valueOf[key], b.targets()[o + p], "its target is that key's value");
                queried.add(key);
            }
            assertEquals(keys, queried, "each key is queried exactly once");
        }
        assertEquals(500 * k, b.marked());
    }

    @Test
    void gapsFollowThePowerLaw() {
        // seq 64, 4 pairs: 28 gaps. p ∝ (g+1)^(a−1): for a = 0.01 a draw lands in the first quarter (7 gaps)
        // with probability H(7)/H(28) ≈ 0.66 (more when drawing without replacement pulls the rest down
        // less than uniform); for a = 1 (uniform) with probability 0.25.
        assertTrue(firstQuarterShare(0.01) > 0.55, "power law a = 0.01 favours short gaps");
        double uniform = firstQuarterShare(1.0);
        assertTrue(uniform > 0.22 && uniform < 0.28, "a = 1 is uniform, got " + uniform);
    }

    /**
     * Zoology draws the gaps with numpy's {@code choice(space, size=K, replace=False, p=p)},
     * {@code p[g] = a·(g+1)^(a−1)} normalised. With one pair that is a single draw, so each gap's
     * frequency must match {@code p[g]}, computed here from the formula: within 5 standard errors
     * over 200 000 examples (seq 64: 31 gaps), for a = 0.01 and for a = 0.5.
     */
    @Test
    void oneQueryGapHasZoologysDistribution() {
        for (double a : new double[] {0.01, 0.5}) {
            int space = (64 - 2) / 2, n = 200_000;
            double[] p = new double[space];
            double total = 0;
            for (int g = 0; g < space; g++) total += p[g] = a * Math.pow(g + 1, a - 1);
            long[] count = new long[space];
            Mqar m = new Mqar(new Mqar.Config(256, 64, 1, a, false), 3);
            for (int chunk = 0; chunk < n / 20_000; chunk++) {
                Batch b = m.next(20_000);
                for (int e = 0; e < b.batch(); e++) {
                    for (int q = 2; q < 64; q++) if (b.lossMask()[e * 64 + q]) count[(q - 2) / 2]++;
                }
            }
            for (int g = 0; g < space; g++) {
                double expected = p[g] / total, se = Math.sqrt(expected * (1 - expected) / n);
                assertEquals(expected, (double) count[g] / n, 5 * se, "a=" + a + " gap " + g);
            }
        }
    }

    private static double firstQuarterShare(double a) {
        Mqar.Config cfg = new Mqar.Config(256, 64, 4, a, true);
        Batch b = new Mqar(cfg, 11).next(4000);
        int near = 0, all = 0;
        for (int e = 0; e < b.batch(); e++) {
            for (int p = 8; p < 64; p++) {
                if (!b.lossMask()[e * 64 + p]) continue;
                all++;
                if ((p - 8) / 2 < 7) near++;
            }
        }
        return (double) near / all;
    }

    @Test
    void seededAndHeldOutDiffers() {
        Mqar.Config cfg = Mqar.Config.of(64, 4).withVocab(512);
        Batch a = new Mqar(cfg, 5).next(16), b = new Mqar(cfg, 5).next(16);
        assertArrayEquals(a.tokens(), b.tokens());
        assertArrayEquals(a.targets(), b.targets());
        assertArrayEquals(a.lossMask(), b.lossMask());
        List<Batch> heldOut = Mqar.dataset(cfg, 1, 16, 6);
        assertFalse(java.util.Arrays.equals(a.tokens(), heldOut.get(0).tokens()));
    }

    @Test
    void fillerIsRandomOrZero() {
        Batch zero = new Mqar(new Mqar.Config(256, 64, 4, 0.01, false), 1).next(4);
        Batch random = new Mqar(new Mqar.Config(256, 64, 4, 0.01, true), 1).next(4);
        int zeros = 0, randomZeros = 0;
        for (int i = 0; i < zero.tokens().length; i++) {
            if (zero.tokens()[i] == 0) zeros++;
            if (random.tokens()[i] == 0) randomZeros++;
        }
        assertEquals(4 * (64 - 2 * 4 - 4), zeros, "without random filler every position that is not a pair or a query is 0");
        assertTrue(randomZeros < 10);
    }

    @Test
    void rejectsBadSizes() {
        assertThrows(IllegalArgumentException.class, () -> new Mqar.Config(64, 64, 4, 0.01, true));   // vocab ≤ seqLen
        assertThrows(IllegalArgumentException.class, () -> new Mqar.Config(256, 63, 4, 0.01, true));  // odd length
        assertThrows(IllegalArgumentException.class, () -> new Mqar.Config(256, 64, 17, 0.01, true)); // 4K > T
        assertThrows(IllegalArgumentException.class, () -> new Mqar.Config(256, 64, 4, 0, true));
    }

    /**
     * A mixture stream: every sequence is a valid MQAR example for the K it drew (pairs, one query per
     * key, zero filler elsewhere), the K of the choices come out about equally often, and the gap of a
     * single query follows the power law over that K's own gap space (not the widest one).
     */
    @Test
    void mixtureDrawsEachSequencesPairCount() {
        int t = 64, v = 256, half = 128, n = 6000;
        int[] choices = {1, 4, 16};
        Batch b = new Mqar(Mqar.Config.of(t, 16).withVocab(v), 9, choices).next(n);
        int[] seen = new int[17];
        long firstGap = 0, ones = 0;
        for (int e = 0; e < n; e++) {
            int o = e * t, k = 0;
            for (int p = 0; p < t; p++) if (b.lossMask()[o + p]) k++;
            assertTrue(k == 1 || k == 4 || k == 16, "K is one of the choices, got " + k);
            seen[k]++;
            int[] valueOf = new int[v];
            Set<Integer> keys = new HashSet<>();
            for (int i = 0; i < k; i++) {
                int key = b.tokens()[o + 2 * i], value = b.tokens()[o + 2 * i + 1];
                assertTrue(key >= 1 && key < half && value >= half && value < v, "pair " + i + " of example " + e);
                keys.add(key);
                valueOf[key] = value;
            }
            assertEquals(k, keys.size(), "distinct keys");
            for (int p = 2 * k; p < t; p++) {
                if (b.lossMask()[o + p]) {
                    assertEquals(0, (p - 2 * k) % 2, "queries at even offsets after the K pairs");
                    assertEquals(valueOf[b.tokens()[o + p]], b.targets()[o + p], "target is the key's value");
                    if (k == 1) {
                        ones++;
                        if (p == 2) firstGap++;
                    }
                } else {
                    assertEquals(0, b.tokens()[o + p], "filler after the pairs is 0");
                }
            }
        }
        for (int k : choices) assertEquals(n / 3.0, seen[k], 5 * Math.sqrt(n * (1 / 3.0) * (2 / 3.0)), "share of K=" + k);
        // K = 1: 31 gaps; p[0] = 1/Σ(g+1)^(−0.99) over 31 gaps (about 0.249), computed from the formula
        double total = 0;
        for (int g = 0; g < 31; g++) total += Math.pow(g + 1, 0.01 - 1);
        double p0 = 1 / total, se = Math.sqrt(p0 * (1 - p0) / ones);
        assertEquals(p0, (double) firstGap / ones, 5 * se, "gap 0 of a one-pair sequence");
    }

    @Test
    void oneChoiceIsTheSingleCountStream() {
        Mqar.Config cfg = Mqar.Config.of(64, 8).withVocab(256);
        Batch a = new Mqar(cfg, 4).next(32), b = new Mqar(cfg, 4, new int[] {8}).next(32);
        assertArrayEquals(a.tokens(), b.tokens());
        assertArrayEquals(a.targets(), b.targets());
    }

    @Test
    void mixtureRejectsBadCounts() {
        Mqar.Config cfg = Mqar.Config.of(64, 8).withVocab(256);
        var big = assertThrows(IllegalArgumentException.class, () -> new Mqar(cfg, 1, new int[] {4, 17}));
        assertTrue(big.getMessage().startsWith("kvChoices: kvPairs: expected at most seqLen/4=16, got 17"), big.getMessage());
        var none = assertThrows(IllegalArgumentException.class, () -> new Mqar(cfg, 1, new int[0]));
        assertTrue(none.getMessage().startsWith("kvChoices:"), none.getMessage());
        var opt = assertThrows(IllegalArgumentException.class,
                () -> org.attn4j.train.task.Tasks.prepare("mqar", new org.attn4j.train.task.Tasks.Options(64, 256, 8).withTrainKvPairs(List.of(4, 0)), 1, 1, 1));
        assertTrue(opt.getMessage().startsWith("train-kv-pairs:"), opt.getMessage());
        var far = assertThrows(IllegalArgumentException.class,
                () -> org.attn4j.train.task.Tasks.prepare("mqar", new org.attn4j.train.task.Tasks.Options(64, 256, 8).withTrainKvPairs(List.of(4, 20)), 1, 1, 1));
        assertTrue(far.getMessage().startsWith("train-kv-pairs: expected at most seqLen/4=16, got 20"), far.getMessage());
    }
}
