package org.attn4j.models.decoder;

/** Times decode steps on a contiguous and on a paged cache (one sequence, alternating), 64 steps, 3 repeats: {@code main(contextTokens)}. */
public class PagedKvBench {
    public static void main(String[] a) {
        // Llama-like: vocab 512, dim 256, 4 layers, 8 heads / 2 kv heads of 32, ffn 512, ctx 4096.
        DecoderConfig c = new DecoderConfig(DecoderConfig.Arch.LLAMA, 512, 256, 4, 8, 2, 32, 512, 4096, 1e-5f, 10000f, 32,
                DecoderConfig.RopeStyle.HALVES, null, 0);
        DecoderModel m = new DecoderModel(c, DecoderWeights.random(c, false, 1)).threads(1);
        int ctx = Integer.parseInt(a[0]), steps = 64;
        int[] prompt = new int[ctx];
        for (int i = 0; i < ctx; i++) prompt[i] = (i * 31) % 512;
        for (int rep = 0; rep < 3; rep++) {
            KvCache flat = m.newCache(ctx + steps + 1);
            KvCache paged = m.newCache(ctx + steps + 1, new KvPolicy.Full(), new KvBlockPool(c, (ctx + steps + 16) / 16 + 1, 16));
            m.forward(flat, prompt, false);
            m.forward(paged, prompt, false);
            long tf = 0, tp = 0;
            for (int s = 0; s < steps; s++) {
                long t0 = System.nanoTime();
                m.forward(flat, new int[] {s % 512}, false);
                long t1 = System.nanoTime();
                m.forward(paged, new int[] {s % 512}, false);
                tp += System.nanoTime() - t1;
                tf += t1 - t0;
            }
            System.out.printf("context %d: contiguous %.2f ms/step, paged %.2f ms/step, paged/contiguous %.2f%n", ctx, tf / 1e6 / steps, tp / 1e6 / steps, (double) tp / tf);
        }
    }
}
