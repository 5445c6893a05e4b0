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
 * P115 — "SinkLoRA: Enhanced Efficiency and Chat Capabilities for Long-Context Large Language
 * Models": SF-Attn (sink fixed attention), shifted group attention whose shifted groups are returned
 * to place, plus global sink tokens.
 *
 * <p>Self-attention on {@code q, k, v [B, H, N, D]}. The sequence is cut into groups of g tokens.
 * Heads {@code [0, H/2)} (all heads when {@code shift} is off) use the groups {@code [m·g, (m+1)·g)};
 * heads {@code [H/2, H)} use the groups shifted by {@code o = ⌊g/2⌋}, as LongLoRA's S²-Attn does.
 * S²-Attn implements the shift by rolling the sequence cyclically, so its last shifted group joins
 * the sequence's last ⌊g/2⌋ tokens with its first ones (under a causal mask the first tokens then
 * see the last). SF-Attn's segmentation and reassembly returns those tokens to their places: the
 * wrapped group is cut at the sequence's ends and each piece stays where it belongs, so the shifted
 * groups are {@code [0, o), [o, o+g), [o+g, o+2g), …}, truncated at N, and nothing wraps around.
 * On top of that every query attends to the first {@code sinks} tokens (global "sink attention
 * tokens"). With {@code causal}, key j is visible to query i only when j ≤ i as well.
 *
 * <p>Key j is visible to query i of head h iff ({@code group_h(i) == group_h(j)} or {@code j < sinks})
 * and (not causal or {@code j ≤ i}); {@code out_i = softmax over visible j of (scale·q_i·k_j) v_j}.
 * (Our reading of "proportionally return cyclically shifted groups to their un-shifted state": the
 * published code only holds the S²-Attn baseline, so this follows the paper's description.)
 *
 * <p>Each (batch, head, group) is one flash-kernel call over the group's keys preceded by the sink
 * keys outside it: a view when they are adjacent, else a small gather of s + g rows; causality is
 * the engine's bottom-right causal mask on that key list. No N×N mask exists. GQA supported.
 */
public final class SinkFixedAttention implements Variant {
    public static final VariantInfo INFO = new VariantInfo("sf-attn-sink", "P115", "SinkLoRA: SF-Attn (sink fixed attention)",
            Family.S, true, "group attention, half the heads on half-shifted groups returned to place (no wrap-around), plus global sink tokens");

    private final SfAttnParams params;

    public SinkFixedAttention(SfAttnParams params) {
        if (params == null) throw new IllegalArgumentException("params: expected SfAttnParams, got null");
        this.params = params;
    }

    public SfAttnParams params() { return params; }

    @Override
    public VariantInfo info() { return INFO; }

    @Override
    public boolean causal() { return params.causal(); }

    /** Whether query head {@code h} of {@code heads} uses the shifted groups. */
    public boolean shifted(int h, int heads) {
        return params.shift() && h >= heads / 2;
    }

    @Override
    public VariantResult run(Tensor q, Tensor k, Tensor v, int threads) {
        Shapes s = Shapes.self(q, k, v);
        int heads = s.heads(), n = s.nq(), d = s.d(), dv = s.dv();
        int g = params.groupFor(n), off = g / 2, sinks = Math.min(params.sinks(), n);
        boolean causal = params.causal();
        int plain = (int) ((n + (long) g - 1) / g);
        // Shifted groups: [0, off) (when off > 0), then [off + m·g, off + (m+1)·g) clipped to n.
        int shiftedCount = off == 0 ? plain : off >= n ? 1 : 1 + (int) ((n - off + (long) g - 1) / g);
        int maxGroups = Math.max(plain, shiftedCount);
        float[] out = new float[s.batch() * heads * n * dv];
        long[] flops = new long[s.batch() * heads * maxGroups];
        AttentionSpec spec = LocalSupport.spec(params.scale(), causal);
        final int shiftedGroups = shiftedCount;
        Parallel.forEach(Parallel.resolveThreads(threads), flops.length,
                w -> new float[][] {new float[(sinks + Math.min(g, n)) * d], new float[(sinks + Math.min(g, n)) * dv]},
                (item, buf) -> {
                    int m = item % maxGroups, bh = item / maxGroups, b = bh / heads, h = bh % heads, kh = s.kvHead(h);
                    boolean sh = shifted(h, heads) && off > 0;
                    if (m >= (sh ? shiftedGroups : plain)) return;
                    int a, e;
                    if (!sh) {
                        a = m * g;
                        e = (int) Math.min(n, a + (long) g);
                    } else {
                        a = m == 0 ? 0 : off + (m - 1) * g;
                        e = (int) Math.min(n, m == 0 ? off : off + (long) m * g);
                    }
                    int len = e - a;
                    Tensor qt = LocalSupport.rows(q, b, h, a, len);
                    Tensor kt, vt;
                    long keys;
                    if (sinks >= a) {
                        // Sinks reach the group: one contiguous key range; causal hides sinks past the queries.
                        int end = causal ? e : Math.max(e, sinks);
                        kt = LocalSupport.rows(k, b, kh, 0, end);
                        vt = LocalSupport.rows(v, b, kh, 0, end);
                        keys = causal ? (long) len * a + (long) len * (len + 1) / 2 : (long) len * end;
                    } else {
                        LocalSupport.gatherRows(k, b, kh, 0, sinks, buf[0], 0);
                        LocalSupport.gatherRows(k, b, kh, a, len, buf[0], sinks);
                        LocalSupport.gatherRows(v, b, kh, 0, sinks, buf[1], 0);
                        LocalSupport.gatherRows(v, b, kh, a, len, buf[1], sinks);
                        kt = LocalSupport.packed(buf[0], sinks + len, d);
                        vt = LocalSupport.packed(buf[1], sinks + len, dv);
                        keys = causal ? (long) len * sinks + (long) len * (len + 1) / 2 : (long) len * (sinks + len);
                    }
                    float[] o = LocalSupport.attend(qt, kt, vt, spec);
                    System.arraycopy(o, 0, out, ((b * heads + h) * n + a) * dv, len * dv);
                    flops[item] = LocalSupport.pairFlops(keys, d, dv);
                });
        long total = 0;
        for (long f : flops) total += f;
        return new VariantResult(Tensor.of(out, s.batch(), heads, n, dv), total);
    }
}
