package org.attn4j.variants.trainable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.attn4j.variants.Settings;

/**
 * The attention mechanisms that can be trained, by name: {@code full} (the engine's exact causal
 * attention; settings {@code alibi=bool}, {@code window=int}) and the variants that carry a backward.
 * Names match {@code attn4j variants list}; a variant that exists but cannot be trained gets a clear
 * error from {@link #create}.
 */
public final class TrainableRegistry {
    /** Builds a trainable mechanism from settings; must call {@link Settings#finish}. */
    @FunctionalInterface
    public interface Builder {
        TrainableAttention build(Settings settings);
    }

    private static final Map<String, Builder> BY_NAME = new LinkedHashMap<>();

    static {
        register("full", s -> new ExactTrainableAttention(s.bool("alibi", false), s.integer("window", 0)));
        register("neighborhood-1d", s -> ExactTrainableAttention.neighborhood(s.integer("kernel", 7)));
        register("moba", s -> new MobaTrainable(new org.attn4j.variants.contentsparse.MobaParams(s.integer("block", 0), s.integer("topk", 3))));
        register("linear", s -> LinearTrainable.linear(s.choice("feature", "elu1", "elu1", "relu"), s.integer("chunk", LinearTrainable.DEFAULT_CHUNK)));
        register("lln", s -> LinearTrainable.lln(s.integer("chunk", LinearTrainable.DEFAULT_CHUNK), s.real("sigmaq", 1), s.real("sigmak", 1)));
        register("talking-heads", s -> new TalkingHeadsTrainable(s.bool("pre", true), s.bool("post", true), s.real("scale", 0)));
        register("cog", s -> new CogTrainable(s.real("scale", 0)));
        register("mla", s -> new MlaTrainable(s.integer("kv-rank", 0), s.integer("q-rank", 0), s.integer("rope-dim", 0)));
        register("moh", s -> new MohTrainable(s.integer("shared", -1), s.integer("top-k", -1), s.real("scale", 0)));
    }

    private TrainableRegistry() {}

    private static void register(String name, Builder b) {
        if (BY_NAME.put(name, b) != null) throw new IllegalStateException("duplicate trainable attention " + name);
    }

    /** The names of every trainable mechanism, in registry order. */
    public static List<String> names() { return List.copyOf(BY_NAME.keySet()); }

    /** Whether {@code name} can be trained. */
    public static boolean isTrainable(String name) { return BY_NAME.containsKey(name); }

    /**
     * The mechanism called {@code name} with {@code settings}. Throws IllegalArgumentException naming
     * {@code attention} for an unknown name or for a variant without a backward, and naming the key
     * for a setting the mechanism does not accept.
     */
    public static TrainableAttention create(String name, Settings settings) {
        Builder b = BY_NAME.get(name);
        if (b == null) {
            boolean exists = org.attn4j.variants.VariantRegistry.all().stream().anyMatch(f -> f.info().name().equals(name));
            if (exists) {
                throw new IllegalArgumentException("attention: variant '" + name + "' has no backward and cannot be trained; trainable: " + String.join(", ", names()));
            }
            throw new IllegalArgumentException("attention: unknown '" + name + "'; trainable: " + String.join(", ", names()));
        }
        TrainableAttention t = b.build(settings);
        settings.finish(name);
        return t;
    }
}
