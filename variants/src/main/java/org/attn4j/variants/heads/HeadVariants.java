package org.attn4j.variants.heads;

import java.util.List;
import org.attn4j.variants.Settings;
import org.attn4j.variants.VariantFactory;
import org.attn4j.variants.heads.MultiTokenParams.Where;

/** Registry entries of family H, head design and head mixing. */
public final class HeadVariants {
    private HeadVariants() {}

    private static final String CAUSAL = "causal=bool (default false): query i sees keys j <= i";
    private static final String SCALE = "scale=real (default 0 = 1/sqrt(D)): logit scale";

    private static String perturb(double def) {
        return "perturb=real (>= 0, default " + def + "): seeded mixing parameters are identity + N(0, perturb^2/fan-in); 0 reduces to standard MHA";
    }

    public static List<VariantFactory> factories() {
        return List.of(
                new VariantFactory(MixtureOfHeadsAttention.INFO, List.of(
                        "shared=int (default H/2): always-active heads",
                        "top-k=int (default ceil((H - shared)/2)): routed heads each token activates",
                        CAUSAL, SCALE),
                        (s, seed) -> new MixtureOfHeadsAttention(new MixtureOfHeadsParams(s.integer("shared", -1), s.integer("top-k", -1),
                                s.bool("causal", false), s.real("scale", 0)), seed)),
                new VariantFactory(KnockingHeadsAttention.INFO, List.of(
                        "apply=q|k|v letters (default qkv): which of Q, K, V get the shared matrix",
                        CAUSAL, SCALE, perturb(0.1)),
                        (s, seed) -> {
                            String apply = s.string("apply", "qkv").toLowerCase();
                            if (!apply.matches("[qkv]+")) throw new IllegalArgumentException("apply: expected letters from q, k, v such as qkv or v, got '" + apply + "'");
                            return new KnockingHeadsAttention(new KnockingHeadsParams(s.bool("causal", false), s.real("scale", 0), s.real("perturb", 0.1),
                                    apply.contains("q"), apply.contains("k"), apply.contains("v")), seed);
                        }),
                new VariantFactory(EnhancedInteractiveAttention.INFO, List.of(CAUSAL, SCALE, perturb(0.1)),
                        (s, seed) -> new EnhancedInteractiveAttention(new EitParams(s.bool("causal", false), s.real("scale", 0), s.real("perturb", 0.1)), seed)),
                new VariantFactory(HeadEmbeddingAttention.INFO, List.of(
                        "embedding=add|mul (default add): MHE-ADD or MHE-MUL head embeddings", CAUSAL, SCALE),
                        (s, seed) -> new HeadEmbeddingAttention(new HeadEmbeddingParams(s.bool("causal", false), s.real("scale", 0),
                                s.choice("embedding", "add", "add", "mul").equals("mul")), seed)),
                new VariantFactory(TalkingHeadsAttention.INFO, List.of(
                        "pre=bool (default true): mix logits across heads before the softmax",
                        "post=bool (default true): mix weights across heads after the softmax",
                        CAUSAL, SCALE, perturb(0.1)),
                        (s, seed) -> {
                            TalkingHeadsParams p = new TalkingHeadsParams(s.bool("causal", false), s.real("scale", 0), s.real("perturb", 0.1),
                                    s.bool("pre", true), s.bool("post", true));
                            if (!p.pre() && !p.post()) throw new IllegalArgumentException("pre: pre and post cannot both be false (that is plain MHA)");
                            return new TalkingHeadsAttention(p, seed);
                        }),
                new VariantFactory(MultiTokenAttention.INFO, List.of(
                        "query-kernel=int (1..64, default 6): c_q, queries looked back over",
                        "key-kernel=int (1..129, default 11): c_k, keys around each key",
                        "key-query=pre|post|none (default pre): key-query convolution before or after the softmax",
                        "head-group=int (default 2): heads mixed in groups of this size (must divide H)",
                        "head-mix=pre|post|none (default post): head convolution before or after the softmax",
                        "group-norm=bool (default false): per-head normalisation of the output rows",
                        CAUSAL, SCALE, perturb(0.1)),
                        (s, seed) -> new MultiTokenAttention(new MultiTokenParams(s.bool("causal", false), s.real("scale", 0),
                                s.integer("query-kernel", 6), s.integer("key-kernel", 11), where(s, "key-query", "pre"),
                                s.integer("head-group", 2), where(s, "head-mix", "post"), s.bool("group-norm", false), s.real("perturb", 0.1)), seed)),
                new VariantFactory(CogAttention.INFO, List.of(CAUSAL, SCALE),
                        (s, seed) -> new CogAttention(new CogParams(s.bool("causal", false), s.real("scale", 0)))));
    }

    private static Where where(Settings s, String key, String def) {
        return Where.valueOf(s.choice(key, def, "pre", "post", "none").toUpperCase());
    }
}
