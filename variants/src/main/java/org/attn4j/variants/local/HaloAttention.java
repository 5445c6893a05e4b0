package org.attn4j.variants.local;

import org.attn4j.core.attention.AttentionSpec;
import org.attn4j.core.parallel.Parallel;
import org.attn4j.core.tensor.Tensor;
import org.attn4j.variants.Family;
import org.attn4j.variants.Shapes;
import org.attn4j.variants.Variant;
import org.attn4j.variants.VariantInfo;
import org.attn4j.variants.VariantResult;

/**
 * P14 — "Scaling Local Self-Attention for Parameter Efficient Visual Backbones" (HaloNet): blocked
 * local self-attention with halos.
 *
 * <p>Self-attention on {@code q, k, v [B, H, N, D]} whose N tokens form a 1-D sequence or a
 * row-major 2-D grid. The grid is cut into non-overlapping query blocks of {@code block} tokens per
 * dimension (the last block of a dimension may be shorter); every query of a block attends, with
 * one softmax, to the keys of the block grown by {@code halo} tokens on every side:
 * {@code out_i = softmax_j∈R(b(i)) (scale·q_i·k_j) v_j}, {@code R = Π_d [start_d − halo_d, end_d + halo_d) ∩ grid}.
 *
 * <p>Padding. HaloNet zero-pads the feature map before extracting the halo regions and states that
 * no mask is needed; a padded position then has a zero key and a zero value, so it still takes
 * e^0 of the softmax mass and pulls border outputs towards 0. By default we <em>mask padding out</em>
 * (as lucidrains' reference implementation does, noting the paper's omission): the function is then
 * exactly "attention over the valid halo region", identical to the dense-mask formulation, and a
 * halo covering the grid is exactly full attention. {@code padding=zero} reproduces the paper's
 * zero-padded behaviour instead: the nominal window {@code Π_d [start_d − halo_d, start_d + block_d + halo_d)}
 * has P positions outside the grid, and each row's output is rescaled by
 * {@code 1 / (1 + P·e^(−lse))} (lse = the log-sum-exp over the valid keys), which is exact.
 * HaloNet's relative position embeddings are not part of this variant.
 *
 * <p>All queries of a block share their keys, so each (batch, head, block) is one flash-kernel call:
 * 1-D regions and full-width 2-D regions are read as views, other 2-D regions are gathered into
 * contiguous scratch. No N×N mask exists. Output {@code [B, H, N, Dv]}; GQA (Hkv | H) supported.
 */
public final class HaloAttention implements Variant {
    public static final VariantInfo INFO = new VariantInfo("halo", "P14", "Scaling Local Self-Attention for Parameter Efficient Visual Backbones (HaloNet)",
            Family.S, true, "blocked local self-attention: each query block attends to itself grown by a halo, padding masked out");

    private final HaloParams params;

    public HaloAttention(HaloParams params) {
        if (params == null) throw new IllegalArgumentException("params: expected HaloParams, got null");
        this.params = params;
    }

    public HaloParams params() { return params; }

    @Override
    public VariantInfo info() { return INFO; }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        int[] g = LocalSupport.resolveGrid(params.grid(), params.dims(), s.nq());
        // Treat 1-D as a 1×N grid so that one code path serves both.
        int gh = g.length == 2 ? g[0] : 1, gw = g.length == 2 ? g[1] : g[0];
        int bh = Math.min(gh, params.dims() == 2 ? params.block()[0] : 1), bw = Math.min(gw, params.block()[params.dims() - 1]);
        // A halo or block beyond the grid means the whole extent: clamp so that no index overflows.
        int hh = params.dims() == 2 ? Math.min(gh, params.halo()[0]) : 0, hw = Math.min(gw, params.halo()[params.dims() - 1]);
        int nby = (gh + bh - 1) / bh, nbx = (gw + bw - 1) / bw, blocks = nby * nbx;
        int heads = s.heads(), n = s.nq(), d = s.d(), dv = s.dv();
        float[] out = new float[s.batch() * heads * n * dv];
        long[] flops = new long[s.batch() * heads * blocks];
        AttentionSpec spec = params.zeroPadding() ? LocalSupport.spec(params.scale(), false).toBuilder().returnLse(true).build()
                : LocalSupport.spec(params.scale(), false);
        // Nominal window extents (unclamped) for zero padding.
        long winH = params.dims() == 2 ? params.block()[0] + 2L * params.halo()[0] : 1, winW = params.block()[params.dims() - 1] + 2L * params.halo()[params.dims() - 1];
        int maxQ = Math.min(bh, gh) * Math.min(bw, gw);
        int maxK = Math.min(gh, bh + 2 * hh) * Math.min(gw, bw + 2 * hw);
        Parallel.forEach(Parallel.resolveThreads(threads), flops.length,
                w -> new float[][] {new float[maxQ * d], new float[maxK * d], new float[maxK * dv]},
                (item, buf) -> {
                    int blk = item % blocks, bhIdx = item / blocks, b = bhIdx / heads, h = bhIdx % heads, kh = s.kvHead(h);
                    int by = blk / nbx, bx = blk % nbx;
                    LocalSupport.Rect qr = new LocalSupport.Rect(by * bh, Math.min(gh, by * bh + bh), bx * bw, Math.min(gw, bx * bw + bw));
                    LocalSupport.Rect kr = new LocalSupport.Rect(Math.max(0, qr.y0() - hh), Math.min(gh, qr.y1() + hh),
                            Math.max(0, qr.x0() - hw), Math.min(gw, qr.x1() + hw));
                    Tensor qt = LocalSupport.region(q, b, h, qr, gw, buf[0]);
                    Tensor kt = LocalSupport.region(k, b, kh, kr, gw, buf[1]);
                    Tensor vt = LocalSupport.region(v, b, kh, kr, gw, buf[2]);
                    org.attn4j.core.attention.AttentionResult res = org.attn4j.core.attention.Attention.sdpa(qt, kt, vt, spec);
                    float[] o = res.output().data();
                    if (params.zeroPadding()) {
                        double pad = (double) winH * winW - kr.size();
                        if (pad > 0) {
                            float[] lse = res.lse().data();
                            for (int i = 0; i < qr.size(); i++) {
                                float f = (float) (1.0 / (1.0 + pad * Math.exp(-lse[i])));
                                for (int c = 0; c < dv; c++) o[i * dv + c] *= f;
                            }
                        }
                    }
                    LocalSupport.scatter(out, heads, n, dv, b, h, qr, gw, o);
                    flops[item] = LocalSupport.pairFlops((long) qr.size() * kr.size(), d, dv);
                });
        long total = 0;
        for (long f : flops) total += f;
        return new VariantResult(Tensor.of(out, s.batch(), heads, n, dv), total);
    }
}
