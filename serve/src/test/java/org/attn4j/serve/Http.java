package org.attn4j.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A JDK HttpClient for the tests, with the assertions on OpenAI-style error bodies. */
final class Http {
    static final ObjectMapper OM = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    private Http() {}

    static HttpResponse<String> post(URI base, String path, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) b.headers(headers);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(URI base, String path, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60)).GET();
        if (headers.length > 0) b.headers(headers);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> r) throws IOException {
        return OM.readTree(r.body());
    }

    /** The response is {@code status} with {"error": {message, type, param, code}}, naming {@code param} (may be null). */
    static JsonNode assertError(HttpResponse<String> r, int status, String param, String code) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonNode e = json(r).get("error");
        assertTrue(e != null && e.isObject(), r.body());
        assertTrue(e.get("message").isTextual() && !e.get("message").asText().isBlank(), r.body());
        assertTrue(e.get("type").isTextual(), r.body());
        if (param == null) assertTrue(e.get("param").isNull(), r.body());
        else assertEquals(param, e.get("param").asText(), r.body());
        assertEquals(code, e.get("code").asText(), r.body());
        return e;
    }

    static float[] floats(JsonNode arr) {
        float[] f = new float[arr.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) arr.get(i).asDouble();
        return f;
    }

    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > tol) {
                throw new AssertionError(what + ": component " + i + " expected " + expected[i] + " got " + actual[i] + " (tolerance " + tol + ")");
            }
        }
    }
}
