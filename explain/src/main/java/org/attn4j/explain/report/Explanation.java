package org.attn4j.explain.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.attn4j.explain.capture.AttentionSummary;
import org.attn4j.explain.capture.CapturedAttention;
import org.attn4j.explain.gradient.GradientExplainer;
import org.attn4j.explain.gradient.GradientReport;
import org.attn4j.explain.importance.HeadAblation;
import org.attn4j.explain.importance.Paraphrases;
import org.attn4j.models.embed.Embedder;

/**
 * One text (or pair) explained: the captured attention, its summary and, optionally, head importance
 * by ablation over the text and shipped paraphrase sentences. {@code attn4j explain} and the HTTP
 * service's {@code /v1/explain} and {@code /explain} both build it here, so they write the same JSON
 * and HTML for the same input.
 *
 * @param importance null when {@code importanceSentences} was 0
 * @param gradient the explanations by gradient ({@code --methods}), or null when none were asked for
 */
public record Explanation(CapturedAttention captured, AttentionSummary summary, HeadAblation.Scores importance, String text,
                          GradientReport gradient) {

    /** An explanation without gradient methods ({@code --methods none}). */
    public Explanation(CapturedAttention captured, AttentionSummary summary, HeadAblation.Scores importance, String text) {
        this(captured, summary, importance, text, null);
    }

    /** This explanation with {@code gradient} added (null removes it). */
    public Explanation withGradient(GradientReport gradient) {
        return new Explanation(captured, summary, importance, text, gradient);
    }

    /** The default number of sentences head importance is measured over (the text and N−1 shipped ones). */
    public static final int DEFAULT_IMPORTANCE_SENTENCES = 8;

    /**
     * Captures and analyses {@code text} (with {@code pair} as the second sentence when not null).
     *
     * @param importanceSentences 0 to skip head importance, else the text plus this many minus one shipped sentences
     * @throws IllegalArgumentException naming {@code importanceSentences} when it is negative
     */
    public static Explanation of(Embedder model, String text, String pair, int importanceSentences) {
        if (text == null) throw new IllegalArgumentException("text: expected a string, got null");
        if (importanceSentences < 0) throw new IllegalArgumentException("importanceSentences: expected >= 0, got " + importanceSentences);
        CapturedAttention c = pair == null ? CapturedAttention.of(model, text) : CapturedAttention.ofPair(model, text, pair);
        AttentionSummary s = AttentionSummary.of(c);
        HeadAblation.Scores scores = null;
        if (importanceSentences > 0) scores = HeadAblation.score(model, importanceSet(pair == null ? text : text + " " + pair, importanceSentences));
        return new Explanation(c, s, scores, pair == null ? text : text + " | " + pair);
    }

    /**
     * What to explain by gradient ({@code attn4j explain --methods} and its options).
     *
     * @param methods           the methods to run; empty for none
     * @param target            with one text, the text whose embedding the cosine is taken to, or null
     * @param igSteps           integrated gradients' trapezoid intervals
     * @param faithfulnessSeeds random orders for the faithfulness baseline; 0 skips faithfulness
     */
    public record GradientOptions(Set<GradientExplainer.Method> methods, String target, int igSteps, int faithfulnessSeeds) {
        public static final int DEFAULT_IG_STEPS = 20, DEFAULT_FAITHFULNESS_SEEDS = 5;

        public GradientOptions {
            methods = Set.copyOf(methods);
            if (igSteps < 1) throw new IllegalArgumentException("--ig-steps: expected >= 1, got " + igSteps);
            if (faithfulnessSeeds < 0) throw new IllegalArgumentException("--faithfulness-seeds: expected >= 0, got " + faithfulnessSeeds);
        }

        /** What {@code attn4j explain} runs without options: {@link GradientReport#DEFAULT_METHODS}. */
        public static GradientOptions defaults() {
            return new GradientOptions(GradientReport.DEFAULT_METHODS, null, DEFAULT_IG_STEPS, DEFAULT_FAITHFULNESS_SEEDS);
        }

        /** No explanation by gradient ({@code --methods none}). */
        public static GradientOptions none() {
            return new GradientOptions(Set.of(), null, DEFAULT_IG_STEPS, DEFAULT_FAITHFULNESS_SEEDS);
        }
    }

    /**
     * As {@link #of(Embedder, String, String, int)}, with the explanations by gradient of {@code options}
     * added ({@link #gradient}); {@code attn4j explain} builds the same document this way.
     */
    public static Explanation of(Embedder model, String text, String pair, int importanceSentences, GradientOptions options) {
        Explanation e = of(model, text, pair, importanceSentences);
        return e.withGradient(gradient(model, text, pair, importanceSentences, e.importance(), options));
    }

    /**
     * The explanations by gradient of {@code text} (and {@code pair}), or null when {@code options}
     * names no method. The head-importance comparison runs over the same sentences as the ablation
     * importance ({@link #importanceSet}), reusing {@code ablation} when given.
     */
    public static GradientReport gradient(Embedder model, String text, String pair, int importanceSentences, HeadAblation.Scores ablation,
                                          GradientOptions options) {
        if (options == null || options.methods().isEmpty()) return null;
        GradientExplainer explainer = new GradientExplainer(model, 0);
        GradientExplainer.Example example = explainer.example(text, pair, options.target());
        List<String> headSet = importanceSentences > 0 ? importanceSet(pair == null ? text : text + " " + pair, importanceSentences) : null;
        Set<GradientExplainer.Method> ordered = EnumSet.noneOf(GradientExplainer.Method.class);
        ordered.addAll(options.methods()); // the declaration order, whatever order the set was given in
        return GradientReport.run(explainer, example, ordered, new GradientReport.Options(options.igSteps(), options.faithfulnessSeeds(), headSet,
                ablation == null ? null : ablation.normalised()));
    }

    /** The sentences head importance is measured over: {@code first}, then shipped sentences up to {@code n} in all. */
    public static List<String> importanceSet(String first, int n) {
        List<String> set = new ArrayList<>();
        set.add(first);
        for (Paraphrases.Pair p : Paraphrases.load()) {
            if (set.size() >= n) break;
            set.add(p.sentence());
        }
        return set;
    }

    /** What {@code attn4j explain --json} writes ({@link JsonReport#build}). */
    public ObjectNode json() {
        ObjectNode root = JsonReport.build(captured, summary, importance);
        // The field is always present (null without --methods), so readers need not test for it.
        ((ObjectNode) root.get("attn4j")).set("gradient", gradient == null ? null : gradient.json());
        return root;
    }

    /** The self-contained HTML report page; {@code model} is the name shown on it. */
    public String html(String model) {
        return HtmlReport.render(captured, summary, ReportOptions.defaults().text(text).model(model)
                .importance(importance == null ? null : importance.normalised()).gradient(gradient));
    }
}
