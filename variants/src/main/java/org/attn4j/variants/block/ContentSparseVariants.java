package org.attn4j.variants.block;

import java.util.ArrayList;
import java.util.List;
import org.attn4j.variants.VariantFactory;

/** Registry entries of the content-selected block and cluster sparse attentions (family S). */
public final class ContentSparseVariants {
    private ContentSparseVariants() {}

    public static List<VariantFactory> factories() {
        List<VariantFactory> all = new ArrayList<>();
        MobaAttention moba = new MobaAttention(new MobaParams(16, 3));
        all.add(new VariantFactory(moba.info(), List.of(
                "block=int (>= 1, default 16): keys per block (the last block may be shorter)",
                "topk=int (>= 1, default 3): blocks per query, its own block included"),
                (set, seed) -> new MobaAttention(new MobaParams(set.integer("block", 16), set.integer("topk", 3)))));
        DynamicMaskAttention dma = new DynamicMaskAttention(new DynamicMaskParams(2048, 0, true), 0);
        all.add(new VariantFactory(dma.info(), List.of(
                "topk=int (>= 1, default 2048, the paper's keep_window_size): keys kept per query and head",
                "threshold=real (>= 0, default 0 = off): also drop keys whose weight exp(A·softplus(W·v)) is below it",
                "causal=bool (default true): query i sees keys j <= i"),
                (set, seed) -> new DynamicMaskAttention(new DynamicMaskParams(set.integer("topk", 2048), set.real("threshold", 0),
                        set.bool("causal", true)), seed)));
        return all;
    }
}
