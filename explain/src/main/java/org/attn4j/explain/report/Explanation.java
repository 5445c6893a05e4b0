package org.attn4j.explain.report;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.attn4j.explain.capture.AttentionSummary;
import org.attn4j.explain.capture.CapturedAttention;
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

    /** An explanation without gradient methods. */
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
