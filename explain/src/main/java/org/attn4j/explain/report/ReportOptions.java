package org.attn4j.explain.report;

/**
 * Options of an {@link HtmlReport}. Immutable; the {@code with}-style methods return a changed copy.
 *
 * @param text       the input text shown in the title, or {@code null} to show the joined tokens
 * @param model      the model's name shown in the title, or {@code null}
 * @param importance optional per-head importance {@code [layer][head]} (e.g. from
 *                   {@link org.attn4j.explain.analysis.HeadImportance}); {@code null} leaves the column empty
 * @param gradient   optional explanations by gradient, drawn as one token-relevance strip per method
 *                   with the faithfulness table; {@code null} leaves the section out
 */
public record ReportOptions(String text, String model, double[][] importance, org.attn4j.explain.gradient.GradientReport gradient) {

    /** No text, no model name, no importance. */
    public static ReportOptions defaults() {
        return new ReportOptions(null, null, null, null);
    }

    public ReportOptions text(String text) {
        return new ReportOptions(text, model, importance, gradient);
    }

    public ReportOptions model(String model) {
        return new ReportOptions(text, model, importance, gradient);
    }

    /** Fills the head table's importance column with {@code importance[layer][head]}. */
    public ReportOptions importance(double[][] importance) {
        return new ReportOptions(text, model, importance, gradient);
    }

    /** Adds the section of token-relevance strips and the faithfulness table. */
    public ReportOptions gradient(org.attn4j.explain.gradient.GradientReport gradient) {
        return new ReportOptions(text, model, importance, gradient);
    }
}
