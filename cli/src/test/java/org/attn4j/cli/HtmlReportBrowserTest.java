package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Renders the HTML report of {@code attn4j explain} and loads it in headless Chromium: the page's scripts must
 * run without error, build the layers × heads grid, open a head from the URL hash, and paint a screenshot.
 * Needs {@code /usr/bin/chromium} ({@code ./attn4j test} installs it when run as root); set
 * {@code ATTN4J_SKIP_BROWSER=1} to skip instead of failing where it cannot be installed.
 */
class HtmlReportBrowserTest {
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final int LAYERS = 6, HEADS = 12; // all-MiniLM-L6-v2

    @TempDir static Path dir;
    static Path report, pairReport;

    @BeforeAll
    static void render() throws IOException {
        if (!Files.isExecutable(CHROMIUM)) {
            Assumptions.assumeFalse("1".equals(System.getenv("ATTN4J_SKIP_BROWSER")),
                    "ATTN4J_SKIP_BROWSER=1: skipping the headless-browser test of the HTML report");
            fail("/usr/bin/chromium is missing: the HTML report's browser test needs it. Install it with "
                    + "'apt-get install -y chromium' (./attn4j test does so when run as root), "
                    + "or set ATTN4J_SKIP_BROWSER=1 to skip this test.");
        }
        report = dir.resolve("report.html");
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new String[] {"explain", "The cat sat on the mat because it was tired.", "--out", report.toString()},
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertTrue(err.toString().contains("report written to " + report.toAbsolutePath()), err.toString());
        assertTrue(Files.size(report) > 10_000, "report is only " + Files.size(report) + " bytes");
        pairReport = dir.resolve("pair.html");
        code = Main.execute(new String[] {"explain", "Where is the cat?", "--pair", "On the mat.", "--out", pairReport.toString()},
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertTrue(Files.size(pairReport) > 10_000, "pair report is only " + Files.size(pairReport) + " bytes");
    }

    @Test
    void pairFilterRestrictsTheHeadViewToAToB() throws Exception {
        String dom = dumpDom(pairReport.toUri() + "#head=2,5&filter=AB", "pair");
        assertNoScriptErrors(dom);
        assertTrue(Pattern.compile("<select[^>]*id=\"pair-filter\"").matcher(dom).find(), "no #pair-filter select");
        Matcher view = Pattern.compile("<section[^>]*id=\"head-view\"[^>]*>(.*?)</section>", Pattern.DOTALL).matcher(dom);
        assertTrue(view.find(), "no #head-view element in the DOM");
        String hv = view.group(1);
        assertTrue(hv.contains("Layer 2, head 5"), "head view: " + hv);
        assertTrue(hv.contains("not renormalised"), "head view has no caption on the weights: " + hv);
        assertEquals(List.of("on", "the", "mat", ".", "[SEP]"), labels(hv, "hv-cols"), "columns (keys) of the A→B view");
        assertEquals(List.of("[CLS]", "where", "is", "the", "cat", "?", "[SEP]"), labels(hv, "hv-rows"), "rows (queries) of the A→B view");
        // the grid cells shrink to the 7 × 5 block too
        assertTrue(Pattern.compile("<canvas[^>]*id=\"cell-0-0\"[^>]*width=\"5\" height=\"7\"").matcher(dom).find(), "grid cell is not 5 × 7");
    }

    /**
     * The sections of the default explanations by gradient render: a strip per default token method with a span
     * per token, the 7 × 6 A×B matrix of the pair, and the deletion and insertion charts with a curve per method
     * and one for random orders.
     */
    @Test
    void gradientStripsPairMatrixAndCurvesRender() throws Exception {
        String dom = dumpDom(pairReport.toUri().toString(), "gradient");
        assertNoScriptErrors(dom);
        int methods = (int) org.attn4j.explain.gradient.GradientReport.DEFAULT_METHODS.stream().filter(m -> m.scoresTokens()).count();
        Matcher strips = Pattern.compile("<tr class=\"strip\" id=\"strip-([a-z-]+)\">(.*?)</tr>", Pattern.DOTALL).matcher(dom);
        int rows = 0;
        while (strips.find()) {
            rows++;
            assertEquals(7 + 6, count(strips.group(2), "class=\"tok\""), strips.group(1) + ": a span per token of A and B");
        }
        assertEquals(methods, rows, "a strip per default token method");
        Matcher matrix = Pattern.compile("<table[^>]*id=\"pair-matrix\"[^>]*>(.*?)</table>", Pattern.DOTALL).matcher(dom);
        assertTrue(matrix.find(), "no #pair-matrix");
        assertEquals(7 * 6, count(matrix.group(1), "<td class=\"pm\""), "a cell per (token of A, token of B)");
        assertEquals(6, count(matrix.group(1), "<th class=\"pm-col\""), "B's tokens as columns");
        for (String chart : new String[] {"deletion", "insertion"}) {
            Matcher svg = Pattern.compile("<svg[^>]*id=\"curve-" + chart + "\"[^>]*>(.*?)</svg>", Pattern.DOTALL).matcher(dom);
            assertTrue(svg.find(), "no #curve-" + chart);
            assertEquals(methods + 1, count(svg.group(1), "<polyline"), chart + ": a curve per method and random");
        }
        Path png = dir.resolve("gradient.png");
        Result r = chromium("gradient-shot", "--hide-scrollbars", "--window-size=1400,2600", "--screenshot=" + png, pairReport.toUri().toString());
        assertEquals(0, r.code, r.stderr);
        assertTrue(Files.size(png) > 20_000, "screenshot is only " + Files.size(png) + " bytes");
        String keep = System.getenv("ATTN4J_GRADIENT_SCREENSHOT");
        if (keep != null && !keep.isBlank()) Files.copy(png, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        // one text: strips, no pair matrix
        String single = dumpDom(report.toUri().toString(), "gradient-single");
        assertTrue(single.contains("id=\"strips\"") && !single.contains("id=\"pair-matrix\""), "one text: strips and no pair matrix");
    }

    static int count(String s, String needle) {
        int n = 0;
        for (int at = s.indexOf(needle); at >= 0; at = s.indexOf(needle, at + 1)) n++;
        return n;
    }

    @Test
    void singleSentenceHasNoPairFilter() throws Exception {
        String dom = dumpDom(report.toUri() + "#head=2,5", "single");
        assertNoScriptErrors(dom);
        assertFalse(dom.contains("id=\"pair-filter\""), "a single sentence shows the pair filter");
        Matcher view = Pattern.compile("<section[^>]*id=\"head-view\"[^>]*>(.*?)</section>", Pattern.DOTALL).matcher(dom);
        assertTrue(view.find());
        assertEquals(labels(view.group(1), "hv-rows"), labels(view.group(1), "hv-cols"), "unfiltered view is square");
    }

    static List<String> labels(String html, String id) {
        Matcher list = Pattern.compile("<ol[^>]*id=\"" + id + "\"[^>]*>(.*?)</ol>", Pattern.DOTALL).matcher(html);
        assertTrue(list.find(), "no #" + id + " in " + html);
        List<String> out = new ArrayList<>();
        Matcher li = Pattern.compile("<li[^>]*>(.*?)</li>", Pattern.DOTALL).matcher(list.group(1));
        while (li.find()) out.add(li.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"));
        return out;
    }

    @Test
    void gridIsBuiltWithoutScriptErrors() throws Exception {
        String dom = dumpDom(report.toUri().toString(), "grid");
        Matcher cells = Pattern.compile("<canvas[^>]*\\bid=\"cell-(\\d+)-(\\d+)\"").matcher(dom);
        int count = 0;
        while (cells.find()) count++;
        assertEquals(LAYERS * HEADS, count, "grid canvas cells");
        assertNoScriptErrors(dom);
        assertTrue(dom.contains("id=\"head-table\""), "head table");
        assertTrue(Pattern.compile("<tbody>(\\s*<tr[^>]*>.*?</tr>){" + LAYERS * HEADS + "}\\s*</tbody>", Pattern.DOTALL).matcher(dom).find(),
                "head table has one row per head");
        assertTrue(dom.contains("<polyline"), "rank-collapse chart");
    }

    @Test
    void hashOpensTheHeadView() throws Exception {
        String dom = dumpDom(report.toUri() + "#head=2,5", "hash");
        assertNoScriptErrors(dom);
        Matcher view = Pattern.compile("<section[^>]*id=\"head-view\"[^>]*>(.*?)</section>", Pattern.DOTALL).matcher(dom);
        assertTrue(view.find(), "no #head-view element in the DOM");
        assertTrue(view.group(1).contains("Layer 2, head 5"), "head view: " + view.group(1));
        assertTrue(view.group(1).contains("<canvas"), "head view has no canvas: " + view.group(1));
        assertTrue(Pattern.compile("<canvas[^>]*id=\"cell-2-5\"[^>]*class=\"cell sel\"").matcher(dom).find(), "cell 2,5 is not selected");
    }

    @Test
    void screenshotIsPainted() throws Exception {
        Path png = dir.resolve("report.png");
        Result r = chromium("shot", "--hide-scrollbars", "--window-size=1400,1000", "--screenshot=" + png, report.toUri() + "#head=2,5");
        assertEquals(0, r.code, r.stderr);
        assertTrue(Files.exists(png), "no screenshot; chromium said: " + r.stderr);
        byte[] head = Files.readAllBytes(png);
        assertTrue(head.length > 20_000, "screenshot is only " + head.length + " bytes");
        assertEquals((byte) 0x89, head[0]);
        assertEquals("PNG", new String(head, 1, 3, StandardCharsets.US_ASCII));
        String keep = System.getenv("ATTN4J_REPORT_SCREENSHOT");
        if (keep != null && !keep.isBlank()) Files.copy(png, Path.of(keep), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    static void assertNoScriptErrors(String dom) {
        Matcher m = Pattern.compile("<pre id=\"errors\"[^>]*>(.*?)</pre>", Pattern.DOTALL).matcher(dom);
        assertTrue(m.find(), "no <pre id=\"errors\"> in the DOM (did the page load?)");
        assertEquals("", m.group(1).trim(), "the page reported script errors");
    }

    static String dumpDom(String url, String tag) throws Exception {
        Result r = chromium(tag, "--virtual-time-budget=5000", "--dump-dom", url);
        assertEquals(0, r.code, r.stderr);
        assertTrue(r.stdout.contains("</html>"), "no DOM dumped; chromium said: " + r.stderr);
        return r.stdout;
    }

    record Result(int code, String stdout, String stderr) {}

    static Result chromium(String tag, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + Files.createTempDirectory(dir, "chromium-profile-")));
        cmd.addAll(List.of(args));
        Path stdout = dir.resolve(tag + ".out"), stderr = dir.resolve(tag + ".err");
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
            fail("chromium did not finish within 60 s: " + cmd + "\n" + tail(Files.readString(stderr)));
        }
        return new Result(p.exitValue(), Files.readString(stdout), tail(Files.readString(stderr)));
    }

    static String tail(String s) {
        return s.length() > 4000 ? "…" + s.substring(s.length() - 4000) : s;
    }
}
