package org.attn4j.variants.latent;

import java.util.List;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantFactory;

/** Registry entries of the latent / low-rank package: {@code low-rank-heads}, {@code mla}. */
public final class LatentVariants {
    private LatentVariants() {}

    public static List<VariantFactory> factories() {
        return List.of(
                new VariantFactory(LowRankHeads.INFO, List.of(
                        "rank=int (>= 1, default 4): rank r of each head's score form W_Q W_K^T",
                        "scale=real (default 1/sqrt(D)): logit scale",
                        "causal=bool (default false): bottom-right causal mask"),
                        (s, seed) -> new LowRankHeads(new LowRankParams(s.integer("rank", 4), scale(s), s.bool("causal", false)), seed)),
                new VariantFactory(MultiHeadLatentAttention.INFO, List.of(
                        "kv-rank=int (>= 0, default 0 = 4·D): width d_c of the compressed KV latent c_KV",
                        "q-rank=int (>= 0, default 0 = 12·D): width d_c' of the compressed query latent c_Q",
                        "rope-dim=int (even, >= 0, default 0 = D/2 rounded up to even): decoupled RoPE width d_R",
                        "absorb=bool (default false): attend over c_KV with W_UK absorbed into the queries and W_UV into W_O (the decoding form; costs more than the plain form for a full prefill)",
                        "causal=bool (default false): bottom-right causal mask"),
                        (s, seed) -> new MultiHeadLatentAttention(new MlaParams(s.integer("kv-rank", 0), s.integer("q-rank", 0),
                                s.integer("rope-dim", 0), s.bool("absorb", false), s.bool("causal", false)), seed)));
    }

    private static Float scale(Settings s) {
        if (!s.has("scale")) {
            s.string("scale", null);
            return null;
        }
        return (float) s.real("scale", 0);
    }
}
