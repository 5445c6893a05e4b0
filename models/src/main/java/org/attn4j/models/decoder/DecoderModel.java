package org.attn4j.models.decoder;

import org.attn4j.core.attention.Attention;
import org.attn4j.core.attention.AttentionPartial;
import org.attn4j.core.attention.AttentionResult;
import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.attention.KernelChoice;
import org.attn4j.core.mask.CausalAlignment;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.simd.MicroKernels;
import org.attn4j.core.tensor.Tensor;

/**
 * A decoder-only transformer (Llama 2/3, Mistral, SmolLM2, Qwen2, Qwen3, GPT-2, DeepSeek-V2 with dense FFN layers) on float32 weights.
 *
 * <p>{@link #forward} runs {@code t} new tokens after the positions already in a {@link KvCache}:
 * a prompt (prefill, through the engine's flash kernel with a bottom-right causal mask) or one token
 * (a decode step, through the engine's split-KV decode kernel). Projections are {@code x·Wᵀ} on the
 * shared micro-kernels ({@link MicroKernels#gemmTransB}), split over output rows across threads.
 *
 * <p>Block arithmetic, per token, {@code x} the residual stream:
 * <pre>
 *   h = norm(x);  q, k, v = h·Wqᵀ (+bq), h·Wkᵀ (+bk), h·Wvᵀ (+bv)
 *   Qwen3: q, k = rmsnorm per head;  RoPE(q, k, position) unless GPT-2
 *   x += softmax(q·kᵀ/√headDim, causal[, window]) · v · Woᵀ (+bo)
 *   h = norm(x);  x += (silu(h·Wgateᵀ) ⊙ h·Wupᵀ)·Wdownᵀ      (GPT-2: gelu_tanh(h·Wupᵀ + bup)·Wdownᵀ + bdown)
 * </pre>
 * and the logits are {@code norm(x)·Woutᵀ} with {@code Wout} the token embedding when tied.
 * Norm is RMSNorm ({@code x/√(mean(x²)+eps)·w}) except GPT-2's LayerNorm. DeepSeek-V2's
 * Multi-head Latent Attention replaces the q/k/v block and caches latents (see {@code latentAttention}).
 */
public final class DecoderModel {
    private static final int ROWS_PER_ITEM = 16;

    private final DecoderConfig config;
    private final DecoderWeights weights;
    private final double[] invFreq;
    /** Latent attention, per layer: W_UK as {@code [heads, qkNopeDim, kvLoraRank]} and W_UV as {@code [heads, vHeadDim, kvLoraRank]} (rows of kv_b_proj). */
    private final float[][] wUK, wUV;
    private boolean absorbed = true;
    private final MicroKernels mk = MicroKernels.get();
    private int threads;
    private boolean q8Activations = !"float".equalsIgnoreCase(System.getProperty(Q8_ACTIVATIONS_PROPERTY, "q8"));

    /**
     * System property choosing how Q8_0 weights multiply: {@code q8} (default) quantises the activations
     * to Q8_0 blocks first and sums int8 products, as llama.cpp does; {@code float} keeps float32
     * activations (the reference: exactly the dequantised weights times the activations).
     */
    public static final String Q8_ACTIVATIONS_PROPERTY = "attn4j.q8.activations";

    /** A model over {@code weights} (kept, not copied); throws IllegalArgumentException when they do not fit {@code config}. */
    public DecoderModel(DecoderConfig config, DecoderWeights weights) {
        if (config == null) throw new IllegalArgumentException("config: expected a DecoderConfig, got null");
        if (weights == null) throw new IllegalArgumentException("weights: expected DecoderWeights, got null");
        weights.check(config);
        this.config = config;
        this.weights = weights;
        this.threads = Parallel.resolveThreads(0);
        int half = config.rope() == DecoderConfig.RopeStyle.NONE ? 0 : config.ropeDim() / 2;
        invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = Math.pow(config.ropeTheta(), -2.0 * i / config.ropeDim());
            if (config.ropeFactors() != null) invFreq[i] /= config.ropeFactors()[i];
        }
        DecoderConfig.Mla m = config.mla();
        wUK = m == null ? null : new float[config.layers()][];
        wUV = m == null ? null : new float[config.layers()][];
        if (m != null) {
            int dn = m.qkNopeDim(), dv = m.vHeadDim(), r = m.kvLoraRank();
            for (int l = 0; l < config.layers(); l++) {
                float[] kvB = weights.layers()[l].mla().kvB().toFloats();
                wUK[l] = new float[config.heads() * dn * r];
                wUV[l] = new float[config.heads() * dv * r];
                for (int h = 0; h < config.heads(); h++) {
                    System.arraycopy(kvB, h * (dn + dv) * r, wUK[l], h * dn * r, dn * r);
                    System.arraycopy(kvB, (h * (dn + dv) + dn) * r, wUV[l], h * dv * r, dv * r);
                }
            }
        }
    }

    public DecoderConfig config() { return config; }
    public DecoderWeights weights() { return weights; }

    /** Worker threads for projections and attention (>= 1, or 0 for every processor). */
    public DecoderModel threads(int n) {
        this.threads = Parallel.resolveThreads(n);
        return this;
    }

    public int threads() { return threads; }

    /**
     * Whether products with Q8_0 weights quantise the activations to Q8_0 blocks first (llama.cpp's
     * numerics and its int8 × int8 arithmetic) or keep them float32 (the exact product of the
     * dequantised weights; {@code false}). Default from {@link #Q8_ACTIVATIONS_PROPERTY}. The two
     * differ by the activation rounding, up to about 1e-2 relative in the logits.
     */
    public DecoderModel q8Activations(boolean quantize) {
        this.q8Activations = quantize;
        return this;
    }

    public boolean q8Activations() { return q8Activations; }

    /**
     * Latent attention only: whether a step attends in the absorbed form (default: the query is mapped
     * into latent space through W_UK, the cached latents serve as keys and values, W_UV is applied
     * after) or, with {@code false}, decompresses every cached latent into per-head keys and values
     * each step (the paper's plain form; kept to measure what absorption saves and as a cross-check).
     */
    public DecoderModel absorbed(boolean on) {
        this.absorbed = on;
        return this;
    }

    public boolean absorbed() { return absorbed; }

    /** An empty contiguous cache under {@code policy} for up to {@code capacity} positions. */
    public KvCache newCache(int capacity, KvPolicy policy) {
        if (config.arch() == DecoderConfig.Arch.GPT2 && capacity > config.contextLength()) {
            throw new IllegalArgumentException("capacity: GPT-2 has learned positions up to " + config.contextLength() + ", got " + capacity);
        }
        return new KvCache(config, capacity, policy);
    }

    /** An empty paged cache under {@code policy} whose positions live in {@code pool}'s blocks. */
    public KvCache newCache(int capacity, KvPolicy policy, KvBlockPool pool) {
        if (config.arch() == DecoderConfig.Arch.GPT2 && capacity > config.contextLength()) {
            throw new IllegalArgumentException("capacity: GPT-2 has learned positions up to " + config.contextLength() + ", got " + capacity);
        }
        if (pool == null) throw new IllegalArgumentException("pool: expected a KvBlockPool, got null");
        return new KvCache(config, capacity, policy, pool);
    }

    /** An empty cache for up to {@code capacity} positions (at most the model's context length for GPT-2). */
    public KvCache newCache(int capacity) {
        if (config.arch() == DecoderConfig.Arch.GPT2 && capacity > config.contextLength()) {
            throw new IllegalArgumentException("capacity: GPT-2 has learned positions up to " + config.contextLength() + ", got " + capacity);
        }
        return new KvCache(config, capacity);
    }

    /**
     * Runs {@code tokens} at positions {@code cache.length()..} and appends their keys and values to
     * {@code cache}. Returns the logits of the last token ({@code [vocab]}), or with
     * {@code allLogits} those of every token ({@code [tokens.length, vocab]} row-major).
     */
    public float[] forward(KvCache cache, int[] tokens, boolean allLogits) {
        if (tokens == null || tokens.length == 0) throw new IllegalArgumentException("tokens: expected at least one token id, got none");
        KvPolicy policy = cache.policy();
        if (cache.length() + tokens.length > policy.budget()) {
            // Past the budget the policy decides per token: evict, then run one token.
            int v = config.vocab();
            float[] all = allLogits ? new float[tokens.length * v] : null, last = null;
            int i = 0;
            int fits = Math.max(0, policy.budget() - cache.length());
            if (fits > 0) {
                float[] head = run(cache, java.util.Arrays.copyOf(tokens, fits), allLogits);
                if (allLogits) System.arraycopy(head, 0, all, 0, head.length);
                i = fits;
            }
            for (; i < tokens.length; i++) {
                makeRoom(cache);
                last = run(cache, new int[] {tokens[i]}, false);
                if (allLogits) System.arraycopy(last, 0, all, i * v, v);
            }
            return allLogits ? all : last;
        }
        return run(cache, tokens, allLogits);
    }

    /** Evicts what the cache's policy says so that one more token fits its budget. */
    private void makeRoom(KvCache cache) {
        KvPolicy policy = cache.policy();
        int excess = cache.length() + 1 - policy.budget();
        if (excess <= 0) return;
        if (policy instanceof KvPolicy.HeavyHitters hh) {
            for (int e = 0; e < excess; e++) cache.evictLowestScore(hh.recent());
        } else {
            cache.evict(policy.sinks(), excess, policy.cachePositions() && config.rope() != DecoderConfig.RopeStyle.NONE
                    ? (arr, off) -> rope(arr, off, -excess) : null);
        }
    }

    /**
     * One decode step for several sequences at once (continuous batching: any set of caches, so
     * sequences join and leave between steps): token {@code tokens[s]} is appended to
     * {@code caches[s]}. The projections run once on all rows, so the weights are read once per step
     * for every sequence; attention runs per sequence on its own cache. Returns
     * {@code [caches.length, vocab]} logits, row s equal to {@code forward(caches[s], {tokens[s]}, false)}.
     */
    public float[] step(KvCache[] caches, int[] tokens) {
        if (caches == null || tokens == null || caches.length != tokens.length || caches.length == 0) {
            throw new IllegalArgumentException("caches, tokens: expected one token per cache and at least one, got "
                    + (caches == null ? "null" : caches.length) + " caches and " + (tokens == null ? "null" : tokens.length) + " tokens");
        }
        for (int i = 0; i < caches.length; i++) {
            for (int j = 0; j < i; j++) {
                if (caches[i] == caches[j]) throw new IllegalArgumentException("caches[" + i + "]: the same cache as caches[" + j + "]; one token per sequence");
            }
            makeRoom(caches[i]);
        }
        for (int i = 1; i < caches.length; i++) {
            KvPolicy a = caches[0].policy(), b = caches[i].policy();
            if ((a instanceof KvPolicy.SharedAttention || b instanceof KvPolicy.SharedAttention) && !a.equals(b)) {
                throw new IllegalArgumentException("caches[" + i + "]: policy " + b + " differs from caches[0]'s " + a + "; shared attention runs with one policy per step");
            }
        }
        Segment[] segs = new Segment[caches.length];
        for (int i = 0; i < segs.length; i++) segs[i] = new Segment(caches[i], i, 1);
        return run(segs, tokens, true);
    }

    private float[] run(KvCache cache, int[] tokens, boolean allLogits) {
        return run(new Segment[] {new Segment(cache, 0, tokens.length)}, tokens, allLogits);
    }

    /** Rows {@code [row0, row0 + t)} of a call belong to {@code cache}. */
    private record Segment(KvCache cache, int row0, int t) {}

    /** Runs the rows of every segment; logits of every row, or of each segment's last row. */
    private float[] run(Segment[] segs, int[] tokens, boolean allLogits) {
        int t = tokens.length, dim = config.dim();
        int[] pos = new int[t], held = new int[segs.length];
        for (int g = 0; g < segs.length; g++) {
            Segment sg = segs[g];
            KvCache cache = sg.cache;
            int pos0 = cache.nextPosition();
            if (cache.length() + sg.t > cache.capacity()) {
                throw new IllegalArgumentException("tokens: " + sg.t + " more tokens after " + cache.length() + " exceed the cache capacity " + cache.capacity());
            }
            if (config.arch() == DecoderConfig.Arch.GPT2 && pos0 + sg.t > config.contextLength()) {
                throw new IllegalArgumentException("tokens: positions up to " + (pos0 + sg.t) + " exceed GPT-2's " + config.contextLength() + " learned positions");
            }
            for (int i = 0; i < sg.t; i++) pos[sg.row0 + i] = pos0 + i;
            held[g] = cache.length();
            try {
                cache.reserve(sg.t); // a paged cache takes its blocks now, so an exhausted pool fails before any work
            } catch (IllegalStateException e) {
                for (int h = 0; h <= g; h++) segs[h].cache.trim(); // give back what the earlier segments took
                throw e;
            }

        }
        float[] x = new float[t * dim];
        for (int i = 0; i < t; i++) {
            int id = tokens[i];
            if (id < 0 || id >= config.vocab()) throw new IllegalArgumentException("tokens[" + i + "]: expected an id in [0, " + config.vocab() + "), got " + id);
            weights.tokenEmbedding().row(id, x, i * dim);
            if (weights.positionEmbedding() != null) {
                for (int d = 0; d < dim; d++) x[i * dim + d] += weights.positionEmbedding()[pos[i] * dim + d];
            }
        }
        Scratch s = new Scratch(config, t);
        for (int l = 0; l < config.layers(); l++) block(l, weights.layers()[l], segs, held, pos, x, t, s);
        for (Segment sg : segs) sg.cache.advance(sg.t);
        int rows = allLogits ? t : segs.length;
        float[] h = new float[rows * dim];
        for (int r = 0; r < rows; r++) {
            int src = allLogits ? r : segs[r].row0 + segs[r].t - 1;
            System.arraycopy(x, src * dim, h, r * dim, dim);
        }
        for (int i = 0; i < rows; i++) norm(h, i * dim, dim, weights.outputNorm(), weights.outputNormBias());
        float[] logits = new float[rows * config.vocab()];
        linear(h, rows, dim, weights.outputMatrix(), null, config.vocab(), logits);
        return logits;
    }

    /** Per-call buffers. */
    private static final class Scratch {
        final float[] h, q, k, v, att, o, gate, up;
        /** Latent attention: q's low-rank activations, kv_a's output rows [c_KV, k^R], cache rows [k^R, c_KV]. */
        final float[] qa, kva, lat;
        Scratch(DecoderConfig c, int t) {
            DecoderConfig.Mla m = c.mla();
            h = new float[t * c.dim()];
            q = new float[t * c.heads() * c.headDim()];
            k = new float[m != null ? 0 : t * c.kvHeads() * c.headDim()];
            v = new float[m != null ? 0 : t * c.kvHeads() * c.headDim()];
            att = new float[t * c.heads() * (m != null ? m.vHeadDim() : c.headDim())];
            o = new float[t * c.dim()];
            gate = new float[t * c.ffn()];
            up = new float[t * c.ffn()];
            qa = new float[m == null ? 0 : t * m.qLoraRank()];
            kva = new float[m == null ? 0 : t * m.latentWidth()];
            lat = new float[m == null ? 0 : t * m.latentWidth()];
        }
    }

    private void block(int li, DecoderWeights.Layer l, Segment[] segs, int[] held, int[] pos, float[] x, int t, Scratch s) {
        if (config.mla() != null) latentAttention(li, l, segs, held, pos, x, t, s);
        else attention(li, l, segs, held, pos, x, t, s);
        feedForward(l, x, t, s);
    }

    /**
     * Multi-head Latent Attention (DeepSeek-V2), per token:
     * <pre>
     *   h = rmsnorm(x);  q = h·Wqᵀ  or  rmsnorm(h·Wqaᵀ)·Wqbᵀ;  head i: q_i = [q_nope (dn), q_rope (dr)]
     *   [c, k^R] = h·Wkvaᵀ;  c = rmsnorm(c);  q_rope, k^R = RoPE(·, position) on pairs (2j, 2j+1)
     *   cache row = [k^R, c]   (k^R shared by all heads, c the latent of width r)
     *   score_ij = (q_nope_i·W_UK_i c_j + q_rope_i·k^R_j) / √(dn + dr)
     *   x += concat_i(W_UV_i · Σ_j softmax(score_i)_j c_j) · Woᵀ
     * </pre>
     * The absorbed form computes {@code W_UK_iᵀ q_nope_i} once per query and reads only the latent rows.
     */
    private void latentAttention(int li, DecoderWeights.Layer l, Segment[] segs, int[] held, int[] pos, float[] x, int t, Scratch s) {
        DecoderConfig.Mla m = config.mla();
        DecoderWeights.Mla w = l.mla();
        int dim = config.dim(), heads = config.heads(), dn = m.qkNopeDim(), dr = m.qkRopeDim(), r = m.kvLoraRank();
        int qk = dn + dr, lw = m.latentWidth(), ql = m.qLoraRank();
        System.arraycopy(x, 0, s.h, 0, t * dim);
        for (int i = 0; i < t; i++) rmsNorm(s.h, i * dim, dim, l.attnNorm());
        if (w.qA() != null) {
            linear(s.h, t, dim, w.qA(), null, ql, s.qa);
            for (int i = 0; i < t; i++) rmsNorm(s.qa, i * ql, ql, w.qANorm());
            linear(s.qa, t, ql, w.q(), null, heads * qk, s.q);
        } else {
            linear(s.h, t, dim, w.q(), null, heads * qk, s.q);
        }
        linear(s.h, t, dim, w.kvA(), null, lw, s.kva);
        for (int i = 0; i < t; i++) {
            int row = i * lw;
            System.arraycopy(s.kva, row + r, s.lat, row, dr);
            rope(s.lat, row, pos[i]);
            System.arraycopy(s.kva, row, s.lat, row + dr, r);
            rmsNorm(s.lat, row + dr, r, w.kvANorm());
            for (int h = 0; h < heads; h++) rope(s.q, (i * heads + h) * qk + dn, pos[i]);
        }
        for (int g = 0; g < segs.length; g++) {
            Segment sg = segs[g];
            sg.cache.put(li, s.lat, null, sg.row0, sg.t);
            attendLatent(li, sg, held[g], s);
        }
        linear(s.att, t, heads * m.vHeadDim(), l.wo(), null, dim, s.o);
        for (int i = 0; i < t * dim; i++) x[i] += s.o[i];
    }

    /** A segment's latent attention output rows into {@code s.att} ({@code [rows, heads·vHeadDim]}). */
    private void attendLatent(int li, Segment sg, int held, Scratch s) {
        DecoderConfig.Mla m = config.mla();
        int heads = config.heads(), dn = m.qkNopeDim(), dr = m.qkRopeDim(), dv = m.vHeadDim(), r = m.kvLoraRank();
        int qk = dn + dr, lw = m.latentWidth(), t = sg.t, r0 = sg.row0, n = held + t;
        KvCache cache = sg.cache;
        float[] rows = cache.keyArray(li), uk = wUK[li], uv = wUV[li];
        int base = cache.offset(0, 0);
        boolean scores = cache.policy().perHeadScores();
        float[] probs = scores ? new float[heads * t * n] : null;
        float scale = (float) (1.0 / Math.sqrt(qk));
        // Plain form: every cached latent decompressed per head, each call (what absorption avoids).
        float[][] kPlain = absorbed ? null : new float[heads][], vPlain = absorbed ? null : new float[heads][];
        if (!absorbed) {
            Parallel.forEach(threads, heads, worker -> null, (h, st) -> {
                float[] kh = new float[n * dn], vh = new float[n * dv];
                for (int j = 0; j < n; j++) {
                    int c = base + j * lw + dr;
                    for (int e = 0; e < dn; e++) kh[j * dn + e] = dot(uk, (h * dn + e) * r, rows, c, r);
                    for (int e = 0; e < dv; e++) vh[j * dv + e] = dot(uv, (h * dv + e) * r, rows, c, r);
                }
                kPlain[h] = kh;
                vPlain[h] = vh;
            });
        }
        Parallel.forEach(threads, heads * t, worker -> new float[][] {new float[lw], new float[n], new float[r]}, (item, st) -> {
            int h = item / t, i = item % t, visible = held + i + 1;
            float[] qLat = st[0], p = st[1], oLat = st[2];
            int qo = ((r0 + i) * heads + h) * qk, out = (r0 + i) * heads * dv + h * dv;
            if (absorbed) {
                // qLat = [q_rope, W_UKᵀ q_nope]: a query against the rows [k^R, c] directly.
                System.arraycopy(s.q, qo + dn, qLat, 0, dr);
                java.util.Arrays.fill(qLat, dr, lw, 0f);
                for (int e = 0; e < dn; e++) {
                    float qe = s.q[qo + e];
                    int wo = (h * dn + e) * r;
                    for (int c = 0; c < r; c++) qLat[dr + c] += qe * uk[wo + c];
                }
                for (int j = 0; j < visible; j++) p[j] = dot(qLat, 0, rows, base + j * lw, lw) * scale;
            } else {
                float[] kh = kPlain[h];
                for (int j = 0; j < visible; j++) {
                    p[j] = (dot(s.q, qo, kh, j * dn, dn) + dot(s.q, qo + dn, rows, base + j * lw, dr)) * scale;
                }
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < visible; j++) max = Math.max(max, p[j]);
            double sum = 0;
            for (int j = 0; j < visible; j++) {
                p[j] = (float) Math.exp(p[j] - max);
                sum += p[j];
            }
            float inv = (float) (1.0 / sum);
            for (int j = 0; j < visible; j++) p[j] *= inv;
            if (probs != null) System.arraycopy(p, 0, probs, (h * t + i) * n, visible);
            if (absorbed) {
                // Values read as latents, W_UV applied once to their mixture.
                java.util.Arrays.fill(oLat, 0f);
                for (int j = 0; j < visible; j++) {
                    float pj = p[j];
                    int c = base + j * lw + dr;
                    for (int e = 0; e < r; e++) oLat[e] += pj * rows[c + e];
                }
                for (int e = 0; e < dv; e++) s.att[out + e] = dot(uv, (h * dv + e) * r, oLat, 0, r);
            } else {
                float[] vh = vPlain[h];
                java.util.Arrays.fill(s.att, out, out + dv, 0f);
                for (int j = 0; j < visible; j++) {
                    float pj = p[j];
                    for (int e = 0; e < dv; e++) s.att[out + e] += pj * vh[j * dv + e];
                }
            }
        });
        if (probs != null) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < t; i++) for (int j = 0; j < held + i + 1; j++) cache.addScore(li, 0, j, probs[(h * t + i) * n + j]);
            }
        }
    }

    private static float dot(float[] a, int ao, float[] b, int bo, int n) {
        float acc = 0f;
        for (int i = 0; i < n; i++) acc += a[ao + i] * b[bo + i];
        return acc;
    }

    private void attention(int li, DecoderWeights.Layer l, Segment[] segs, int[] held, int[] pos, float[] x, int t, Scratch s) {
        int dim = config.dim(), hd = config.headDim(), nq = config.heads() * hd, nkv = config.kvHeads() * hd;
        System.arraycopy(x, 0, s.h, 0, t * dim);
        for (int i = 0; i < t; i++) norm(s.h, i * dim, dim, l.attnNorm(), l.attnNormBias());
        // Shared attention (one policy for every segment of a call): a follower layer needs no queries or keys.
        boolean follower = follower(segs[0].cache.policy(), li);
        linear(s.h, t, dim, l.wv(), l.bv(), nkv, s.v);
        if (!follower) {
        linear(s.h, t, dim, l.wq(), l.bq(), nq, s.q);
        linear(s.h, t, dim, l.wk(), l.bk(), nkv, s.k);
        if (l.qNorm() != null) {
            for (int r = 0; r < t * config.heads(); r++) rmsNorm(s.q, r * hd, hd, l.qNorm());
            for (int r = 0; r < t * config.kvHeads(); r++) rmsNorm(s.k, r * hd, hd, l.kNorm());
        }
        if (config.rope() != DecoderConfig.RopeStyle.NONE) {
            for (int i = 0; i < t; i++) {
                int p = pos[i];
                for (int h = 0; h < config.heads(); h++) rope(s.q, (i * config.heads() + h) * hd, p);
                for (int h = 0; h < config.kvHeads(); h++) rope(s.k, (i * config.kvHeads() + h) * hd, p);
            }
        }
        }
        for (int g = 0; g < segs.length; g++) attend(li, segs[g], held[g], s);
        linear(s.att, t, nq, l.wo(), l.bo(), dim, s.o);
        for (int i = 0; i < t * dim; i++) x[i] += s.o[i];
    }

    private void feedForward(DecoderWeights.Layer l, float[] x, int t, Scratch s) {
        int dim = config.dim();
        System.arraycopy(x, 0, s.h, 0, t * dim);
        for (int i = 0; i < t; i++) norm(s.h, i * dim, dim, l.ffnNorm(), l.ffnNormBias());
        int ffn = config.ffn();
        linear(s.h, t, dim, l.wUp(), l.bUp(), ffn, s.up);
        if (l.wGate() != null) {
            linear(s.h, t, dim, l.wGate(), l.bGate(), ffn, s.gate);
            for (int i = 0; i < t * ffn; i++) {
                float g = s.gate[i];
                s.up[i] *= g / (1f + (float) Math.exp(-g));
            }
        } else {
            for (int i = 0; i < t * ffn; i++) s.up[i] = geluTanh(s.up[i]);
        }
        linear(s.up, t, ffn, l.wDown(), l.bDown(), dim, s.o);
        for (int i = 0; i < t * dim; i++) x[i] += s.o[i];
    }

    /** Appends a segment's keys and values to its cache and writes its attention output rows to {@code s.att}. */
    private void attend(int li, Segment sg, int held, Scratch s) {
        int hd = config.headDim(), nq = config.heads() * hd, nkv = config.kvHeads() * hd, t = sg.t, r0 = sg.row0;
        KvCache cache = sg.cache;
        boolean follower = follower(cache.policy(), li), leader = !follower && cache.policy() instanceof KvPolicy.SharedAttention sa && sa.group() > 1;
        cache.put(li, s.k, s.v, r0, t, !follower);
        int n = held + t;
        if (follower) {
            // The group's first layer's probabilities [H, t, n] applied to this layer's values.
            float[] p = cache.sharedProbs, va = cache.valueArray(li);
            for (int h = 0; h < config.heads(); h++) {
                int kh = h / config.group();
                for (int i = 0; i < t; i++) {
                    int o = (r0 + i) * nq + h * hd;
                    java.util.Arrays.fill(s.att, o, o + hd, 0f);
                    for (int j = 0; j < n; j++) {
                        float w = p[(h * t + i) * n + j];
                        int vo = cache.offset(kh, j);
                        for (int e = 0; e < hd; e++) s.att[o + e] += w * va[vo + e];
                    }
                }
            }
            return;
        }
        AttentionSpec.Builder spec = AttentionSpec.builder().causal(CausalAlignment.BOTTOM_RIGHT).threads(threads).validate(false)
                .kernel(t == 1 ? KernelChoice.DECODE : KernelChoice.AUTO);
        if (config.slidingWindow() > 0) spec.window(config.slidingWindow() - 1, 0);
        // Rows r0..r0+t of q [T, H, hd] as [1, H, t, hd].
        Tensor q = Tensor.view(s.q, r0 * nq, new int[] {1, config.heads(), t, hd}, new int[] {config.heads() * t * hd, hd, nq, 1});
        boolean scores = cache.policy().perHeadScores();
        // H2O and shared attention need the probabilities: only the reference kernel materialises them.
        if (scores || leader) spec.kernel(KernelChoice.REFERENCE).returnProbs(true);
        Tensor out;
        AttentionResult result = null;
        if (cache.pool() != null && !scores && !leader) {
            // Paged: one partial per run of pool-adjacent blocks (split-KV), merged in log-sum-exp form.
            AttentionSpec sp = spec.build();
            int[] runs = cache.runs(n);
            int stride = cache.headStride();
            AttentionPartial acc = null;
            for (int r = 0; r < runs.length; r += 3) {
                int[] shape = {1, config.kvHeads(), runs[r + 1], hd}, strides = {config.kvHeads() * stride, stride, hd, 1};
                Tensor kr = Tensor.view(cache.keyArray(li), runs[r + 2], shape, strides);
                Tensor vr = Tensor.view(cache.valueArray(li), runs[r + 2], shape, strides);
                AttentionPartial part = Attention.partial(q, kr, vr, sp, runs[r], n);
                acc = acc == null ? part : acc.merge(part);
            }
            out = acc.finish().output();
        } else {
            result = Attention.sdpa(q, cache.keys(li, n), cache.values(li, n), spec.build());
            out = result.output(); // [1, H, t, hd]
            if (leader) cache.sharedProbs = result.probs().data();
        }
        if (scores) {
            float[] p = result.probs().data(); // [1, H, t, n]
            for (int h = 0; h < config.heads(); h++) {
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < n; j++) cache.addScore(li, h / config.group(), j, p[((h * t) + i) * n + j]);
                }
            }
        }
        float[] od = out.data();
        for (int h = 0; h < config.heads(); h++) {
            for (int i = 0; i < t; i++) System.arraycopy(od, (h * t + i) * hd, s.att, (r0 + i) * nq + h * hd, hd);
        }
    }

    /** Whether layer {@code li} reuses its group's first layer's attention under {@code policy}. */
    private static boolean follower(KvPolicy policy, int li) {
        return policy instanceof KvPolicy.SharedAttention sa && li % sa.group() != 0;
    }

    /** GELU in its tanh form (GPT-2's {@code gelu_new}): {@code 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))}. */
    static float geluTanh(float x) {
        double v = x;
        return (float) (0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))));
    }

    private void rope(float[] a, int off, int pos) {
        int half = invFreq.length;
        boolean halves = config.rope() == DecoderConfig.RopeStyle.HALVES;
        for (int i = 0; i < half; i++) {
            double angle = pos * invFreq[i];
            float cos = (float) Math.cos(angle), sin = (float) Math.sin(angle);
            int i0 = halves ? off + i : off + 2 * i, i1 = halves ? off + i + half : i0 + 1;
            float x0 = a[i0], x1 = a[i1];
            a[i0] = x0 * cos - x1 * sin;
            a[i1] = x0 * sin + x1 * cos;
        }
    }

    private void norm(float[] a, int off, int n, float[] w, float[] b) {
        if (config.arch() == DecoderConfig.Arch.GPT2) mk.addLayerNorm(a, off, null, 0, n, w, b, config.normEps());
        else rmsNorm(a, off, n, w);
    }

    private void rmsNorm(float[] a, int off, int n, float[] w) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += (double) a[off + i] * a[off + i];
        float r = (float) (1.0 / Math.sqrt(ss / n + config.normEps()));
        for (int i = 0; i < n; i++) a[off + i] = a[off + i] * r * w[i];
    }

    /** {@code y[t, out] = x[t, in]·Wᵀ (+ b)}, W {@code [out, in]}; output rows split across threads. */
    private void linear(float[] x, int t, int in, Matrix w, float[] b, int out, float[] y) {
        int items = (out + ROWS_PER_ITEM - 1) / ROWS_PER_ITEM;
        Q8Matrix.Activations qa = q8Activations && w instanceof Q8Matrix ? Q8Matrix.Activations.quantize(x, t, in) : null;
        Parallel.forEach(threads, items, worker -> null, (item, st) -> {
            int j0 = item * ROWS_PER_ITEM, j1 = Math.min(out, j0 + ROWS_PER_ITEM);
            if (qa != null) ((Q8Matrix) w).multiply(qa, y, out, j0, j1);
            else w.multiply(x, t, y, out, j0, j1);
            if (b != null) {
                for (int i = 0; i < t; i++) for (int j = j0; j < j1; j++) y[i * out + j] += b[j];
            }
        });
    }
}
