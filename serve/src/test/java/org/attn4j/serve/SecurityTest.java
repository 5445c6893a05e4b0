package org.attn4j.serve;

import static org.attn4j.serve.Http.assertError;
import static org.attn4j.serve.Http.get;
import static org.attn4j.serve.Http.post;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** API keys and CORS. */
class SecurityTest {
    static final String KEY = "sk-test-0123456789abcdef", OTHER = "second-key";
    static final List<String> LOG = new CopyOnWriteArrayList<>();
    static EmbeddingServer secured, open;

    @BeforeAll
    static void start() throws Exception {
        secured = EmbeddingServer.start(ServeConfig.defaults().withPort(0).withThreads(1).withApiKeys(List.of(KEY, OTHER))
                .withCorsOrigin("https://app.example").withAccessLog(LOG::add)).awaitReady();
        open = EmbeddingServer.start(ServeConfig.defaults().withPort(0).withThreads(1).withAccessLog(l -> {})).awaitReady();
    }

    @AfterAll
    static void stop() {
        if (secured != null) secured.stop();
        if (open != null) open.stop();
    }

    @Test
    void everyRouteButHealthNeedsABearerKey() throws Exception {
        URI u = secured.uri();
        assertEquals(200, get(u, "/health").statusCode());
        for (String path : List.of("/v1/models", "/metrics", "/explain?text=hi")) {
            HttpResponse<String> r = get(u, path);
            assertError(r, 401, null, "invalid_api_key");
            assertEquals("Bearer", r.headers().firstValue("WWW-Authenticate").orElse(""));
        }
        for (String path : List.of("/v1/embeddings", "/embed", "/tokenize", "/v1/similarity", "/v1/explain")) {
            assertError(post(u, path, "{\"input\":\"a\"}"), 401, null, "invalid_api_key");
            assertError(post(u, path, "{\"input\":\"a\"}", "Authorization", "Bearer " + KEY + "x"), 401, null, "invalid_api_key");
        }
        assertError(get(u, "/v1/models", "Authorization", KEY), 401, null, "invalid_api_key");
        assertEquals(200, get(u, "/v1/models", "Authorization", "Bearer " + KEY).statusCode());
        assertEquals(200, get(u, "/v1/models", "Authorization", "Bearer " + OTHER).statusCode());
        assertEquals(200, post(u, "/embed", "{\"inputs\":\"a\"}", "Authorization", "Bearer " + KEY).statusCode());
        for (String line : LOG) assertFalse(line.contains(KEY) || line.contains(OTHER), "a key in the access log: " + line);
        assertTrue(LOG.stream().anyMatch(l -> l.contains("status=401")));
    }

    @Test
    void corsOnlyForTheConfiguredOrigin() throws Exception {
        URI u = secured.uri();
        HttpResponse<String> r = get(u, "/v1/models", "Authorization", "Bearer " + KEY, "Origin", "https://app.example");
        assertEquals("https://app.example", r.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        HttpResponse<String> other = get(u, "/v1/models", "Authorization", "Bearer " + KEY, "Origin", "https://evil.example");
        assertTrue(other.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        // A preflight carries no key and must still pass.
        HttpResponse<String> pre = Http.CLIENT.send(HttpRequest.newBuilder(u.resolve("/v1/embeddings"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "POST").header("Access-Control-Request-Headers", "authorization, content-type").build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(204, pre.statusCode());
        assertEquals("https://app.example", pre.headers().firstValue("Access-Control-Allow-Origin").orElse(null));
        assertTrue(pre.headers().firstValue("Access-Control-Allow-Headers").orElse("").contains("Authorization"));
    }

    @Test
    void noCorsWithoutTheOption() throws Exception {
        HttpResponse<String> r = get(open.uri(), "/v1/models", "Origin", "https://app.example");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        HttpResponse<String> pre = Http.CLIENT.send(HttpRequest.newBuilder(open.uri().resolve("/v1/embeddings"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", "https://app.example")
                .header("Access-Control-Request-Method", "POST").build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(pre.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
        assertTrue(pre.statusCode() >= 400, "no preflight route: " + pre.statusCode());
    }
}
