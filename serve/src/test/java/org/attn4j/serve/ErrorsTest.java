package org.attn4j.serve;

import static org.attn4j.serve.Http.assertError;
import static org.attn4j.serve.Http.get;
import static org.attn4j.serve.Http.json;
import static org.attn4j.serve.Http.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.concurrent.CountDownLatch;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every refusal: its status and its OpenAI-style body naming the field. */
class ErrorsTest {
    static EmbeddingServer server;
    static URI uri;

    @BeforeAll
    static void start() throws Exception {
        server = EmbeddingServer.start(ServeConfig.defaults().withPort(0).withThreads(1).withMaxInputTokens(32).withMaxInputs(4)
                .withMaxBodyBytes(4096).withAccessLog(l -> {})).awaitReady();
        uri = server.uri();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.stop();
    }

    @Test
    void malformedOrNonObjectBodies() throws Exception {
        assertError(post(uri, "/v1/embeddings", "{\"input\": [\"a\""), 400, null, "invalid_json");
        assertError(post(uri, "/v1/embeddings", ""), 400, null, "invalid_json");
        assertError(post(uri, "/embed", "[\"a\"]"), 400, null, "invalid_json");
        assertError(post(uri, "/tokenize", "42"), 400, null, "invalid_json");
    }

    @Test
    void wrongTypesNameTheField() throws Exception {
        assertError(post(uri, "/v1/embeddings", "{\"input\": 5}"), 400, "input", "invalid_type");
        assertError(post(uri, "/v1/embeddings", "{\"input\": [\"a\", 3]}"), 400, "input[1]", "invalid_type");
        assertError(post(uri, "/v1/embeddings", "{\"input\": [true]}"), 400, "input[0]", "invalid_type");
        assertError(post(uri, "/v1/embeddings", "{\"input\": \"a\", \"model\": 7}"), 400, "model", "invalid_type");
        assertError(post(uri, "/v1/embeddings", "{\"input\": \"a\", \"encoding_format\": \"int8\"}"), 400, "encoding_format", "invalid_value");
        assertError(post(uri, "/v1/embeddings", "{\"input\": \"a\", \"dimensions\": \"64\"}"), 400, "dimensions", "invalid_type");
        assertError(post(uri, "/v1/embeddings", "{\"input\": \"a\", \"dimensions\": 385}"), 400, "dimensions", "invalid_value");
        assertError(post(uri, "/v1/embeddings", "{\"input\": \"a\", \"dimensions\": 0}"), 400, "dimensions", "invalid_value");
        assertError(post(uri, "/v1/embeddings", "{\"input\": [1, 999999]}"), 400, "input[1]", "invalid_value");
        assertError(post(uri, "/embed", "{\"inputs\": \"a\", \"normalize\": \"yes\"}"), 400, "normalize", "invalid_type");
        assertError(post(uri, "/embed", "{\"inputs\": {\"a\": 1}}"), 400, "inputs", "invalid_type");
        assertError(post(uri, "/v1/similarity", "{\"source_sentence\": \"a\", \"sentences\": \"b\"}"), 400, "sentences", "invalid_type");
        assertError(post(uri, "/v1/similarity", "{\"source_sentence\": 1, \"sentences\": [\"b\"]}"), 400, "source_sentence", "invalid_type");
        assertError(post(uri, "/v1/explain", "{\"text\": [\"a\"]}"), 400, "text", "invalid_type");
        assertError(post(uri, "/v1/explain", "{\"text\": \"a\", \"importance_sentences\": -1}"), 400, "importance_sentences", "invalid_value");
        assertError(post(uri, "/v1/explain", "{\"text\": \"a\", \"methods\": \"lrp\"}"), 400, "methods", "invalid_value");
        assertError(post(uri, "/v1/explain", "{\"text\": \"a\", \"methods\": [\"ig\"]}"), 400, "methods", "invalid_type");
        assertError(get(uri, "/explain?text=a&methods=lrp"), 400, "methods", "invalid_value");
    }

    @Test
    void missingOrEmptyInput() throws Exception {
        assertError(post(uri, "/v1/embeddings", "{}"), 400, "input", "missing_field");
        assertError(post(uri, "/v1/embeddings", "{\"input\": \"\"}"), 400, "input", "empty_input");
        assertError(post(uri, "/v1/embeddings", "{\"input\": []}"), 400, "input", "empty_input");
        assertError(post(uri, "/v1/embeddings", "{\"input\": [\"a\", \"\"]}"), 400, "input[1]", "empty_input");
        assertError(post(uri, "/v1/embeddings", "{\"input\": [[]]}"), 400, "input[0]", "empty_input");
        assertError(post(uri, "/embed", "{\"inputs\": []}"), 400, "inputs", "empty_input");
        assertError(post(uri, "/v1/similarity", "{\"source_sentence\": \"a\", \"sentences\": []}"), 400, "sentences", "empty_input");
        assertError(post(uri, "/v1/explain", "{\"text\": \"\"}"), 400, "text", "empty_input");
        assertError(get(uri, "/explain"), 400, "text", "missing_field");
    }

    @Test
    void unknownModelIsNeverAPath() throws Exception {
        assertError(post(uri, "/v1/embeddings", "{\"input\": \"a\", \"model\": \"text-embedding-3-small\"}"), 400, "model", "model_not_found");
        assertError(post(uri, "/embed", "{\"inputs\": \"a\", \"model\": \"/etc/passwd\"}"), 400, "model", "model_not_found");
    }

    @Test
    void tooManyInputs() throws Exception {
        assertError(post(uri, "/v1/embeddings", "{\"input\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}"), 400, "input", "too_many_inputs");
        assertError(post(uri, "/embed", "{\"inputs\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}"), 400, "inputs", "too_many_inputs");
    }

    @Test
    void overLongInputIsRefusedUnlessTruncateAllowsIt() throws Exception {
        String longText = "word ".repeat(60).trim();
        assertError(post(uri, "/v1/embeddings", "{\"input\": \"" + longText + "\"}"), 400, "input", "input_too_long");
        assertError(post(uri, "/embed", "{\"inputs\": [\"short\", \"" + longText + "\"]}"), 400, "inputs[1]", "input_too_long");
        assertError(post(uri, "/v1/explain", "{\"text\": \"" + longText + "\"}"), 400, "text", "input_too_long");
        HttpResponse<String> ok = post(uri, "/embed", "{\"inputs\": \"" + longText + "\", \"truncate\": true}");
        assertEquals(200, ok.statusCode(), ok.body());
        // Truncated to the first 32 tokens: the offline embedder with the same limit.
        float[] want = Embedder.load(Embedder.MINILM).withMaxTokens(32).embed(java.util.List.of(longText))[0];
        Http.assertClose(want, Http.floats(json(ok).get(0)), 1e-5, "truncated");
        HttpResponse<String> ok2 = post(uri, "/v1/embeddings", "{\"input\": \"" + longText + "\", \"truncate\": true}");
        assertEquals(32, json(ok2).get("usage").get("prompt_tokens").asInt());
    }

    @Test
    void bodyOverTheLimitIs413() throws Exception {
        String big = "{\"input\": \"" + "x".repeat(5000) + "\"}";
        assertError(post(uri, "/v1/embeddings", big), 413, null, "body_too_large");
    }

    @Test
    void unknownRouteIs404Json() throws Exception {
        assertError(get(uri, "/v2/nothing"), 404, null, "not_found");
    }

    @Test
    void healthIs503UntilModelsAreLoaded() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        EmbeddingServer s = EmbeddingServer.start(ServeConfig.defaults().withPort(0).withAccessLog(l -> {}), name -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new java.io.InterruptedIOException();
            }
            return Embedder.load(name);
        });
        try {
            HttpResponse<String> h = get(s.uri(), "/health");
            assertEquals(503, h.statusCode());
            assertEquals("loading", json(h).get("status").asText());
            assertError(post(s.uri(), "/v1/embeddings", "{\"input\": \"a\"}"), 503, null, "loading");
            release.countDown();
            s.awaitReady();
            assertEquals(200, get(s.uri(), "/health").statusCode());
        } finally {
            release.countDown();
            s.stop();
        }
    }

    @Test
    void optionsAreCheckedWithTheirNames() {
        var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ServeConfig.defaults().withMaxBatchTokens(100).validate());
        assertTrue(e.getMessage().startsWith("--max-batch-tokens"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ServeConfig.defaults().withPort(70000).validate());
        assertTrue(e.getMessage().startsWith("--port"), e.getMessage());
    }
}
