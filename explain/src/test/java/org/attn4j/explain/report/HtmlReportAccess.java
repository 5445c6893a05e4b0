package org.attn4j.explain.report;

import org.attn4j.explain.gradient.GradientReport;

/** Test access to the report's package-private pieces from other test packages. */
public final class HtmlReportAccess {
    private HtmlReportAccess() {}

    public static String gradientSection(GradientReport g) {
        return HtmlReport.gradientSection(g);
    }
}
