package org.attn4j.models.decoder;

/**
 * The weights of a decoder. Every matrix is a {@link Matrix} {@code [out, in]} (one row per output,
 * the layout of GGUF tensors and of {@code nn.Linear}), float32 or Q8_0; vectors are float32 of
 * their natural length. A null field is absent in the architecture (e.g. biases of Llama, learned
 * positions outside GPT-2).
 *
 * @param tokenEmbedding {@code [vocab, dim]}
 * @param positionEmbedding {@code [contextLength, dim]} (GPT-2) or null
 * @param layers one entry per block
 * @param outputNorm final norm weight {@code [dim]}
 * @param outputNormBias final LayerNorm bias {@code [dim]} (GPT-2) or null
 * @param output {@code [vocab, dim]}, or null when tied to {@code tokenEmbedding}
 */
public record DecoderWeights(Matrix tokenEmbedding, float[] positionEmbedding, Layer[] layers, float[] outputNorm,
                             float[] outputNormBias, Matrix output) {

    /**
     * One block. {@code wq [heads·headDim, dim]}, {@code wk, wv [kvHeads·headDim, dim]},
     * {@code wo [dim, heads·headDim]}, {@code wGate, wUp [ffn, dim]}, {@code wDown [dim, ffn]}; norms
     * {@code [dim]}; {@code qNorm, kNorm [headDim]} (Qwen3); {@code bGate [ffn]} only in Llama-layout
     * models saved with {@code mlp_bias} (as attn4j's trained models with biases are). A DeepSeek-V2
     * block has {@code wq, wk, wv} null, its attention in {@code mla}, and {@code wo [dim, heads·vHeadDim]}.
     */
    public record Layer(float[] attnNorm, float[] attnNormBias,
                        Matrix wq, float[] bq, Matrix wk, float[] bk, Matrix wv, float[] bv,
                        float[] qNorm, float[] kNorm,
                        Matrix wo, float[] bo,
                        float[] ffnNorm, float[] ffnNormBias,
                        Matrix wGate, Matrix wUp, float[] bUp, Matrix wDown, float[] bDown, float[] bGate, Mla mla) {

        /** A block without latent attention. */
        public Layer(float[] attnNorm, float[] attnNormBias, Matrix wq, float[] bq, Matrix wk, float[] bk, Matrix wv, float[] bv,
                     float[] qNorm, float[] kNorm, Matrix wo, float[] bo, float[] ffnNorm, float[] ffnNormBias,
                     Matrix wGate, Matrix wUp, float[] bUp, Matrix wDown, float[] bDown, float[] bGate) {
            this(attnNorm, attnNormBias, wq, bq, wk, bk, wv, bv, qNorm, kNorm, wo, bo, ffnNorm, ffnNormBias, wGate, wUp, bUp, wDown, bDown, bGate, null);
        }

        /** A DeepSeek-V2 block: latent attention and a SwiGLU FFN, no biases. */
        public static Layer latent(float[] attnNorm, Mla mla, Matrix wo, float[] ffnNorm, Matrix wGate, Matrix wUp, Matrix wDown) {
            return new Layer(attnNorm, null, null, null, null, null, null, null, null, null, wo, null, ffnNorm, null,
                    wGate, wUp, null, wDown, null, null, mla);
        }

        /** A block without a gate bias (every architecture but a Llama layout with {@code mlp_bias}). */
        public Layer(float[] attnNorm, float[] attnNormBias, Matrix wq, float[] bq, Matrix wk, float[] bk, Matrix wv, float[] bv,
                     float[] qNorm, float[] kNorm, Matrix wo, float[] bo, float[] ffnNorm, float[] ffnNormBias,
                     Matrix wGate, Matrix wUp, float[] bUp, Matrix wDown, float[] bDown) {
            this(attnNorm, attnNormBias, wq, bq, wk, bk, wv, bv, qNorm, kNorm, wo, bo, ffnNorm, ffnNormBias, wGate, wUp, bUp, wDown, bDown, null);
        }
    }

    /**
     * The attention weights of a Multi-head Latent Attention block (Hugging Face's DeepSeek-V2 names in
     * parentheses). {@code r = kvLoraRank}, {@code dr = qkRopeDim}, {@code dn = qkNopeDim}, {@code dv = vHeadDim}.
     *
     * @param qA     {@code [qLoraRank, dim]} ({@code q_a_proj}), or null for a plain q projection
     * @param qANorm {@code [qLoraRank]} ({@code q_a_layernorm}), or null
     * @param q      {@code [heads·(dn+dr), qLoraRank or dim]} ({@code q_b_proj}, or {@code q_proj}); head h's
     *               rows are {@code [q_nope (dn), q_rope (dr)]}
     * @param kvA    {@code [r + dr, dim]} ({@code kv_a_proj_with_mqa}): rows {@code [c_KV (r), k^R (dr)]}
     * @param kvANorm {@code [r]} ({@code kv_a_layernorm}), applied to {@code c_KV}
     * @param kvB    {@code [heads·(dn+dv), r]} ({@code kv_b_proj}): head h's rows are {@code [W_UK (dn), W_UV (dv)]}
     */
    public record Mla(Matrix qA, float[] qANorm, Matrix q, Matrix kvA, float[] kvANorm, Matrix kvB) {}

    /** The output matrix, the token embedding when tied. */
    public Matrix outputMatrix() { return output != null ? output : tokenEmbedding; }

    /**
     * Checks every array against {@code c}; throws IllegalArgumentException naming the tensor,
     * the expected and the actual length.
     */
    public void check(DecoderConfig c) {
        int q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim();
        boolean gpt2 = c.arch() == DecoderConfig.Arch.GPT2;
        need("token_embd", tokenEmbedding, c.vocab(), c.dim(), true);
        need("position_embd", positionEmbedding, (long) c.contextLength() * c.dim(), gpt2);
        need("output_norm", outputNorm, c.dim(), true);
        need("output_norm.bias", outputNormBias, c.dim(), gpt2);
        need("output", output, c.vocab(), c.dim(), false);
        if (layers == null || layers.length != c.layers()) {
            throw new IllegalArgumentException("layers: expected " + c.layers() + " blocks, got " + (layers == null ? "none" : layers.length));
        }
        boolean qkvBias = gpt2 || c.arch() == DecoderConfig.Arch.QWEN2;
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            String p = "blk." + i + ".";
            if (c.mla() != null) {
                checkLatent(c, l, p);
                continue;
            }
            if (l.mla != null) throw new IllegalArgumentException(p + "attn_kv_a_mqa: latent attention weights in a " + c.arch() + " model");
            need(p + "attn_norm", l.attnNorm, c.dim(), true);
            need(p + "attn_norm.bias", l.attnNormBias, c.dim(), gpt2);
            need(p + "attn_q", l.wq, q, c.dim(), true);
            need(p + "attn_k", l.wk, kv, c.dim(), true);
            need(p + "attn_v", l.wv, kv, c.dim(), true);
            need(p + "attn_q.bias", l.bq, q, qkvBias);
            need(p + "attn_k.bias", l.bk, kv, qkvBias);
            need(p + "attn_v.bias", l.bv, kv, qkvBias);
            need(p + "attn_q_norm", l.qNorm, c.headDim(), c.arch() == DecoderConfig.Arch.QWEN3);
            need(p + "attn_k_norm", l.kNorm, c.headDim(), c.arch() == DecoderConfig.Arch.QWEN3);
            need(p + "attn_output", l.wo, c.dim(), q, true);
            need(p + "attn_output.bias", l.bo, c.dim(), gpt2);
            need(p + "ffn_norm", l.ffnNorm, c.dim(), true);
            need(p + "ffn_norm.bias", l.ffnNormBias, c.dim(), gpt2);
            need(p + "ffn_gate", l.wGate, c.ffn(), c.dim(), !gpt2);
            need(p + "ffn_gate.bias", l.bGate, c.ffn(), false);
            need(p + "ffn_up", l.wUp, c.ffn(), c.dim(), true);
            need(p + "ffn_up.bias", l.bUp, c.ffn(), gpt2);
            need(p + "ffn_down", l.wDown, c.dim(), c.ffn(), true);
            need(p + "ffn_down.bias", l.bDown, c.dim(), gpt2);
        }
    }

    private static void checkLatent(DecoderConfig c, Layer l, String p) {
        DecoderConfig.Mla s = c.mla();
        int h = c.heads(), r = s.kvLoraRank(), qk = s.qkNopeDim() + s.qkRopeDim();
        need(p + "attn_norm", l.attnNorm, c.dim(), true);
        if (l.mla == null) throw new IllegalArgumentException(p + "attn_kv_a_mqa: expected latent attention weights, the tensors are missing");
        if (l.wq != null || l.wk != null || l.wv != null) throw new IllegalArgumentException(p + "attn_q: a latent attention block has no plain q/k/v matrices");
        Mla m = l.mla;
        boolean lora = s.qLoraRank() > 0;
        if (!lora && m.qA != null) throw new IllegalArgumentException(p + "attn_q_a: present, but qLoraRank is 0");
        need(p + "attn_q_a", m.qA, s.qLoraRank(), c.dim(), lora);
        need(p + "attn_q_a_norm", m.qANorm, s.qLoraRank(), lora);
        need(p + (lora ? "attn_q_b" : "attn_q"), m.q, h * qk, lora ? s.qLoraRank() : c.dim(), true);
        need(p + "attn_kv_a_mqa", m.kvA, s.latentWidth(), c.dim(), true);
        need(p + "attn_kv_a_norm", m.kvANorm, r, true);
        need(p + "attn_kv_b", m.kvB, h * (s.qkNopeDim() + s.vHeadDim()), r, true);
        need(p + "attn_output", l.wo, c.dim(), h * s.vHeadDim(), true);
        need(p + "ffn_norm", l.ffnNorm, c.dim(), true);
        need(p + "ffn_gate", l.wGate, c.ffn(), c.dim(), true);
        need(p + "ffn_up", l.wUp, c.ffn(), c.dim(), true);
        need(p + "ffn_down", l.wDown, c.dim(), c.ffn(), true);
    }

    private static void need(String name, Matrix m, int rows, int cols, boolean required) {
        if (m == null) {
            if (required) throw new IllegalArgumentException(name + ": expected a [" + rows + ", " + cols + "] matrix, the tensor is missing");
            return;
        }
        if (m.rows() != rows || m.cols() != cols) {
            throw new IllegalArgumentException(name + ": expected a [" + rows + ", " + cols + "] matrix, got [" + m.rows() + ", " + m.cols() + "]");
        }
    }

    /** A copy with every matrix quantised to Q8_0 (those whose width is a multiple of 32). */
    public DecoderWeights toQ8() {
        Layer[] ls = new Layer[layers.length];
        for (int i = 0; i < ls.length; i++) {
            Layer l = layers[i];
            ls[i] = new Layer(l.attnNorm, l.attnNormBias, q8(l.wq), l.bq, q8(l.wk), l.bk, q8(l.wv), l.bv, l.qNorm, l.kNorm,
                    q8(l.wo), l.bo, l.ffnNorm, l.ffnNormBias, q8(l.wGate), q8(l.wUp), l.bUp, q8(l.wDown), l.bDown, l.bGate,
                    l.mla == null ? null : new Mla(q8(l.mla.qA), l.mla.qANorm, q8(l.mla.q), q8(l.mla.kvA), l.mla.kvANorm, l.mla.kvB));
        }
        return new DecoderWeights(q8(tokenEmbedding), positionEmbedding, ls, outputNorm, outputNormBias, q8(output));
    }

    private static Matrix q8(Matrix m) {
        if (m == null || m instanceof Q8Matrix || m.cols() % 32 != 0) return m;
        return Q8Matrix.quantize(m.toFloats(), m.rows(), m.cols());
    }

    /** Bytes the weights occupy in memory. */
    public long bytes() {
        long n = tokenEmbedding.bytes() + (output == null ? 0 : output.bytes());
        for (Layer l : layers) {
            for (Matrix m : new Matrix[] {l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown}) if (m != null) n += m.bytes();
            if (l.mla != null) for (Matrix m : new Matrix[] {l.mla.qA, l.mla.q, l.mla.kvA, l.mla.kvB}) if (m != null) n += m.bytes();
        }
        return n;
    }

    private static void need(String name, float[] a, long length, boolean required) {
        if (a == null) {
            if (required) throw new IllegalArgumentException(name + ": expected " + length + " values, the tensor is missing");
            return;
        }
        if (a.length != length) throw new IllegalArgumentException(name + ": expected " + length + " values, got " + a.length);
    }

    /**
     * Random weights for {@code c} (test and benchmark models; they prove equality between
     * implementations and measure speed, never quality): matrices uniform in ±√(3/in) so that
     * activations stay O(1) through the layers, norms near 1, small biases, N(0,1) embeddings;
     * {@code tied} leaves the output matrix out. The same seed gives the same weights.
     */
    public static DecoderWeights random(DecoderConfig c, boolean tied, long seed) {
        boolean untied = !tied;
        java.util.Random r = new java.util.Random(seed);
        boolean gpt2 = c.arch() == DecoderConfig.Arch.GPT2, qwen2 = c.arch() == DecoderConfig.Arch.QWEN2, qwen3 = c.arch() == DecoderConfig.Arch.QWEN3;
        int d = c.dim(), q = c.heads() * c.headDim(), kv = c.kvHeads() * c.headDim(), f = c.ffn();
        DecoderWeights.Layer[] ls = new DecoderWeights.Layer[c.layers()];
        for (int i = 0; i < ls.length; i++) {
            if (c.mla() != null) {
                DecoderConfig.Mla s = c.mla();
                int h = c.heads(), ql = s.qLoraRank(), qk = s.qkNopeDim() + s.qkRopeDim();
                Mla m = new Mla(ql > 0 ? mat(r, ql, d) : null, ql > 0 ? norm(r, ql) : null, mat(r, h * qk, ql > 0 ? ql : d),
                        mat(r, s.latentWidth(), d), norm(r, s.kvLoraRank()), mat(r, h * (s.qkNopeDim() + s.vHeadDim()), s.kvLoraRank()));
                ls[i] = Layer.latent(norm(r, d), m, mat(r, d, h * s.vHeadDim()), norm(r, d), mat(r, f, d), mat(r, f, d), mat(r, d, f));
                continue;
            }
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
        return new DecoderWeights(new FloatMatrix(vec(r, Math.multiplyExact(c.vocab(), d), 1.0), c.vocab(), d), gpt2 ? vec(r, c.contextLength() * d, 0.3) : null, ls,
                norm(r, d), gpt2 ? vec(r, d, 0.1) : null, untied ? mat(r, c.vocab(), d) : null);
    }

    /** Uniform in ±√(3/in): unit-variance outputs for unit-variance inputs, so activations stay O(1). */
    private static Matrix mat(java.util.Random r, int out, int in) {
        float[] a = new float[Math.multiplyExact(out, in)];
        double s = Math.sqrt(3.0 / in);
        for (int i = 0; i < a.length; i++) a[i] = (float) ((2 * r.nextDouble() - 1) * s);
        return new FloatMatrix(a, out, in);
    }

    private static float[] vec(java.util.Random r, int n, double s) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * s);
        return a;
    }

    private static float[] norm(java.util.Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (1 + 0.2 * r.nextGaussian());
        return a;
    }

}
