package org.attn4j.train.task;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Induction/copy and selective copying against their definitions, and their registration in {@link Tasks}. */
class SyntheticTasksTest {

    @Test
    void inductionRepeatsDistinctTokensAndMarksOnlyTheSecondHalf() {
        int t = 32, l = 16, v = 40;
        Batch b = new Induction(new Induction.Config(v, t), 1).next(300);
        for (int e = 0; e < b.batch(); e++) {
            int o = e * t;
            Set<Integer> seen = new HashSet<>();
            for (int p = 0; p < l; p++) {
                int tok = b.tokens()[o + p];
                assertTrue(tok >= 1 && tok < v, "token in [1, V)");
                assertTrue(seen.add(tok), "tokens of the first half are distinct");
                assertEquals(tok, b.tokens()[o + l + p], "second half repeats the first");
            }
            for (int p = 0; p < t; p++) {
                boolean marked = b.lossMask()[o + p];
                assertEquals(p >= l && p < t - 1, marked, "marked exactly at [L, T-1), position " + p);
                if (marked) {
                    assertEquals(b.tokens()[o + p + 1], b.targets()[o + p], "target is the next token");
                    // The answer is recoverable by induction: the token after this token's first occurrence.
                    int first = p - l;
                    assertEquals(b.tokens()[o + first + 1], b.targets()[o + p]);
                }
            }
        }
        assertEquals(300 * (l - 1), b.marked());
    }

    @Test
    void selectiveCopyScattersDataAmongNoiseAndAsksForItInOrder() {
        SelectiveCopy.Config c = new SelectiveCopy.Config(10, 64, 8);
        Batch b = new SelectiveCopy(c, 2).next(400);
        int t = 64, k = 8, region = 56;
        int[] firstPosition = new int[region];
        for (int e = 0; e < b.batch(); e++) {
            int o = e * t;
            int n = 0;
            int[] data = new int[k];
            for (int p = 0; p < region; p++) {
                int tok = b.tokens()[o + p];
                assertFalse(b.lossMask()[o + p], "nothing marked in the noise region");
                if (tok != SelectiveCopy.NOISE) {
                    assertTrue(tok >= 1 && tok < 9, "data token in [1, V-1), got " + tok);
                    data[n++] = tok;
                    if (n == 1) firstPosition[p]++;
                }
            }
            assertEquals(k, n, "exactly K data tokens in the region");
            for (int i = 0; i < k; i++) {
                int p = o + region + i;
                assertEquals(c.delimiter(), b.tokens()[p], "answer slots hold the delimiter");
                assertTrue(b.lossMask()[p], "answer slots are marked");
                assertEquals(data[i], b.targets()[p], "the i-th answer is the i-th data token in order");
            }
        }
        assertEquals(400 * k, b.marked());
        // Positions vary: the first data token is not always in the same place.
        int distinctFirst = 0;
        for (int f : firstPosition) if (f > 0) distinctFirst++;
        assertTrue(distinctFirst > 10, "scattered, not fixed: first data token seen at " + distinctFirst + " positions");
    }

    @Test
    void sameSeedSameBatchesAndHeldOutSharesNothing() {
        Tasks.Options o = new Tasks.Options(48, 1000, 4).withCopyTokens(6);
        for (String name : List.of("mqar", "induction", "selective-copy")) {
            Tasks.Prepared a = Tasks.prepare(name, o, 9, 4, 16), b = Tasks.prepare(name, o, 9, 4, 16);
            Batch x = a.train().next(16), y = b.train().next(16);
            assertArrayEquals(x.tokens(), y.tokens(), name + ": same seed, same tokens");
            assertArrayEquals(x.targets(), y.targets(), name);
            assertArrayEquals(x.lossMask(), y.lossMask(), name);
            assertFalse(java.util.Arrays.equals(x.tokens(), Tasks.prepare(name, o, 10, 1, 16).train().next(16).tokens()), name + ": another seed differs");
            assertEquals(4, a.heldOut().size());
            for (int i = 0; i < 4; i++) assertArrayEquals(a.heldOut().get(i).tokens(), b.heldOut().get(i).tokens(), name + ": held-out is seeded too");
            Set<String> train = new HashSet<>();
            for (int s = 0; s < 50; s++) {
                Batch tb = a.train().next(16);
                for (int e = 0; e < 16; e++) train.add(java.util.Arrays.toString(java.util.Arrays.copyOfRange(tb.tokens(), e * 48, (e + 1) * 48)));
            }
            for (Batch hb : a.heldOut()) {
                for (int e = 0; e < hb.batch(); e++) {
                    String seq = java.util.Arrays.toString(java.util.Arrays.copyOfRange(hb.tokens(), e * 48, (e + 1) * 48));
                    assertFalse(train.contains(seq), name + ": a held-out sequence appears in training");
                }
            }
            assertEquals(1000, a.vocab());
            assertEquals(48, a.seqLen());
        }
    }

    @Test
    void aDatasetIsTheStreamsNextBatchesAndABadBatchSizeIsNamed() {
        var cfg = new Induction.Config(50, 12);
        List<Batch> set = Induction.dataset(cfg, 3, 5, 77);
        Induction stream = new Induction(cfg, 77);
        for (Batch b : set) assertArrayEquals(stream.next(5).tokens(), b.tokens());
        var sc = new SelectiveCopy.Config(10, 24, 4);
        List<Batch> copies = SelectiveCopy.dataset(sc, 2, 3, 5);
        SelectiveCopy copyStream = new SelectiveCopy(sc, 5);
        for (Batch b : copies) assertArrayEquals(copyStream.next(3).targets(), b.targets());
        var e = assertThrows(IllegalArgumentException.class, () -> new SelectiveCopy(sc, 1).next(0));
        assertEquals("batchSize: expected > 0, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> stream.take(-1, 2));
    }

    @Test
    void badSizesNameTheOption() {
        var e = assertThrows(IllegalArgumentException.class, () -> Tasks.prepare("induction", new Tasks.Options(64, 20, 1), 1, 1, 1));
        assertTrue(e.getMessage().startsWith("vocab:"), e.getMessage());
        var s = assertThrows(IllegalArgumentException.class, () -> Tasks.prepare("selective-copy", new Tasks.Options(20, 16, 1).withCopyTokens(11), 1, 1, 1));
        assertTrue(s.getMessage().startsWith("seqLen:"), s.getMessage());
        var u = assertThrows(IllegalArgumentException.class, () -> Tasks.prepare("copy", new Tasks.Options(20, 16, 1), 1, 1, 1));
        assertTrue(u.getMessage().startsWith("task:") && u.getMessage().contains("selective-copy"), u.getMessage());
        var l = assertThrows(IllegalArgumentException.class, () -> Tasks.prepare("lm", new Tasks.Options(20, 16, 1), 1, 1, 1));
        assertTrue(l.getMessage().startsWith("text:"), l.getMessage());
        var k = assertThrows(IllegalArgumentException.class, () -> new Tasks.Options(20, 16, 1).withTokenizer("bpe:x"));
        assertTrue(k.getMessage().startsWith("tokenizer:"), k.getMessage());
        assertEquals(List.of("mqar", "induction", "selective-copy", "lm"), Tasks.names());
    }
}
