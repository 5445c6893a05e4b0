package org.attn4j.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Many clients at once: batching keeps every answer equal to the offline result; overload gives 429s only; stops lose nothing. */
class ConcurrencyTest {
    static List<String> corpus;
    static Embedder offline;
    static HttpClient client;

    @BeforeAll
    static void setUp() throws Exception {
        corpus = LoadBench.corpus();
        offline = Embedder.load(Embedder.MINILM).withThreads(1);
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();
    }

    static ServeConfig config() {
        return ServeConfig.defaults().withPort(0).withThreads(2).withAccessLog(l -> {});
    }

    static double metric(URI uri, String name) throws Exception {
        String body = Http.get(uri, "/metrics").body();
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*\\})? (\\S+)$").matcher(body);
        if (!m.find()) throw new AssertionError(name + " not in /metrics");
        return Double.parseDouble(m.group(1));
    }

    @Test
    void concurrentRequestsAreBatchedAndEachEqualsOffline() throws Exception {
        List<List<String>> reqs = LoadBench.requests(corpus, 160, 1, 6, 7);
        Map<String, float[]> ref = LoadBench.reference(offline, reqs);
        try (EmbeddingServer s = EmbeddingServer.start(config()).awaitReady()) {
            LoadBench.Outcome out = LoadBench.drive(client, s.uri(), Embedder.MINILM, reqs, 32, ref, null);
            assertEquals(0, out.failures(), out.firstProblem());
            assertEquals(reqs.size(), out.ok());
            assertTrue(metric(s.uri(), "attn4j_batch_texts_max") > 6, "some encoder pass packed several requests");
        }
    }

    @Test
    void overfilledQueueGives429sOnlyAndStaysHealthy() throws Exception {
        List<List<String>> reqs = LoadBench.requests(corpus, 200, 8, 8, 11);
        Map<String, float[]> ref = LoadBench.reference(offline, reqs);
        try (EmbeddingServer s = EmbeddingServer.start(config().withMaxQueue(16)).awaitReady()) {
            LoadBench.Outcome out = LoadBench.drive(client, s.uri(), Embedder.MINILM, reqs, 48, ref, null);
            assertEquals(0, out.failures(), out.firstProblem() + " " + out.statuses());
            assertTrue(out.statuses().getOrDefault(429, 0) > 0, "the queue overflowed: " + out.statuses());
            var err = Http.OM.readTree(out.first429()).get("error");
            assertEquals("rate_limit_error", err.get("type").asText());
            assertEquals("queue_full", err.get("code").asText());
            assertTrue(err.get("param").isNull() && err.get("message").asText().contains("16"), out.first429());
            assertEquals(reqs.size(), out.statuses().values().stream().mapToInt(Integer::intValue).sum());
            assertEquals(200, Http.get(s.uri(), "/health").statusCode());
            LoadBench.Outcome after = LoadBench.drive(client, s.uri(), Embedder.MINILM, reqs.subList(0, 10), 1, ref, null);
            assertEquals(10, after.ok(), after.firstProblem());
            assertEquals(0.0, metric(s.uri(), "attn4j_queue_depth"));
        }
    }

    @Test
    void clientsThatHangUpDoNotPoisonTheirBatch() throws Exception {
        List<List<String>> reqs = LoadBench.requests(corpus, 80, 1, 4, 13);
        Map<String, float[]> ref = LoadBench.reference(offline, reqs);
        try (EmbeddingServer s = EmbeddingServer.start(config()).awaitReady()) {
            String body = "{\"input\":" + Http.OM.writeValueAsString(corpus.subList(0, 12)) + "}";
            byte[] raw = ("POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
            CompletableFuture<LoadBench.Outcome> load = CompletableFuture.supplyAsync(() -> {
                try {
                    return LoadBench.drive(client, s.uri(), Embedder.MINILM, reqs, 16, ref, null);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            for (int i = 0; i < 10 && !load.isDone(); i++) {
                try (Socket sock = new Socket(s.uri().getHost(), s.uri().getPort())) {
                    OutputStream os = sock.getOutputStream();
                    os.write(raw);
                    os.flush();
                    Thread.sleep(5); // the request is queued; the client goes away before its answer
                }
            }
            LoadBench.Outcome out = load.get();
            assertEquals(0, out.failures(), out.firstProblem());
            assertEquals(reqs.size(), out.ok());
            assertEquals(200, Http.get(s.uri(), "/health").statusCode());
        }
    }

    @Test
    void gracefulStopUnderLoadAnswersEveryAdmittedRequest() throws Exception {
        List<List<String>> reqs = LoadBench.requests(corpus, 1500, 1, 4, 17);
        Map<String, float[]> ref = LoadBench.reference(offline, reqs);
        List<String> log = new java.util.concurrent.CopyOnWriteArrayList<>();
        EmbeddingServer s = EmbeddingServer.start(config().withAccessLog(log::add)).awaitReady();
        CompletableFuture<LoadBench.Outcome> load = CompletableFuture.supplyAsync(() -> {
            try {
                return LoadBench.drive(client, s.uri(), Embedder.MINILM, reqs, 32, ref, null);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(1500);
        assertTrue(s.stop(Duration.ofSeconds(30)), "in-flight requests finished within the grace period");
        LoadBench.Outcome out = load.get();
        assertEquals(0, out.mismatched(), out.firstProblem());
        assertTrue(out.ok() > 0, "some requests were answered before the stop");
        assertTrue(out.ok() < reqs.size(), "the stop came while requests were still being sent");
        // Every request the server let in was answered 200 with the right vectors; the rest were refused (503) or never connected.
        assertEquals(s.admittedRequests(), out.ok(), "admitted vs answered; statuses " + out.statuses() + "; first problem: " + out.firstProblem()
                + "; server log: " + log.stream().filter(l -> !l.contains("status=200 ") || l.contains("client=gone")).limit(5).toList()
                + " 200s logged: " + log.stream().filter(l -> l.contains("status=200 ")).count());
        for (int status : out.statuses().keySet()) assertTrue(status == 200 || status == 503, "status " + status);
    }
}
