package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.attn4j.explain.gradient.GradientExplainer;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attn4j explain --methods ...}: the gradient explanations on stdout and in --json. */
class ExplainGradientTest {
    @TempDir Path dir;

    static final String A = "A young man is playing an old guitar on the stage.", B = "Someone performs music with an instrument.";

    @Test
    void allMethodsOnAPairWithTheirJson() throws IOException {
        StringWriter out = new StringWriter(), err = new StringWriter();
        Path json = dir.resolve("gradient.json"), html = dir.resolve("report.html");
        int code = Main.execute(new String[] {"explain", A, "--pair", B, "--methods", "all", "--json", json.toString(), "--out", html.toString(),
                "--importance-sentences", "4"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        String text = out.toString();
        System.out.println(text);
        assertTrue(text.contains("Objective: cosine similarity of the two sentence embeddings"), text);
        assertTrue(text.contains("completeness gap"), text);
        assertTrue(text.contains("insertion AUC"), text);
        JsonNode g = new ObjectMapper().readTree(json.toFile()).get("attn4j").get("gradient");
        int n = g.get("tokens").size();
        // the report has one strip per token method, a span per token, and the faithfulness table
        String page = java.nio.file.Files.readString(html);
        assertTrue(page.contains("<section class=\"card wide\" id=\"gradient\">"), "the gradient section");
        for (String m : new String[] {"attention", "rollout", "flow", "grad-input", "ig", "relevance", "gim"}) {
            int at = page.indexOf("<tr class=\"strip\" id=\"strip-" + m + "\">");
            assertTrue(at > 0, m + " strip");
            String row = page.substring(at, page.indexOf("</tr>", at));
            assertEquals(n, row.split("class=\"tok\"", -1).length - 1, m + ": one span per token");
        }
        assertTrue(page.contains("<th>deletion AUC</th>") && page.contains("<td>random</td>"), "the faithfulness table");
        assertTrue(page.contains("@GRADIENT@") == false, "the mark is replaced");
        assertEquals(2, g.get("sequence_starts").size());
        for (String m : new String[] {"attention", "rollout", "flow", "grad-input", "ig", "relevance", "gim"}) {
            assertEquals(n, g.get("scores").get(m).size(), m);
            assertTrue(g.get("faithfulness").get("methods").has(m), m);
        }
        assertTrue(g.get("faithfulness").get("methods").has("random"));
        JsonNode ig = g.get("integrated_gradients");
        assertEquals(20, ig.get("steps").asInt());
        assertTrue(ig.get("completeness_gap").asDouble() < 0.01, ig.toString());
        double sum = 0;
        for (JsonNode v : g.get("scores").get("ig")) sum += v.asDouble();
        assertEquals(ig.get("value").asDouble() - ig.get("baseline_value").asDouble(), sum,
                0.01 * Math.abs(ig.get("value").asDouble() - ig.get("baseline_value").asDouble()));
        assertEquals(6, g.get("head_gradient").size());
        assertEquals(4, g.get("head_importance").get("sentences").asInt());
        double rho = g.get("head_importance").get("spearman").asDouble();
        assertTrue(rho >= -1 && rho <= 1, "spearman " + rho);
        // the file's scores are the library's on the same example
        Embedder model = Embedder.load(Embedder.MINILM);
        GradientExplainer e = new GradientExplainer(model, 0);
        var ex = e.example(A, B, null);
        assertEquals(ex.size(), n);
        assertEquals(e.value(ex), g.get("objective").get("value").asDouble(), 1e-6);
        double[] gi = e.gradientTimesInput(ex);
        for (int i = 0; i < n; i++) assertEquals(gi[i], g.get("scores").get("grad-input").get(i).asDouble(), 1e-5);
        double total = 0;
        for (String m : new String[] {"grad-input", "ig", "relevance", "gim", "head-grad"}) total += g.get("millis").get(m).asDouble();
        System.out.printf("gradient methods on a %d-token pair: %.0f ms in all (%s)%n", n, total, g.get("millis"));
    }

    /** The CLI's JSON is the library's document ({@code Explanation.of}, which the server returns), timings aside; {@code --methods none} leaves it out. */
    @Test
    void jsonIsTheLibrarysDocumentAndNoneTurnsTheMethodsOff() throws IOException {
        Path json = dir.resolve("pair.json"), none = dir.resolve("none.json"), html = dir.resolve("none.html");
        String[] common = {"explain", "Where is the cat?", "--pair", "On the mat.", "--importance-sentences", "0", "--no-report"};
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(common),
                java.util.stream.Stream.of("--methods", "grad-input,relevance", "--faithfulness-seeds", "2", "--json", json.toString())).toArray(String[]::new);
        assertEquals(0, Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        assertTrue(out.toString().contains("A x B token matrix (7 x 6, sums to "), out.toString());
        ObjectMapper om = new ObjectMapper();
        JsonNode got = om.readTree(json.toFile());
        var options = new org.attn4j.explain.report.Explanation.GradientOptions(
                java.util.EnumSet.of(GradientExplainer.Method.GRAD_INPUT, GradientExplainer.Method.RELEVANCE), null, 20, 2);
        JsonNode want = om.readTree(om.writeValueAsString(org.attn4j.explain.report.Explanation.of(Embedder.load(Embedder.MINILM), "Where is the cat?", "On the mat.", 0, options).json()));
        for (JsonNode d : java.util.List.of(got, want)) ((com.fasterxml.jackson.databind.node.ObjectNode) d.get("attn4j").get("gradient")).remove("millis");
        assertEquals("", firstDifference("", want, got), "the CLI's JSON equals Explanation.of's (numbers within rounding)");
        JsonNode pm = got.get("attn4j").get("gradient").get("pair_matrix");
        double sum = 0;
        for (JsonNode row : pm.get("matrix")) for (JsonNode v : row) sum += v.asDouble();
        assertEquals(got.get("attn4j").get("gradient").get("objective").get("value").asDouble(), sum, 1e-5, "the entries add up to the cosine");

        args = new String[] {"explain", "Where is the cat?", "--importance-sentences", "0", "--methods", "none", "--json", none.toString(), "--out", html.toString()};
        out = new StringWriter();
        assertEquals(0, Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        assertTrue(om.readTree(none.toFile()).get("attn4j").get("gradient").isNull());
        assertTrue(!out.toString().contains("Explanations by gradient") && !java.nio.file.Files.readString(html).contains("id=\"gradient\""), out.toString());
    }

    /** The path of the first difference between two JSON trees (numbers within 1e-5 relative), or "" when they agree. */
    static String firstDifference(String path, JsonNode a, JsonNode b) {
        if (a.equals(b)) return "";
        // the encoder's float kernels may round differently from one run to the next (1e-7 on the attention weights)
        if (a.isNumber() && b.isNumber() && Math.abs(a.asDouble() - b.asDouble()) <= 1e-5 * Math.max(1, Math.abs(a.asDouble()))) return "";
        if (a.isObject() && b.isObject()) {
            var names = new java.util.TreeSet<String>();
            a.fieldNames().forEachRemaining(names::add);
            b.fieldNames().forEachRemaining(names::add);
            for (String n : names) {
                if (!a.has(n) || !b.has(n)) return path + "." + n + " (in one only)";
                String d = firstDifference(path + "." + n, a.get(n), b.get(n));
                if (!d.isEmpty()) return d;
            }
            return "";
        }
        if (a.isArray() && b.isArray() && a.size() == b.size()) {
            for (int i = 0; i < a.size(); i++) {
                String d = firstDifference(path + "[" + i + "]", a.get(i), b.get(i));
                if (!d.isEmpty()) return d;
            }
            return "";
        }
        return path + ": " + abbreviate(a) + " vs " + abbreviate(b);
    }

    static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() > 200 ? s.substring(0, 200) + "…" : s;
    }

    @Test
    void oneTextWithATargetAndBadOptions() throws IOException {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new String[] {"explain", "The cat sat on the mat.", "--target", "A kitten rests on a rug.", "--methods", "grad-input,ig",
                "--ig-steps", "8", "--faithfulness-seeds", "0", "--no-report", "--importance-sentences", "0"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("cosine similarity of the sentence embedding to the --target text's embedding"), out.toString());
        assertTrue(out.toString().contains("(8 steps)"), out.toString());
        // {the option the error must name, the arguments}
        for (String[] bad : new String[][] {{"--methods", "--methods", "lrp"}, {"--target", "--pair", "x", "--target", "y", "--methods", "ig"},
                {"--target", "--target", "y", "--methods", "none"}, {"--ig-steps", "--methods", "ig", "--ig-steps", "0"}}) {
            StringWriter o = new StringWriter(), e = new StringWriter();
            String[] args = new String[bad.length + 1];
            args[0] = "explain";
            args[1] = "Hello.";
            System.arraycopy(bad, 1, args, 2, bad.length - 1);
            int c = Main.execute(args, new PrintWriter(o, true), new PrintWriter(e, true));
            assertEquals(2, c, String.join(" ", args) + ": " + e);
            assertTrue(e.toString().contains(bad[0]), e.toString());
        }
    }
}
