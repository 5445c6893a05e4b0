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
        return DecoderWeights.random(c, !untied, seed);
    }

    static int[] tokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }
}
