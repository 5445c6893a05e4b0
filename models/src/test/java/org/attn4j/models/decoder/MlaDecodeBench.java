package org.attn4j.models.decoder;

/**
 * Decode steps of a random DeepSeek-V2-shaped model with the latent cache, the absorbed form against
 * the plain form that decompresses every cached latent into per-head keys and values each step,
 * stepped alternately: {@code main(threads, context, steps)}. Attention shape of DeepSeek-V2-Lite
 * (16 heads, kv_lora_rank 512, qk_nope 128, qk_rope 64, v_head 128, plain q projection) on a small
 * residual (512 wide, 2 layers, FFN 1024, vocab 1000) so that attention dominates. Random weights:
 * timing only.
 */
public class MlaDecodeBench {
    public static void main(String[] a) {
        int threads = Integer.parseInt(a[0]), context = Integer.parseInt(a[1]), steps = Integer.parseInt(a[2]);
        var mla = new DecoderConfig.Mla(0, 512, 128, 64, 128);
        var c = new DecoderConfig(DecoderConfig.Arch.DEEPSEEK2, 1000, 512, 2, 16, 1, 192, 1024, context + steps + 1, 1e-6f, 10000f, 64,
                DecoderConfig.RopeStyle.INTERLEAVED, null, 0, mla);
        DecoderWeights w = DecoderWeights.random(c, false, 1);
        DecoderModel[] models = {new DecoderModel(c, w).threads(threads), new DecoderModel(c, w).threads(threads).absorbed(false)};
        String[] names = {"absorbed (latent rows as keys/values)", "plain (decompress K/V from latents each step)"};
        int[] prompt = TinyDecoders.tokens(context, c.vocab(), 3);
        KvCache[] caches = new KvCache[2];
        for (int m = 0; m < 2; m++) {
            caches[m] = models[m].newCache(context + steps + 1, new KvPolicy.Latent());
            models[m].forward(caches[m], prompt, false);
        }
        long[][] t = new long[2][steps];
        for (int s = 0; s < steps; s++) {
            for (int m = 0; m < 2; m++) {
                long t0 = System.nanoTime();
                models[m].forward(caches[m], new int[] {(s * 131 + 7) % c.vocab()}, false);
                t[m][s] = System.nanoTime() - t0;
            }
        }
        double[] med = new double[2];
        for (int m = 0; m < 2; m++) {
            java.util.Arrays.sort(t[m]);
            med[m] = t[m][steps / 2] / 1e6;
            System.out.printf("%-46s context %d, %d threads: %.2f ms/step (min %.2f)%n", names[m], context, threads, med[m], t[m][0] / 1e6);
        }
        // A plain cache holds every head's key (qk_nope + qk_rope) and value (v_head).
        int plain = c.heads() * (mla.qkNopeDim() + mla.qkRopeDim() + mla.vHeadDim());
        System.out.printf("plain / absorbed time per step: %.1f; cache floats per token and layer: latent %d, plain K/V %d (%.1fx)%n",
                med[1] / med[0], caches[0].floatsPerPosition(), plain, (double) plain / caches[0].floatsPerPosition());
    }
}
