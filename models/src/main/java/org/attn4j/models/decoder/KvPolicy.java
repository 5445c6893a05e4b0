package org.attn4j.models.decoder;

/**
 * Which cached keys and values a sequence keeps once its cache reaches a budget. A policy with a
 * budget makes {@link DecoderModel#forward} run token by token past the budget, evicting before each
 * token so that every query attends to at most {@code budget} keys, itself included.
 */
public sealed interface KvPolicy permits KvPolicy.Full, KvPolicy.Window, KvPolicy.Sinks, KvPolicy.HeavyHitters, KvPolicy.SharedAttention, KvPolicy.Latent {

    /** Keys a query attends to at most, itself included; {@code Integer.MAX_VALUE} for no limit. */
    int budget();

    /** Leading positions never evicted. */
    default int sinks() { return 0; }

    /** Whether positions are slots inside the cache (StreamingLLM) rather than positions in the text. */
    default boolean cachePositions() { return false; }

    /** Whether eviction is decided per key/value head from accumulated attention (H2O). */
    default boolean perHeadScores() { return false; }

    /**
     * The policy named {@code name} ({@code full}, {@code window}, {@code sinks}, {@code h2o}) with
     * {@code budget} keys, or {@code shared-attention} / {@code shared-attention:G} (groups of G
     * layers, default 2), which keeps every position and ignores {@code budget}, or {@code mla}
     * (the latent cache of a model with Multi-head Latent Attention; keeps every position).
     */
    static KvPolicy of(String name, int budget) {
        if (name.equals("shared-attention") || name.startsWith("shared-attention:")) {
            String g = name.equals("shared-attention") ? "2" : name.substring("shared-attention:".length());
            int group;
            try {
                group = Integer.parseInt(g);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("kv policy: expected shared-attention:G with G a number of layers, got '" + name + "'");
            }
            return new SharedAttention(group);
        }
        return switch (name) {
            case "full" -> new Full();
            case "window" -> new Window(budget);
            case "sinks" -> new Sinks(4, budget);
            case "h2o" -> new HeavyHitters(budget, budget / 2);
            case "mla" -> new Latent();
            default -> throw new IllegalArgumentException("kv policy: expected one of full, window, sinks, h2o, shared-attention[:G], mla, got '" + name + "'");
        };
    }

    /** Keep everything: exact attention over the whole history. */
    record Full() implements KvPolicy {
        @Override public int budget() { return Integer.MAX_VALUE; }
    }

    /**
     * Sliding-window attention: the most recent {@code budget} keys, at their positions in the text
     * (Beltagy, Peters and Cohan, "Longformer: The Long-Document Transformer", 2020, arXiv:2004.05150;
     * as used at inference by Mistral 7B, Jiang et al. 2023, arXiv:2310.06825). Equal to a model whose
     * attention has a window of {@code budget} keys.
     */
    record Window(int budget) implements KvPolicy {
        public Window {
            if (budget < 1) throw new IllegalArgumentException("kv budget: expected >= 1 key for the window policy, got " + budget);
        }
    }

    /**
     * Attention sinks plus a recent window (Xiao, Tian, Chen, Han and Lewis, "Efficient Streaming
     * Language Models with Attention Sinks", ICLR 2024, arXiv:2309.17453): the first {@code sinks}
     * keys stay, the rest of the budget holds the most recent keys, and — as the paper prescribes —
     * RoPE positions are slots inside the cache, not positions in the text (kept keys are re-rotated
     * when the window shifts).
     */
    record Sinks(int sinks, int budget) implements KvPolicy {
        public Sinks {
            if (sinks < 0) throw new IllegalArgumentException("sinks: expected >= 0, got " + sinks);
            if (budget < sinks + 1) throw new IllegalArgumentException("kv budget: expected >= sinks + 1 = " + (sinks + 1) + " keys for the sinks policy, got " + budget);
        }

        @Override public boolean cachePositions() { return true; }
    }

    /**
     * Heavy hitters plus recent keys (Zhang et al., "H2O: Heavy-Hitter Oracle for Efficient Generative
     * Inference of Large Language Models", NeurIPS 2023, arXiv:2306.14048): every cached key
     * accumulates the attention probability it receives (per layer and key/value head, summed over the
     * query heads of its group); past the budget, the key with the lowest accumulated score outside
     * the {@code recent} newest is evicted, head by head. Keys keep their positions in the text.
     */
    record HeavyHitters(int budget, int recent) implements KvPolicy {
        public HeavyHitters {
            if (recent < 1 || budget < recent + 1) {
                throw new IllegalArgumentException("kv budget: expected >= 2 keys for the h2o policy (recent " + recent + " + at least one heavy hitter), got " + budget);
            }
        }

        @Override public boolean perHeadScores() { return true; }
    }

    /**
     * Attention weights shared across layers ("Beyond KV Caching: Shared Attention for Efficient LLMs",
     * Liao and Vargas, 2024, arXiv:2407.12866): the layers of each group of {@code group} consecutive
     * layers reuse the softmax probabilities computed by the group's first layer and apply them to their
     * own values. Only the first layer of each group needs keys,
     * so the other layers' keys are neither computed nor cached. Keeps every position.
     */
    record SharedAttention(int group) implements KvPolicy {
        public SharedAttention {
            if (group < 1) throw new IllegalArgumentException("group: expected >= 1 layers per group, got " + group);
        }

        @Override public int budget() { return Integer.MAX_VALUE; }
    }

    /**
     * The latent cache of Multi-head Latent Attention (DeepSeek-AI, "DeepSeek-V2: A Strong, Economical,
     * and Efficient Mixture-of-Experts Language Model", 2024, arXiv:2405.04434): per token and layer
     * only the compressed latent {@code c_KV} and the shared RoPE key {@code k^R} are kept, and
     * attention runs in the absorbed form. Keeps every position. A model with latent attention always
     * caches latents (this policy names it explicitly, like {@code full}); on a model without latent
     * attention layers the cache refuses it.
     */
    record Latent() implements KvPolicy {
        @Override public int budget() { return Integer.MAX_VALUE; }
    }
}
