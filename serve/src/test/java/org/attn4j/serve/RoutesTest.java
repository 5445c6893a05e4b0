package org.attn4j.serve;

import static org.attn4j.serve.Http.assertClose;
import static org.attn4j.serve.Http.floats;
import static org.attn4j.serve.Http.get;
import static org.attn4j.serve.Http.json;
import static org.attn4j.serve.Http.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.attn4j.explain.report.Explanation;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.embed.Embedder;
import org.attn4j.models.tokenizer.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every route against the offline Embedder / tokenizer / explain module, over real sockets on 127.0.0.1. */
class RoutesTest {
    static final List<String> TEXTS = List.of("A cat sits on the mat.", "A feline is sitting on a rug.", "Stock markets fell sharply today.",
            "The quick brown fox jumps over the lazy dog, again and again, because it can.");
    static final List<String> LOG = new CopyOnWriteArrayList<>();
    static EmbeddingServer server;
    static URI uri;
    static Embedder offline;

    @BeforeAll
    static void start() throws Exception {
        server = EmbeddingServer.start(ServeConfig.defaults().withPort(0).withThreads(2).withAccessLog(LOG::add)).awaitReady();
        uri = server.uri();
        offline = Embedder.load(Embedder.MINILM).withThreads(1);
    }

    @AfterAll
    static void stop() {
        if (server != null) server.stop();
    }

    static String arr(List<String> texts) throws Exception {
        return Http.OM.writeValueAsString(texts);
    }

    @Test
    void openAiEmbeddingsEqualOfflineInOrder() throws Exception {
        HttpResponse<String> r = post(uri, "/v1/embeddings", "{\"model\":\"all-minilm-l6-v2\",\"input\":" + arr(TEXTS) + "}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode o = json(r);
        float[][] want = offline.embed(TEXTS);
        assertEquals("list", o.get("object").asText());
        assertEquals("all-minilm-l6-v2", o.get("model").asText());
        assertEquals(TEXTS.size(), o.get("data").size());
        int tokens = 0;
        for (String t : TEXTS) tokens += offline.tokenizer().encode(t, 512).length();
        assertEquals(tokens, o.get("usage").get("prompt_tokens").asInt());
        for (int i = 0; i < TEXTS.size(); i++) {
            JsonNode d = o.get("data").get(i);
            assertEquals(i, d.get("index").asInt());
            assertClose(want[i], floats(d.get("embedding")), 1e-5, "text " + i);
        }
    }

    @Test
    void base64IsLittleEndianFloat32AndTokenIdsEqualText() throws Exception {
        float[] want = offline.embed(List.of(TEXTS.get(0)))[0];
        JsonNode o = json(post(uri, "/v1/embeddings", "{\"input\":\"" + TEXTS.get(0) + "\",\"encoding_format\":\"base64\"}"));
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(o.get("data").get(0).get("embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] got = new float[b.remaining() / 4];
        for (int i = 0; i < got.length; i++) got[i] = b.getFloat();
        assertClose(want, got, 1e-5, "base64");

        int[] ids = offline.tokenizer().encode(TEXTS.get(0), 512).ids();
        JsonNode one = json(post(uri, "/v1/embeddings", "{\"input\":" + Http.OM.writeValueAsString(ids) + "}"));
        assertClose(want, floats(one.get("data").get(0).get("embedding")), 1e-5, "token ids");
        JsonNode many = json(post(uri, "/v1/embeddings", "{\"input\":[" + Http.OM.writeValueAsString(ids) + "," + Http.OM.writeValueAsString(ids) + "]}"));
        assertEquals(2, many.get("data").size());
        assertClose(want, floats(many.get("data").get(1).get("embedding")), 1e-5, "token-id arrays");
    }

    @Test
    void dimensionsTruncateThenRenormalise() throws Exception {
        float[] full = offline.embed(List.of(TEXTS.get(1)))[0];
        JsonNode o = json(post(uri, "/v1/embeddings", "{\"input\":\"" + TEXTS.get(1) + "\",\"dimensions\":64}"));
        float[] got = floats(o.get("data").get(0).get("embedding"));
        assertEquals(64, got.length);
        double norm = 0;
        for (int i = 0; i < 64; i++) norm += (double) full[i] * full[i];
        for (int i = 0; i < 64; i++) assertEquals(full[i] / Math.sqrt(norm), got[i], 1e-5, "component " + i);
    }

    @Test
    void teiEmbedNormalisedAndRaw() throws Exception {
        JsonNode o = json(post(uri, "/embed", "{\"inputs\":" + arr(TEXTS.subList(0, 2)) + "}"));
        float[][] want = offline.embed(TEXTS.subList(0, 2));
        assertEquals(2, o.size());
        for (int i = 0; i < 2; i++) assertClose(want[i], floats(o.get(i)), 1e-5, "normalised " + i);

        // normalize=false: the mean of the last hidden state's token vectors, computed here from the offline pass.
        Embedder.Result res = offline.run(List.of(TEXTS.get(2)));
        BertEncoder.Output h = res.hidden();
        float[] mean = new float[h.hiddenSize()];
        for (int t = 0; t < h.length(0); t++) {
            float[] v = h.token(0, t);
            for (int c = 0; c < mean.length; c++) mean[c] += v[c] / h.length(0);
        }
        JsonNode raw = json(post(uri, "/embed", "{\"inputs\":\"" + TEXTS.get(2) + "\",\"normalize\":false}"));
        assertClose(mean, floats(raw.get(0)), 1e-4, "raw mean");
    }

    @Test
    void teiTokenizeMatchesTheTokenizer() throws Exception {
        Encoding e = offline.tokenizer().encode(TEXTS.get(3), 512);
        JsonNode o = json(post(uri, "/tokenize", "{\"inputs\":\"" + TEXTS.get(3) + "\"}"));
        JsonNode row = o.get(0);
        assertEquals(e.length(), row.size());
        for (int i = 0; i < e.length(); i++) {
            assertEquals(e.ids()[i], row.get(i).get("id").asInt());
            assertEquals(e.tokens()[i], row.get(i).get("text").asText());
            assertEquals(i == 0 || i == e.length() - 1, row.get(i).get("special").asBoolean(), "special at " + i);
        }
        JsonNode plain = json(post(uri, "/tokenize", "{\"inputs\":[\"" + TEXTS.get(3) + "\"],\"add_special_tokens\":false}")).get(0);
        assertEquals(e.length() - 2, plain.size());
        assertEquals(e.ids()[1], plain.get(0).get("id").asInt());
    }

    @Test
    void similarityIsTheCosineOfOfflineEmbeddings() throws Exception {
        float[][] e = offline.embed(TEXTS);
        JsonNode o = json(post(uri, "/v1/similarity", "{\"source_sentence\":\"" + TEXTS.get(0) + "\",\"sentences\":" + arr(TEXTS.subList(1, 4)) + "}"));
        assertEquals(3, o.get("scores").size());
        for (int j = 1; j < 4; j++) {
            double c = 0;
            for (int k = 0; k < e[0].length; k++) c += (double) e[0][k] * e[j][k];
            assertEquals(c, o.get("scores").get(j - 1).asDouble(), 1e-5);
        }
        assertTrue(o.get("scores").get(0).asDouble() > o.get("scores").get(1).asDouble(), "the paraphrase scores above the unrelated sentence");
        JsonNode tei = json(post(uri, "/v1/similarity", "{\"inputs\":{\"source_sentence\":\"" + TEXTS.get(0) + "\",\"sentences\":" + arr(TEXTS.subList(1, 2)) + "}}"));
        assertEquals(o.get("scores").get(0).asDouble(), tei.get("scores").get(0).asDouble(), 1e-6);
    }

    @Test
    void explainJsonIsTheExplainModulesDocumentAndHtmlIsTheReport() throws Exception {
        String text = "The cat sat on the mat.";
        JsonNode got = json(post(uri, "/v1/explain", "{\"text\":\"" + text + "\",\"importance_sentences\":2}"));
        JsonNode want = Http.OM.readTree(Http.OM.writeValueAsString(Explanation.of(offline, text, null, 2, Explanation.GradientOptions.defaults()).json()));
        // the default methods ran on both sides; only their timings and the rounding of their sums may differ
        assertTrue(got.get("attn4j").get("gradient").get("scores").has("relevance"), "the CLI's default methods ran");
        for (JsonNode d : List.of(got, want)) ((com.fasterxml.jackson.databind.node.ObjectNode) d.get("attn4j").get("gradient")).remove("millis");
        assertEquals("", firstDifference("", want, got));
        HttpResponse<String> html = get(uri, "/explain?importance_sentences=0&text=" + URLEncoder.encode(text, StandardCharsets.UTF_8));
        assertEquals(200, html.statusCode());
        assertTrue(html.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(html.body().contains("<html") && html.body().contains("mat"), "an HTML report mentioning the text");
    }

    /**
     * The path of the first difference between two JSON trees, or "" when they agree: numbers within 1e-6 relative,
     * since the backward's multi-threaded sums may round differently from one run to the next (seen: 2e-10 on a relevance score).
     */
    static String firstDifference(String path, JsonNode a, JsonNode b) {
        if (a.equals(b)) return "";
        if (a.isNumber() && b.isNumber() && Math.abs(a.asDouble() - b.asDouble()) <= 1e-6 * Math.max(1, Math.abs(a.asDouble()))) return "";
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
        String sa = a.toString(), sb = b.toString();
        return path + ": " + (sa.length() > 200 ? sa.substring(0, 200) : sa) + " vs " + (sb.length() > 200 ? sb.substring(0, 200) : sb);
    }

    @Test
    void modelsHealthAndMetrics() throws Exception {
        JsonNode models = json(get(uri, "/v1/models"));
        assertEquals("list", models.get("object").asText());
        assertEquals("all-minilm-l6-v2", models.get("data").get(0).get("id").asText());
        assertEquals(384, models.get("data").get(0).get("dimensions").asInt());
        HttpResponse<String> health = get(uri, "/health");
        assertEquals(200, health.statusCode());
        assertEquals("ok", json(health).get("status").asText());

        post(uri, "/v1/embeddings", "{\"input\":\"metrics please\"}");
        post(uri, "/v1/embeddings", "{\"input\":[]}");
        String m = get(uri, "/metrics").body();
        for (String want : List.of("attn4j_http_requests_seconds_count{method=\"POST\",route=\"/v1/embeddings\",status=\"200\"}",
                "attn4j_http_requests_seconds_count{method=\"POST\",route=\"/v1/embeddings\",status=\"400\"}",
                "attn4j_http_requests_seconds_bucket{", "attn4j_queue_depth{model=\"all-minilm-l6-v2\"}",
                "attn4j_batch_texts_count{model=\"all-minilm-l6-v2\"}", "attn4j_batch_tokens_bucket{",
                "attn4j_encoded_tokens_total{model=\"all-minilm-l6-v2\"}", "attn4j_encoder_tokens_per_second{model=\"all-minilm-l6-v2\"}")) {
            assertTrue(m.contains(want), "metrics hold " + want);
        }
    }

    @Test
    void accessLogIsOneStructuredLinePerRequest() throws Exception {
        LOG.clear();
        post(uri, "/v1/embeddings", "{\"input\":[\"one\",\"two\"]}");
        // The server writes the access line after the response has gone out: wait for it (at most 5 s).
        String line = null;
        for (long end = System.nanoTime() + 5_000_000_000L; line == null && System.nanoTime() < end; ) {
            line = new ArrayList<>(LOG).stream().filter(l -> l.contains("route=/v1/embeddings")).findFirst().orElse(null);
            if (line == null) Thread.sleep(10);
        }
        assertNotNull(line, "no access-log line for the request within 5 s");
        assertFalse(line.contains("\n"));
        for (String f : List.of("status=200", "inputs=2", "tokens=6", "model=all-minilm-l6-v2", "ms=")) assertTrue(line.contains(f), line + " has " + f);
    }
}
