package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExplainCommandTest {
    @TempDir Path dir;

    @Test
    void summaryAndBertvizJson() throws IOException {
        StringWriter out = new StringWriter(), err = new StringWriter();
        Path json = dir.resolve("attention.json");
        int code = Main.execute(new String[] {"explain", "Dogs chase cats. Cats chase mice.", "--json", json.toString(), "--no-report",
                "--methods", "none"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        assertTrue(out.toString().contains("tokens: [CLS] dogs chase cats . cats chase mice . [SEP]"), out.toString());
        assertTrue(out.toString().contains("strongest heads by type"), out.toString());
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        JsonNode attn = root.get("attention").get(0).get("attn");
        assertEquals(6, attn.size());
        assertEquals(12, attn.get(0).size());
        int n = root.get("attention").get(0).get("left_text").size();
        assertEquals(10, n);
        assertEquals(n, attn.get(0).get(0).size());
        double sum = 0;
        for (JsonNode p : attn.get(3).get(7).get(2)) sum += p.asDouble();
        assertEquals(1.0, sum, 1e-6);
        assertEquals("0", root.get("default_filter").asText());
        assertEquals(7, root.get("attn4j").get("rank_collapse").size());
        // The analyses the HTML report draws are in the file too (their values: JsonReportTest in explain).
        JsonNode a = root.get("attn4j");
        assertEquals(n, a.get("rollout").get("matrix").size());
        assertEquals(n, a.get("rollout").get("matrix").get(0).size());
        assertEquals(n, a.get("rollout").get("cls_row").size());
        assertEquals(n, a.get("flow").get("matrix").get(n - 1).size());
        assertEquals(n, a.get("flow").get("cls_row").size());
        assertEquals(8, a.get("importance").get("sentences").asInt(), "the default --importance-sentences");
        assertEquals(6, a.get("importance").get("raw").size());
        assertEquals(12, a.get("importance").get("normalised").get(5).size());
    }

    @Test
    void pairsAddTheFourSentenceViewsAndPngsAreWritten() throws IOException {
        StringWriter out = new StringWriter(), err = new StringWriter();
        Path json = dir.resolve("pair.json"), png = dir.resolve("png");
        int code = Main.execute(new String[] {"explain", "Where is the cat?", "--pair", "On the mat.", "--json", json.toString(),
                "--png", png.toString(), "--no-report", "--methods", "none"}, new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        JsonNode att = new ObjectMapper().readTree(json.toFile()).get("attention");
        assertEquals(5, att.size());
        assertEquals("All", att.get(0).get("name").asText());
        // [CLS] where is the cat ? [SEP] | on the mat . [SEP]
        JsonNode ab = att.get(3);
        assertEquals("Sentence A -> Sentence B", ab.get("name").asText());
        assertEquals(7, ab.get("left_text").size());
        assertEquals(5, ab.get("right_text").size());
        assertEquals("on", ab.get("right_text").get(0).asText());
        assertEquals(att.get(0).get("attn").get(1).get(2).get(3).get(8).asDouble(), ab.get("attn").get(1).get(2).get(3).get(1).asDouble());
        assertTrue(java.nio.file.Files.size(png.resolve("grid.png")) > 1000);
        assertTrue(java.nio.file.Files.exists(png.resolve("layer5_head11.png")));
    }
}
