package org.attn4j.models.decoder;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.*;

class PagedKvCacheTest {

    /** One live sequence: its paged cache, a contiguous twin driven with the same tokens, and its token stream. */
    private record Seq(KvCache paged, KvCache twin, int[] stream, int[] next) {}

    private static KvPolicy policy(String name) {
        return switch (name) {
            case "full" -> new KvPolicy.Full();
            case "window" -> new KvPolicy.Window(9);
            case "sinks" -> new KvPolicy.Sinks(2, 9);
            case "h2o" -> new KvPolicy.HeavyHitters(9, 4);
            default -> throw new IllegalArgumentException(name);
        };
    }

    private static Seq join(DecoderModel m, KvBlockPool pool, String pol, long seed, int prompt, float[][] check) {
        int[] stream = TinyDecoders.tokens(40, m.config().vocab(), seed);
        Seq s = new Seq(m.newCache(64, policy(pol), pool), new KvCache(m.config(), 64, policy(pol)), stream, new int[] {prompt});
        int[] p = java.util.Arrays.copyOf(stream, prompt);
        check[0] = m.forward(s.paged, p, true);
        check[1] = m.forward(s.twin, p, true);
        return s;
    }

    /**
     * Sequences join (prefill), decode together in batched steps and leave at different times on a
     * pool of 4-position blocks, so blocks interleave between sequences (non-adjacent runs) and a
     * leaver's blocks are reused by a joiner; every logits row equals the contiguous cache's.
     */
    @ParameterizedTest
    @CsvSource({"LLAMA_GQA,full", "LLAMA_GQA,window", "LLAMA_GQA,sinks", "LLAMA_GQA,h2o", "QWEN3,full", "QWEN3,sinks",
            "GPT2,full", "GPT2,window", "MISTRAL_WINDOW,full", "LLAMA3_SCALED_HALVES,h2o"})
    void pagedDecodeEqualsTheContiguousCache(TinyDecoders.Kind kind, String pol) {
        DecoderModel m = TinyDecoders.model(kind, 71).threads(2);
        int vocab = m.config().vocab();
        KvBlockPool pool = new KvBlockPool(m.config(), 24, 4);
        List<Seq> live = new ArrayList<>();
        float[][] pf = new float[2][];
        double worst = 0;
        long seed = 100;
        int joined = 0, maxHeld = 0;
        java.util.Set<Integer> leaverBlocks = new java.util.HashSet<>();
        boolean reused = false;
        for (int step = 0; step < 26; step++) {
            // Joins at steps 0, 0, 3, 8 and 14; prompts of 6, 3, 11, 5, 2 tokens.
            if (step == 0 || step == 3 || step == 8 || step == 14) {
                int prompt = new int[] {6, 3, 11, 5, 2}[joined];
                Seq s = join(m, pool, pol, seed++, prompt, pf);
                for (int i = 0; i < prompt; i++) worst = Math.max(worst, err(pf[0], i * vocab, pf[1], i * vocab, vocab));
                if (!leaverBlocks.isEmpty()) {
                    for (int b = 0; b < s.paged.blocksHeld(); b++) reused |= leaverBlocks.contains(blockOf(s.paged, b));
                }
                live.add(s);
                joined++;
                if (step == 0) {
                    s = join(m, pool, pol, seed++, new int[] {6, 3, 11, 5, 2}[joined], pf);
                    live.add(s);
                    joined++;
                }
            }
            // The oldest sequence leaves at steps 6 and 12.
            if ((step == 6 || step == 12) && !live.isEmpty()) {
                Seq gone = live.remove(0);
                for (int b = 0; b < gone.paged.blocksHeld(); b++) leaverBlocks.add(blockOf(gone.paged, b));
                gone.paged.release();
                assertEquals(0, gone.paged.blocksHeld());
            }
            KvCache[] cs = new KvCache[live.size()];
            int[] toks = new int[live.size()];
            for (int i = 0; i < cs.length; i++) {
                Seq s = live.get(i);
                cs[i] = s.paged;
                toks[i] = s.stream[s.next[0]++ % s.stream.length];
            }
            float[] batched = m.step(cs, toks);
            for (int i = 0; i < cs.length; i++) {
                float[] ref = m.forward(live.get(i).twin, new int[] {toks[i]}, false);
                worst = Math.max(worst, err(batched, i * vocab, ref, 0, vocab));
                assertEquals(live.get(i).twin.length(), cs[i].length());
            }
            int held = 0;
            for (Seq s : live) {
                held += s.paged.blocksHeld();
                assertEquals((s.paged.length() + 3) / 4, s.paged.blocksHeld(), "blocks held = ceil(length / blockSize)");
            }
            assertEquals(pool.blocks() - held, pool.freeBlocks(), "no block lost or shared at step " + step);
            maxHeld = Math.max(maxHeld, held);
        }
        assertTrue(worst < 1e-5, kind + " " + pol + ": worst relative error " + worst);
        assertTrue(reused, "a joiner reused a leaver's blocks");
        assertTrue(maxHeld > 4, "several blocks in use at once: " + maxHeld);
        for (Seq s : live) s.paged.release();
        assertEquals(pool.blocks(), pool.freeBlocks(), "every block back after all sequences left");
    }

    @Test
    void interleavedBlocksGiveSeveralRunsAndTheSameLogits() {
        DecoderModel m = TinyDecoders.model(TinyDecoders.Kind.LLAMA_GQA, 72);
        KvBlockPool pool = new KvBlockPool(m.config(), 16, 2);
        KvCache a = m.newCache(32, new KvPolicy.Full(), pool), b = m.newCache(32, new KvPolicy.Full(), pool);
        KvCache ta = new KvCache(m.config(), 32), tb = new KvCache(m.config(), 32);
        int[] sa = TinyDecoders.tokens(9, m.config().vocab(), 5), sb = TinyDecoders.tokens(9, m.config().vocab(), 6);
        for (int i = 0; i < 9; i++) {
            float[] out = m.step(new KvCache[] {a, b}, new int[] {sa[i], sb[i]});
            float[] ra = m.forward(ta, new int[] {sa[i]}, false), rb = m.forward(tb, new int[] {sb[i]}, false);
            assertTrue(err(out, 0, ra, 0, m.config().vocab()) < 1e-5);
            assertTrue(err(out, m.config().vocab(), rb, 0, m.config().vocab()) < 1e-5);
        }
        // Growing in lock-step, the two sequences' blocks alternate in the pool: one run per block.
        assertEquals(5 * 3, a.runs(9).length);
        assertEquals(5, a.blocksHeld());
    }

    @Test
    void anExhaustedPoolIsAClearError() {
        DecoderModel m = TinyDecoders.model(TinyDecoders.Kind.QWEN2, 73);
        KvBlockPool pool = new KvBlockPool(m.config(), 3, 4);
        KvCache a = m.newCache(32, new KvPolicy.Full(), pool);
        m.forward(a, TinyDecoders.tokens(12, m.config().vocab(), 1), false);
        KvCache b = m.newCache(32, new KvPolicy.Full(), pool);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forward(b, new int[] {1}, false));
        assertEquals("KV block pool exhausted: all 3 blocks of 4 positions are in use; release a sequence's cache or build a larger pool", e.getMessage());
        assertEquals(0, b.length());
        // In a batched step, a sequence that got its block gives it back when a later one cannot.
        KvCache c = m.newCache(32, new KvPolicy.Full(), pool);
        assertEquals(0, pool.freeBlocks(), "a holds " + a.blocksHeld() + " b " + b.blocksHeld());
        a.truncate(8);
        assertEquals(1, pool.freeBlocks(), "a holds " + a.blocksHeld());
        assertThrows(IllegalStateException.class, () -> m.step(new KvCache[] {c, b}, new int[] {1, 2}));
        assertEquals(0, c.blocksHeld());
        assertEquals(1, pool.freeBlocks());
        a.release();
        assertEquals(3, pool.freeBlocks());
        m.forward(b, new int[] {1}, false);
        assertEquals(1, b.blocksHeld());
    }

    private static int blockOf(KvCache c, int b) {
        // Head 0's offset of the block's first row identifies the block.
        return c.offset(0, b * c.pool().blockSize());
    }

    private static double err(float[] a, int ao, float[] b, int bo, int n) {
        double num = 0, den = 0;
        for (int i = 0; i < n; i++) {
            num = Math.max(num, Math.abs(a[ao + i] - b[bo + i]));
            den = Math.max(den, Math.abs(b[bo + i]));
        }
        return num / den;
    }
}
