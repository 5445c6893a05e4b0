package org.attn4j.models.decoder;

import java.util.Random;

/** Tiny random-weight decoders of every architecture, for differential tests. */
final class TinyDecoders {
    private TinyDecoders() {}

    /** Named test cases: the architecture and the features each one exercises. */
    enum Kind {
        LLAMA_GQA, LLAMA3_SCALED_HALVES, LLAMA_TIED, MISTRAL_WINDOW, QWEN2, QWEN3, GPT2
    }

    static DecoderConfig config(Kind kind) {
        return switch (kind) {
            case LLAMA_GQA -> new DecoderConfig(DecoderConfig.Arch.LLAMA, 61, 32, 2, 4, 2, 8, 48, 128, 1e-5f, 10000f, 8,
                    DecoderConfig.RopeStyle.INTERLEAVED, null, 0);
            case LLAMA3_SCALED_HALVES -> new DecoderConfig(DecoderConfig.Arch.LLAMA, 61, 32, 2, 4, 1, 8, 40, 128, 1e-5f, 500000f, 8,
                    DecoderConfig.RopeStyle.HALVES, DecoderConfig.llama3Factors(8, 500000f, 8f, 1f, 4f, 16), 0);
            case LLAMA_TIED -> new DecoderConfig(DecoderConfig.Arch.LLAMA, 50, 24, 2, 3, 3, 8, 40, 128, 1e-6f, 10000f, 8,
                    DecoderConfig.RopeStyle.INTERLEAVED, null, 0);
            case MISTRAL_WINDOW -> new DecoderConfig(DecoderConfig.Arch.LLAMA, 61, 32, 2, 4, 2, 8, 48, 128, 1e-5f, 10000f, 8,
                    DecoderConfig.RopeStyle.INTERLEAVED, null, 4);
            case QWEN2 -> new DecoderConfig(DecoderConfig.Arch.QWEN2, 61, 32, 2, 4, 2, 8, 48, 128, 1e-6f, 1000000f, 8,
                    DecoderConfig.RopeStyle.HALVES, null, 0);
            case QWEN3 -> new DecoderConfig(DecoderConfig.Arch.QWEN3, 61, 32, 2, 4, 2, 16, 48, 128, 1e-6f, 1000000f, 16,
                    DecoderConfig.RopeStyle.HALVES, null, 0);
            case GPT2 -> new DecoderConfig(DecoderConfig.Arch.GPT2, 61, 32, 2, 4, 4, 8, 128, 64, 1e-5f, 10000f, 0,
                    DecoderConfig.RopeStyle.NONE, null, 0);
        };
    }

    static DecoderModel model(Kind kind, long seed) {
        DecoderConfig c = config(kind);
        return new DecoderModel(c, weights(c, kind != Kind.LLAMA_TIED, seed));
    }

    static DecoderWeights weights(DecoderConfig c, boolean untied, long seed) {
        Random r = new Random(seed);
        boolean gpt2 = c.arch() == DecoderConfig.Arch.GPT2, qwen2 = c.arch() == DecoderConfig.Arch.QWEN2, qwen3 = c.arch() == DecoderConfig.Arch.QWEN3;
        int d = c.dim(), q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim(), f = c.ffn();
        DecoderWeights.Layer[] ls = new DecoderWeights.Layer[c.layers()];
        for (int i = 0; i < ls.length; i++) {
            ls[i] = new DecoderWeights.Layer(norm(r, d), gpt2 ? vec(r, d, 0.1) : null,
                    mat(r, q, d), gpt2 || qwen2 ? vec(r, q, 0.2) : null,
                    mat(r, kv, d), gpt2 || qwen2 ? vec(r, kv, 0.2) : null,
                    mat(r, kv, d), gpt2 || qwen2 ? vec(r, kv, 0.2) : null,
                    qwen3 ? norm(r, c.headDim()) : null, qwen3 ? norm(r, c.headDim()) : null,
                    mat(r, d, q), gpt2 ? vec(r, d, 0.1) : null,
                    norm(r, d), gpt2 ? vec(r, d, 0.1) : null,
                    gpt2 ? null : mat(r, f, d), mat(r, f, d), gpt2 ? vec(r, f, 0.1) : null,
                    mat(r, d, f), gpt2 ? vec(r, d, 0.1) : null);
        }
        return new DecoderWeights(vec(r, c.vocab() * d, 1.0), gpt2 ? vec(r, c.contextLength() * d, 0.3) : null, ls,
                norm(r, d), gpt2 ? vec(r, d, 0.1) : null, untied ? mat(r, c.vocab(), d) : null);
    }

    /** Uniform in ±√(3/in): unit-variance outputs for unit-variance inputs, so activations stay O(1). */
    private static float[] mat(Random r, int out, int in) {
        float[] a = new float[out * in];
        double s = Math.sqrt(3.0 / in);
        for (int i = 0; i < a.length; i++) a[i] = (float) ((2 * r.nextDouble() - 1) * s);
        return a;
    }

    private static float[] vec(Random r, int n, double s) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * s);
        return a;
    }

    private static float[] norm(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (1 + 0.2 * r.nextGaussian());
        return a;
    }

    static int[] tokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }
}
