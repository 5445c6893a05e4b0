package org.attn4j.variants.contentsparse;

import java.util.ArrayList;
import java.util.List;
import org.attn4j.variants.VariantFactory;

/** Registry entries of the content-selected block and cluster sparse attentions (family S). */
public final class ContentSparseVariants {
    private ContentSparseVariants() {}

    public static List<VariantFactory> factories() {
        List<VariantFactory> all = new ArrayList<>();
        MobaAttention moba = new MobaAttention(new MobaParams(0, 3));
        all.add(new VariantFactory(moba.info(), List.of(
                "block=int (>= 1, default 0 = the power of two nearest N/64, at least 16; 512 at N = 32K): keys per block (the last may be shorter)",
                "topk=int (>= 1, default 3): blocks per query, its own block included"),
                (set, seed) -> new MobaAttention(new MobaParams(set.integer("block", 0), set.integer("topk", 3)))));
        DynamicMaskAttention dma = new DynamicMaskAttention(new DynamicMaskParams(2048, 0, true), 0);
        all.add(new VariantFactory(dma.info(), List.of(
                "topk=int (>= 1, default 2048, the paper's keep_window_size): keys kept per query and head",
                "threshold=real (>= 0, default 0 = off): also drop keys whose weight exp(A·softplus(W·v)) is below it",
                "causal=bool (default true): query i sees keys j <= i"),
                (set, seed) -> new DynamicMaskAttention(new DynamicMaskParams(set.integer("topk", 2048), set.real("threshold", 0),
                        set.bool("causal", true)), seed)));
        RoutingAttention routing = new RoutingAttention(new RoutingParams(0, true, false, 0, 0.999), 0);
        all.add(new VariantFactory(routing.info(), List.of(
                "clusters=int (>= 1, default 0 = ceil(sqrt(N))): k-means centroids per head, shared by queries and keys",
                "causal=bool (default true): query i sees only keys j <= i",
                "balanced=bool (default false): equal-size clusters, each centroid takes its window best queries and keys",
                "window=int (>= 1, default 0 = ceil(N / clusters)): members per centroid, balanced only",
                "decay=real (in [0, 1), default 0.999): moving-average factor of updatedCentroids (the forward never updates)"),
                (set, seed) -> new RoutingAttention(new RoutingParams(set.integer("clusters", 0), set.bool("causal", true),
                        set.bool("balanced", false), set.integer("window", 0), set.real("decay", 0.999)), seed)));
        TcaAttention tca = new TcaAttention(new TcaParams(128, 1024, 0.95, true));
        all.add(new VariantFactory(tca.info(), List.of(
                "block=int (>= 1, default 128): queries sharing one pooled estimate and key selection; the own block is always attended",
                "topk=int (>= 1, default 1024): token budget, keys kept per query block besides its own block",
                "threshold=real (in (0, 1], default 0.95): estimated probability mass to cover (1 = always the whole budget)",
                "causal=bool (default true): query i sees only keys j <= i"),
                (set, seed) -> new TcaAttention(new TcaParams(set.integer("block", 128), set.integer("topk", 1024),
                        set.real("threshold", 0.95), set.bool("causal", true)))));
        return all;
    }
}
