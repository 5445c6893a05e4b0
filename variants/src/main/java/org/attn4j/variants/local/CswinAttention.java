package org.attn4j.variants.local;

import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.ShapeCache;
import org.attn4j.variants.ShapeCache.Shape;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P7 — "CSWin Transformer: A General Vision Transformer Backbone with Cross-Shaped Windows":
 * cross-shaped window self-attention with LePE.
 *
 * <p>Self-attention on {@code q, k, v [B, H, N, D]}, N a row-major grid of gh×gw tokens. As in the
 * paper, the heads are split in two equal halves: heads {@code [0, H/2)} attend within horizontal
 * stripes (rows {@code [m·sw, (m+1)·sw)} × all columns), heads {@code [H/2, H)} within vertical
 * stripes (all rows × columns {@code [m·sw, (m+1)·sw)}); a last stripe may be narrower. Odd H is
 * rejected (the paper gives each orientation K/2 heads). (The official code's first branch takes the
 * vertical stripes; the order of the halves is only a relabelling of heads — we follow the paper.)
 *
 * <p>Per head: {@code out_i = softmax_{j ∈ S(i)}(scale·q_i·k_j) v_j + LePE(V)_i}, where
 * {@code LePE(V)_i[c] = bias[h,c] + Σ_{|dy|,|dx|≤1, i+(dy,dx) ∈ S(i)} w[h,c,dy+1,dx+1]·V_{i+(dy,dx)}[c]}:
 * the depthwise 3×3 convolution the official code applies to V <em>reshaped to each stripe window</em>,
 * so its zero padding falls at the stripe's edges, not the image's. The LePE weights are learned:
 * drawn from the seed (PyTorch's Conv2d default init) per (H, Dv) on first use, or given.
 *
 * <p>Each (batch, head, stripe) is one flash-kernel call; horizontal stripes are contiguous rows and
 * are read as views, vertical stripes are gathered. No N×N mask exists. Output {@code [B, H, N, Dv]};
 * GQA (Hkv | H) supported (LePE then convolves the shared kv head's V with the query head's weights).
 */
public final class CswinAttention implements Variant {
    public static final VariantInfo INFO = new VariantInfo("cswin", "P7", "CSWin Transformer: cross-shaped window self-attention",
            Family.S, true, "half the heads attend in horizontal stripes, half in vertical stripes, plus LePE (3x3 depthwise conv of V per stripe)");

    private final CswinParams params;
    private final long seed;
    private final CswinLepe fixed;
    private final ShapeCache<CswinLepe> drawn = new ShapeCache<>();

    /** LePE weights drawn from {@code seed} for the input's (H, Dv). */
    public CswinAttention(CswinParams params, long seed) {
        this(params, seed, null);
    }

    /** Explicit LePE weights (ignored when {@code params.lepe()} is false); the input must match their (H, Dv). */
    public CswinAttention(CswinParams params, CswinLepe lepe) {
        this(params, 0, lepe);
    }

    private CswinAttention(CswinParams params, long seed, CswinLepe lepe) {
        if (params == null) throw new IllegalArgumentException("params: expected CswinParams, got null");
        this.params = params;
        this.seed = seed;
        this.fixed = lepe;
    }

    public CswinParams params() { return params; }

    /** The LePE weights used for inputs with {@code heads} heads of value width {@code dv}. */
    public CswinLepe lepe(int heads, int dv) {
        if (fixed != null) {
            if (fixed.heads() != heads || fixed.dv() != dv) {
                throw new IllegalArgumentException("lepe: the given weights are for H=" + fixed.heads() + ", Dv=" + fixed.dv()
                        + " but the input has H=" + heads + ", Dv=" + dv);
            }
            return fixed;
        }
        return drawn.get(Shape.of(heads, dv), key -> CswinLepe.init(seed, heads, dv));
    }

    @Override
    public VariantInfo info() { return INFO; }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        int heads = s.heads(), n = s.nq(), d = s.d(), dv = s.dv();
        if (heads % 2 != 0) {
            throw new IllegalArgumentException("q: CSWin splits the heads into a horizontal and a vertical half and needs an even head count H, got H = " + heads);
        }
        int[] g = LocalSupport.resolveGrid(params.grid(), 2, n);
        int gh = g[0], gw = g[1], sw = Math.min(params.stripe(), Math.max(gh, gw)); // wider stripes change nothing
        int rowStripes = (gh + sw - 1) / sw, colStripes = (gw + sw - 1) / sw, half = heads / 2;
        // Items per batch entry: half·rowStripes horizontal ones, then half·colStripes vertical ones.
        int perBatch = half * (rowStripes + colStripes);
        float[] w9 = params.lepe() ? lepe(heads, dv).weight() : null;
        float[] bias = params.lepe() ? lepe(heads, dv).bias() : null;
        float[] out = new float[s.batch() * heads * n * dv];
        long[] flops = new long[s.batch() * perBatch];
        AttentionSpec spec = LocalSupport.spec(params.scale(), false);
        int maxTok = Math.max(Math.min(sw, gh) * gw, gh * Math.min(sw, gw));
        Parallel.forEach(Parallel.resolveThreads(threads), flops.length,
                w -> new float[][] {new float[maxTok * d], new float[maxTok * d], new float[maxTok * dv]},
                (item, buf) -> {
                    int b = item / perBatch, r = item % perBatch, h, m;
                    LocalSupport.Rect rect;
                    if (r < half * rowStripes) {
                        h = r / rowStripes;
                        m = r % rowStripes;
                        rect = new LocalSupport.Rect(m * sw, Math.min(gh, m * sw + sw), 0, gw);
                    } else {
                        r -= half * rowStripes;
                        h = half + r / colStripes;
                        m = r % colStripes;
                        rect = new LocalSupport.Rect(0, gh, m * sw, Math.min(gw, m * sw + sw));
                    }
                    int kh = s.kvHead(h);
                    Tensor qt = LocalSupport.region(q, b, h, rect, gw, buf[0]);
                    Tensor kt = LocalSupport.region(k, b, kh, rect, gw, buf[1]);
                    Tensor vt = LocalSupport.region(v, b, kh, rect, gw, buf[2]);
                    float[] o = LocalSupport.attend(qt, kt, vt, spec);
                    long f = LocalSupport.pairFlops((long) rect.size() * rect.size(), d, dv);
                    if (w9 != null) f += addLepe(o, vt, rect, w9, bias, h, dv);
                    LocalSupport.scatter(out, heads, n, dv, b, h, rect, gw, o);
                    flops[item] = f;
                });
        long total = 0;
        for (long f : flops) total += f;
        return new VariantResult(Tensor.of(out, s.batch(), heads, n, dv), total);
    }

    /**
     * Adds the stripe-local depthwise 3×3 convolution of the stripe's values {@code vt}
     * ([1, 1, size, dv], rows in the stripe's row-major order) to {@code o}; returns its FLOPs.
     */
    private static long addLepe(float[] o, Tensor vt, LocalSupport.Rect rect, float[] w9, float[] bias, int h, int dv) {
        float[] vd = vt.data();
        int vOff = vt.offset(), vs = vt.stride(2), vc = vt.stride(3);
        int rows = rect.y1() - rect.y0(), cols = rect.x1() - rect.x0();
        int wBase = h * dv * 9, bBase = h * dv;
        long taps = 0;
        for (int y = 0; y < rows; y++) {
            for (int x = 0; x < cols; x++) {
                int oBase = (y * cols + x) * dv;
                for (int c = 0; c < dv; c++) o[oBase + c] += bias[bBase + c];
                for (int dy = -1; dy <= 1; dy++) {
                    int yy = y + dy;
                    if (yy < 0 || yy >= rows) continue;
                    for (int dx = -1; dx <= 1; dx++) {
                        int xx = x + dx;
                        if (xx < 0 || xx >= cols) continue;
                        taps++;
                        int tap = (dy + 1) * 3 + (dx + 1), src = vOff + (yy * cols + xx) * vs;
                        for (int c = 0; c < dv; c++) o[oBase + c] += w9[wBase + c * 9 + tap] * vd[src + c * vc];
                    }
                }
            }
        }
        return 2L * taps * dv + 2L * rows * cols * dv;
    }
}
