package org.attn4j.models.decoder;

/**
 * The shape and arithmetic of a decoder-only transformer, as read from GGUF metadata or a Hugging
 * Face {@code config.json}. All sizes are element counts.
 *
 * @param arch          architecture family (decides which tensors exist and the block's arithmetic)
 * @param vocab         vocabulary size (rows of the token embedding and of the output matrix)
 * @param dim           residual width
 * @param layers        number of blocks
 * @param heads         query heads
 * @param kvHeads       key/value heads (GQA when fewer than {@code heads}; must divide it)
 * @param headDim       width of one head (Qwen3 sets it independently of {@code dim / heads})
 * @param ffn           hidden width of the feed-forward block
 * @param contextLength largest position the model was built for (GPT-2's learned positions stop there)
 * @param normEps       epsilon of RMSNorm / LayerNorm
 * @param ropeTheta     RoPE base frequency (unused for GPT-2)
 * @param ropeDim       leading dimensions of a head that RoPE rotates (normally {@code headDim})
 * @param rope          which dimensions form a rotated pair (see {@link RopeStyle})
 * @param ropeFactors   per-frequency divisors of the RoPE frequencies ({@code ropeDim / 2} of them,
 *                      Llama 3's frequency scaling), or null for none
 * @param slidingWindow keys a query sees including itself (Mistral), or 0 for unlimited
 * @param mla           the latent attention shape of {@link Arch#DEEPSEEK2}, null for every other architecture
 */
public record DecoderConfig(Arch arch, int vocab, int dim, int layers, int heads, int kvHeads, int headDim, int ffn,
                            int contextLength, float normEps, float ropeTheta, int ropeDim, RopeStyle rope,
                            float[] ropeFactors, int slidingWindow, Mla mla) {

    /** A configuration without latent attention (every architecture but {@link Arch#DEEPSEEK2}). */
    public DecoderConfig(Arch arch, int vocab, int dim, int layers, int heads, int kvHeads, int headDim, int ffn,
                         int contextLength, float normEps, float ropeTheta, int ropeDim, RopeStyle rope,
                         float[] ropeFactors, int slidingWindow) {
        this(arch, vocab, dim, layers, heads, kvHeads, headDim, ffn, contextLength, normEps, ropeTheta, ropeDim, rope, ropeFactors, slidingWindow, null);
    }

    /**
     * Multi-head Latent Attention's shape (DeepSeek-V2, arXiv:2405.04434): keys and values of every
     * head are decompressed from one shared latent {@code c_KV} of {@code kvLoraRank} values, plus one
     * shared decoupled RoPE key {@code k^R} of {@code qkRopeDim} values; the query of a head is
     * {@code [q_nope (qkNopeDim), q_rope (qkRopeDim)]}.
     *
     * @param qLoraRank  rank of the query's low-rank projection, 0 for a plain q projection (V2-Lite)
     * @param kvLoraRank width of the latent {@code c_KV}
     * @param qkNopeDim  per-head query/key dimensions without position
     * @param qkRopeDim  per-head query dimensions and shared key dimensions that RoPE rotates
     * @param vHeadDim   per-head value width
     */
    public record Mla(int qLoraRank, int kvLoraRank, int qkNopeDim, int qkRopeDim, int vHeadDim) {
        public Mla {
            if (qLoraRank < 0) throw new IllegalArgumentException("qLoraRank: expected >= 0 (0 = plain q projection), got " + qLoraRank);
            positive("kvLoraRank", kvLoraRank);
            positive("qkNopeDim", qkNopeDim);
            positive("vHeadDim", vHeadDim);
            if (qkRopeDim <= 0 || qkRopeDim % 2 != 0) throw new IllegalArgumentException("qkRopeDim: expected an even number >= 2, got " + qkRopeDim);
        }

        /** Floats the latent cache holds per token and layer: {@code kvLoraRank + qkRopeDim}. */
        public int latentWidth() { return kvLoraRank + qkRopeDim; }
    }

    /** Architecture families. */
    public enum Arch {
        /** Llama 2/3, Mistral, SmolLM2: RMSNorm, RoPE, GQA, SwiGLU, no biases. */
        LLAMA,
        /** Qwen2/2.5: Llama's block with biases on Q, K and V. */
        QWEN2,
        /** Qwen3: Llama's block with per-head RMSNorm of Q and K before RoPE. */
        QWEN3,
        /** GPT-2: LayerNorm, learned positions, GELU (tanh form), biases everywhere. */
        GPT2,
        /** DeepSeek-V2 with dense FFN layers: RMSNorm, Multi-head Latent Attention ({@link Mla}), SwiGLU. */
        DEEPSEEK2
    }

    /** Which two dimensions of a head RoPE rotates together. */
    public enum RopeStyle {
        /** No rotary embedding (GPT-2). */
        NONE,
        /** Dimensions (2i, 2i+1): llama.cpp's "normal" RoPE, used with GGUF's permuted Llama Q/K rows. */
        INTERLEAVED,
        /** Dimensions (i, i + ropeDim/2): Hugging Face's rotate-half (GPT-NeoX) layout. */
        HALVES
    }

    public DecoderConfig {
        if (arch == null) throw new IllegalArgumentException("arch: expected one of LLAMA, QWEN2, QWEN3, GPT2, DEEPSEEK2, got null");
        positive("vocab", vocab);
        positive("dim", dim);
        positive("layers", layers);
        positive("heads", heads);
        positive("kvHeads", kvHeads);
        positive("headDim", headDim);
        positive("ffn", ffn);
        positive("contextLength", contextLength);
        if (heads % kvHeads != 0) throw new IllegalArgumentException("kvHeads: expected a divisor of heads (" + heads + "), got " + kvHeads);
        if (!(normEps > 0f)) throw new IllegalArgumentException("normEps: expected > 0, got " + normEps);
        if (rope == null) throw new IllegalArgumentException("rope: expected a RopeStyle, got null");
        if (rope != RopeStyle.NONE) {
            if (ropeDim <= 0 || ropeDim > headDim || ropeDim % 2 != 0) {
                throw new IllegalArgumentException("ropeDim: expected an even number in [2, headDim=" + headDim + "], got " + ropeDim);
            }
            if (!(ropeTheta > 0f)) throw new IllegalArgumentException("ropeTheta: expected > 0, got " + ropeTheta);
            if (ropeFactors != null && ropeFactors.length != ropeDim / 2) {
                throw new IllegalArgumentException("ropeFactors: expected ropeDim/2 = " + ropeDim / 2 + " values, got " + ropeFactors.length);
            }
        }
        if (slidingWindow < 0) throw new IllegalArgumentException("slidingWindow: expected >= 0 (0 = none), got " + slidingWindow);
        if ((arch == Arch.DEEPSEEK2) != (mla != null)) {
            throw new IllegalArgumentException("mla: expected a latent attention shape exactly for DEEPSEEK2, got " + mla + " for " + arch);
        }
        if (mla != null) {
            if (headDim != mla.qkNopeDim() + mla.qkRopeDim()) {
                throw new IllegalArgumentException("headDim: expected qkNopeDim + qkRopeDim = " + (mla.qkNopeDim() + mla.qkRopeDim()) + " for latent attention, got " + headDim);
            }
            if (ropeDim != mla.qkRopeDim()) throw new IllegalArgumentException("ropeDim: expected qkRopeDim = " + mla.qkRopeDim() + ", got " + ropeDim);
            if (kvHeads != 1) throw new IllegalArgumentException("kvHeads: expected 1 (one shared latent) for latent attention, got " + kvHeads);
            if (rope != RopeStyle.INTERLEAVED) throw new IllegalArgumentException("rope: expected INTERLEAVED (DeepSeek's pairs (2i, 2i+1)), got " + rope);
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) throw new IllegalArgumentException(name + ": expected > 0, got " + v);
    }

    /** Query heads per key/value head. */
    public int group() { return heads / kvHeads; }

    /** A copy with another sliding window (0 = none). */
    public DecoderConfig withSlidingWindow(int window) {
        return new DecoderConfig(arch, vocab, dim, layers, heads, kvHeads, headDim, ffn, contextLength, normEps, ropeTheta, ropeDim,
                rope, ropeFactors, window, mla);
    }

    /**
     * Llama 3's RoPE frequency divisors (Hugging Face's {@code rope_type: llama3}): wavelengths
     * shorter than {@code original/highFreqFactor} are kept, longer than {@code original/lowFreqFactor}
     * divided by {@code factor}, and those between interpolated smoothly.
     */
    public static float[] llama3Factors(int ropeDim, float theta, float factor, float lowFreqFactor, float highFreqFactor, int original) {
        float[] f = new float[ropeDim / 2];
        double lowWavelen = original / (double) lowFreqFactor, highWavelen = original / (double) highFreqFactor;
        for (int i = 0; i < f.length; i++) {
            double freq = Math.pow(theta, -2.0 * i / ropeDim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) f[i] = 1f;
            else if (wavelen > lowWavelen) f[i] = factor;
            else {
                double smooth = (original / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                double scaled = (1 - smooth) * freq / factor + smooth * freq;
                f[i] = (float) (freq / scaled);
            }
        }
        return f;
    }
}
