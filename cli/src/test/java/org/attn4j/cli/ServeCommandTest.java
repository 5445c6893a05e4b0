package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.attn4j.serve.EmbeddingServer;
import org.attn4j.serve.ServeConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** attn4j serve as a process (keys, SIGTERM, exit 0), explain JSON equal to attn4j explain --json, bench serve, option errors. */
class ServeCommandTest {
    static final ObjectMapper OM = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    @TempDir Path dir;

    static HttpResponse<String> post(URI u, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(u.resolve(path)).timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) b.headers(headers);
        return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aServeProcessNeedsItsKeyAndDrainsThenExitsZeroOnSigterm() throws Exception {
        String key = "serve-test-key-" + System.nanoTime();
        Path keys = Files.writeString(dir.resolve("keys.txt"), "# our keys\n\n" + key + "\n");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "org.attn4j.cli.Main", "serve", "--port", "0", "--threads", "1", "--api-key-file", keys.toString()).redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<URI> ready = new CompletableFuture<>();
        int answeredInFlight = -1;
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                Pattern at = Pattern.compile("attn4j: ready on (http://\\S+):");
                for (String l; (l = r.readLine()) != null; ) {
                    lines.add(l);
                    Matcher m = at.matcher(l);
                    if (m.find()) ready.complete(URI.create(m.group(1)));
                }
            } catch (Exception e) {
                ready.completeExceptionally(e);
            }
            ready.completeExceptionally(new AssertionError("the server ended before it was ready"));
        });
        try {
            URI u = ready.get(120, TimeUnit.SECONDS);
            assertEquals(401, post(u, "/embed", "{\"inputs\":\"hi\"}").statusCode());
            assertEquals(200, post(u, "/embed", "{\"inputs\":\"hi\"}", "Authorization", "Bearer " + key).statusCode());
            // Requests in flight when SIGTERM arrives are still answered.
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            String body = "{\"inputs\":" + OM.writeValueAsString(Collections.nCopies(64, "a sentence to keep the encoder busy for a while")) + "}";
            for (int i = 0; i < 6; i++) {
                inFlight.add(CLIENT.sendAsync(HttpRequest.newBuilder(u.resolve("/embed")).header("Authorization", "Bearer " + key)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString()));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            // The 401 and the 200 above are logged; wait for the first of the six to be answered, then stop.
            while (lines.stream().filter(l -> l.contains("route=/embed ")).count() < 3) {
                if (System.nanoTime() > deadline) break;
                Thread.sleep(10);
            }
            p.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the server did not stop");
            assertEquals(0, p.exitValue(), String.join("\n", lines));
            int answered = 0;
            for (var f : inFlight) {
                HttpResponse<String> r = f.get(10, TimeUnit.SECONDS);
                if (r.statusCode() == 503) { // arrived after SIGTERM: refused, never admitted
                    assertEquals("shutting_down", OM.readTree(r.body()).get("error").get("code").asText());
                    continue;
                }
                assertEquals(200, r.statusCode(), r.body());
                assertEquals(64, OM.readTree(r.body()).size());
                answered++;
            }
            assertTrue(answered >= 1, "at least the request answered before SIGTERM");
            answeredInFlight = answered;
        } finally {
            if (p.isAlive()) p.destroyForcibly();
            reader.join(10_000);
        }
        assertTrue(lines.stream().anyMatch(l -> l.contains("attn4j: stopped")), String.join("\n", lines));
        // Every request the server finished with 200 reached its client: the log's 200s are the key'd one plus the in-flight ones.
        assertEquals(answeredInFlight + 1, lines.stream().filter(l -> l.contains("route=/embed status=200 ")).count(), String.join("\n", lines));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("attn4j.access ") && l.contains("status=401")), String.join("\n", lines));
        assertFalse(lines.stream().anyMatch(l -> l.contains(key)), "the key reached the log");
    }

    @Test
    void postV1ExplainReturnsWhatExplainJsonWrites() throws Exception {
        String text = "The dog chased the ball.";
        Path json = dir.resolve("explain.json");
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = Main.execute(new String[] {"explain", text, "--json", json.toString(), "--no-report", "--importance-sentences", "3"},
                new PrintWriter(out, true), new PrintWriter(err, true));
        assertEquals(0, code, err.toString());
        try (EmbeddingServer s = EmbeddingServer.start(ServeConfig.defaults().withPort(0).withAccessLog(l -> {})).awaitReady()) {
            HttpResponse<String> r = post(s.uri(), "/v1/explain", "{\"text\":" + OM.writeValueAsString(text) + ",\"importance_sentences\":3}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode want = OM.readTree(json.toFile()), got = OM.readTree(r.body());
            assertNotNull(want.get("attn4j").get("importance"));
            assertTrue(want.get("attn4j").get("gradient").get("scores").has("gim"), "the default methods ran");
            // the same document but for the timings, and the rounding of the backward's multi-threaded sums
            for (JsonNode d : java.util.List.of(want, got)) ((com.fasterxml.jackson.databind.node.ObjectNode) d.get("attn4j").get("gradient")).remove("millis");
            assertEquals("", ExplainGradientTest.firstDifference("", want, got));
        }
    }

    @Test
    void benchServeRunsAndChecksEveryAnswer() {
        CliTest.Run r = CliTest.run("bench", "serve", "--concurrency", "8", "--requests", "40", "--texts-per-request", "1..3", "--threads", "1",
                "--rounds", "1", "--warmup", "8");
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("server text/s") && r.out().contains("offline text/s") && r.out().contains("p99 ms"), r.out());
        Matcher m = Pattern.compile("(?m)^\\s+1\\s+(\\d+)\\s+\\S+\\s+\\S+\\s+\\S+x\\s+\\S+\\s+\\S+\\s+\\S+\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+\\S+\\s+\\S+%\\s*$").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertEquals("0", m.group(2), "failures");
        assertEquals("0", m.group(3), "lost");
    }

    @Test
    void badOptionsNameTheOption() throws Exception {
        CliTest.Run r = CliTest.run("serve", "--api-key-file", dir.resolve("missing.txt").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--api-key-file"), r.err());
        Files.writeString(dir.resolve("empty.txt"), "# nothing\n");
        r = CliTest.run("serve", "--api-key-file", dir.resolve("empty.txt").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--api-key-file: expected at least one key"), r.err());
        r = CliTest.run("serve", "--max-batch-tokens", "100");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--max-batch-tokens"), r.err());
        r = CliTest.run("bench", "serve", "--texts-per-request", "3..x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--texts-per-request"), r.err());
    }
}
