package org.attn4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.attn4j.explain.importance.Paraphrases;
import org.attn4j.models.embed.Embedder;

/**
 * The service's load test ({@code attn4j bench serve}): a closed-loop client of our own on the JDK
 * {@link HttpClient} keeps {@code concurrency} requests in flight against an in-process server on
 * 127.0.0.1, checks every answer against the offline {@link Embedder}'s vectors for the same texts,
 * and compares throughput with the offline embedder on the same texts and threads, interleaved
 * round by round so that both see the same (noisy, shared) machine.
 */
public final class LoadBench {
    /** Largest difference allowed between a served component and the offline one (batches differ in composition). */
    public static final double TOLERANCE = 1e-5;

    private static final ObjectMapper OM = new ObjectMapper();

    private LoadBench() {}

    /**
     * @param texts       per request, {@code minTexts..maxTexts} texts (uniformly drawn)
     * @param rounds      interleaved offline/server rounds the measured requests are split into
     * @param warmup      requests sent (and offline texts embedded) before measuring
     */
    public record Options(String model, int concurrency, int requests, int minTexts, int maxTexts, int threads, int rounds, int warmup,
                          int maxBatchTokens, long seed) {
        public Options {
            if (concurrency < 1) throw new IllegalArgumentException("--concurrency: expected >= 1, got " + concurrency);
            if (requests < 1) throw new IllegalArgumentException("--requests: expected >= 1, got " + requests);
            if (minTexts < 1 || maxTexts < minTexts || maxTexts > 2048) {
                throw new IllegalArgumentException("--texts-per-request: expected N or A..B with 1 <= A <= B <= 2048, got " + minTexts + ".." + maxTexts);
            }
            if (threads < 0) throw new IllegalArgumentException("--threads: expected >= 1 (or 0 for all cores), got " + threads);
            if (rounds < 1) throw new IllegalArgumentException("--rounds: expected >= 1, got " + rounds);
            if (warmup < 0) throw new IllegalArgumentException("--warmup: expected >= 0, got " + warmup);
        }
    }

    /** What one {@link #drive} saw. Latencies are of the 200 answers, in nanoseconds. */
    public record Outcome(Map<Integer, Integer> statuses, int ok, int mismatched, int lost, int missingRetryAfter, long texts,
                          long[] latencies, double seconds, String firstProblem, String first429) {
        /** Answers that were neither a correct 200 nor a 429 with Retry-After, plus requests without an answer. */
        public int failures() {
            int bad = mismatched + lost + missingRetryAfter;
            for (var e : statuses.entrySet()) if (e.getKey() != 200 && e.getKey() != 429) bad += e.getValue();
            return bad;
        }
    }

    /** The bench's result for one thread count. */
    public record Report(int threads, long texts, double serverTextsPerSecond, double offlineTextsPerSecond, double p50Ms, double p95Ms,
                         double p99Ms, int requests, int failures, int lost, int rejected, String firstProblem, double textsPerPass,
                         double encoderBusy) {
        public double ratio() { return serverTextsPerSecond / offlineTextsPerSecond; }
    }

    /** The shipped paraphrase sentences (both sides): short everyday English, 8 to 25 tokens. */
    public static List<String> corpus() {
        List<String> out = new ArrayList<>();
        for (Paraphrases.Pair p : Paraphrases.load()) {
            out.add(p.sentence());
            out.add(p.paraphrase());
        }
        return out;
    }

    /** {@code n} requests of {@code min..max} texts drawn from {@code corpus}, reproducibly from {@code seed}. */
    public static List<List<String>> requests(List<String> corpus, int n, int min, int max, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<List<String>> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = min + r.nextInt(max - min + 1);
            List<String> texts = new ArrayList<>(k);
            for (int j = 0; j < k; j++) texts.add(corpus.get(r.nextInt(corpus.size())));
            out.add(texts);
        }
        return out;
    }

    /** The offline embedder's vector for every distinct text. */
    public static Map<String, float[]> reference(Embedder offline, List<List<String>> requests) {
        List<String> distinct = new ArrayList<>(new LinkedHashSet<>(requests.stream().flatMap(List::stream).toList()));
        float[][] e = offline.embed(distinct);
        Map<String, float[]> ref = new HashMap<>();
        for (int i = 0; i < e.length; i++) ref.put(distinct.get(i), e[i]);
        return ref;
    }

    /**
     * Sends every request ({@code POST /v1/embeddings}, base64 float32) with {@code concurrency} in flight and checks
     * each 200 against {@code reference}; a 429 must carry Retry-After.
     *
     * @param apiKey the bearer key, or null
     */
    public static Outcome drive(HttpClient client, URI base, String model, List<List<String>> requests, int concurrency,
                                Map<String, float[]> reference, String apiKey) throws InterruptedException {
        Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger(), ok = new AtomicInteger(), mismatched = new AtomicInteger(), lost = new AtomicInteger(),
                noRetryAfter = new AtomicInteger();
        LongAdder texts = new LongAdder();
        long[] lat = new long[requests.size()];
        Arrays.fill(lat, -1);
        AtomicReference<String> first = new AtomicReference<>(), first429 = new AtomicReference<>();
        URI uri = base.resolve("/v1/embeddings");
        List<Thread> workers = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int w = 0; w < concurrency; w++) {
            workers.add(Thread.ofVirtual().start(() -> {
                for (int i = next.getAndIncrement(); i < requests.size(); i = next.getAndIncrement()) {
                    List<String> in = requests.get(i);
                    try {
                        String body = "{\"model\":" + OM.writeValueAsString(model) + ",\"encoding_format\":\"base64\",\"input\":" + OM.writeValueAsString(in) + "}";
                        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120)).header("Content-Type", "application/json")
                                .POST(HttpRequest.BodyPublishers.ofString(body));
                        if (apiKey != null) b.header("Authorization", "Bearer " + apiKey);
                        long s = System.nanoTime();
                        HttpResponse<byte[]> r = client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
                        long ns = System.nanoTime() - s;
                        statuses.merge(r.statusCode(), 1, Integer::sum);
                        if (r.statusCode() == 200) {
                            String problem = check(r.body(), in, reference);
                            if (problem == null) {
                                ok.incrementAndGet();
                                texts.add(in.size());
                                lat[i] = ns;
                            } else {
                                mismatched.incrementAndGet();
                                first.compareAndSet(null, "request " + i + ": " + problem);
                            }
                        } else if (r.statusCode() == 429) {
                            if (r.headers().firstValue("Retry-After").isEmpty()) noRetryAfter.incrementAndGet();
                            first429.compareAndSet(null, new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
                        } else {
                            first.compareAndSet(null, "request " + i + ": HTTP " + r.statusCode() + " " + new String(r.body(), java.nio.charset.StandardCharsets.UTF_8));
                        }
                    } catch (IOException e) {
                        lost.incrementAndGet();
                        first.compareAndSet(null, "request " + i + ": no answer (" + e + ")");
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }));
        }
        for (Thread t : workers) t.join();
        double seconds = (System.nanoTime() - t0) / 1e9;
        long[] good = Arrays.stream(lat).filter(v -> v >= 0).toArray();
        return new Outcome(new TreeMap<>(statuses), ok.get(), mismatched.get(), lost.get(), noRetryAfter.get(), texts.sum(), good, seconds, first.get(), first429.get());
    }

    /** Null when the answer holds, in order, the reference vector of every text within {@link #TOLERANCE}. */
    static String check(byte[] body, List<String> in, Map<String, float[]> reference) {
        try {
            JsonNode data = OM.readTree(body).get("data");
            if (data == null || data.size() != in.size()) return "expected " + in.size() + " embeddings, got " + (data == null ? "none" : data.size());
            for (int i = 0; i < in.size(); i++) {
                JsonNode d = data.get(i);
                if (d.get("index").asInt() != i) return "data[" + i + "].index is " + d.get("index");
                ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(d.get("embedding").asText())).order(ByteOrder.LITTLE_ENDIAN);
                float[] want = reference.get(in.get(i));
                if (b.remaining() != 4 * want.length) return "data[" + i + "] has " + b.remaining() / 4 + " components, expected " + want.length;
                for (int c = 0; c < want.length; c++) {
                    float v = b.getFloat();
                    if (!(Math.abs(v - want[c]) <= TOLERANCE)) return "data[" + i + "][" + c + "] = " + v + ", offline " + want[c];
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return "unreadable answer: " + e;
        }
    }

    /** Percentile {@code p} (0..100) of the sorted values, nearest rank, in milliseconds. */
    static double percentileMs(long[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        int i = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    /**
     * Starts a server on 127.0.0.1 (ephemeral port) with {@code o.threads()} encoder threads, warms up, then runs
     * {@code o.rounds()} rounds, each timing the offline embedder (batch 32, as {@code attn4j embed}) and the server
     * on the same slice of requests, alternating which goes first.
     */
    public static Report run(Options o, Consumer<String> progress) throws IOException, InterruptedException {
        Embedder offline = Embedder.load(o.model()).withThreads(o.threads()).withBatchSize(32);
        List<String> corpus = corpus();
        List<List<String>> warm = requests(corpus, o.warmup(), o.minTexts(), o.maxTexts(), o.seed() + 1);
        List<List<String>> reqs = requests(corpus, o.requests(), o.minTexts(), o.maxTexts(), o.seed());
        List<List<String>> all = new ArrayList<>(reqs);
        all.addAll(warm);
        Map<String, float[]> ref = reference(Embedder.load(o.model()).withThreads(o.threads()), all);
        ServeConfig cfg = ServeConfig.defaults().withPort(0).withModels(List.of(o.model())).withThreads(o.threads())
                .withMaxBatchTokens(o.maxBatchTokens()).withMaxQueue(Math.max(1024, o.concurrency() * o.maxTexts())).withAccessLog(null);
        // The client's completions run on its selector thread rather than hopping to a worker pool: the
        // client shares the machine with the server, so every thread hand-off it saves is CPU for the encoder.
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .executor(Runnable::run).build();
        try (EmbeddingServer server = EmbeddingServer.start(cfg).awaitReady()) {
            String served = server.modelNames().get(0);
            if (!warm.isEmpty()) {
                progress.accept(String.format(Locale.ROOT, "threads %d: warming up (%d requests, offline on the same texts)", o.threads(), warm.size()));
                Outcome w = drive(client, server.uri(), served, warm, o.concurrency(), ref, null);
                if (w.failures() > 0) throw new IllegalStateException("warm-up failed: " + w.firstProblem());
                offline.embed(warm.stream().flatMap(List::stream).toList());
            }
            double offlineSeconds = 0, serverSeconds = 0, passes = 0, passTexts = 0, passSeconds = 0;
            long offlineTexts = 0;
            Map<Integer, Integer> statuses = new TreeMap<>();
            List<long[]> lats = new ArrayList<>();
            int mismatched = 0, lost = 0, noRetry = 0, ok = 0;
            long serverTexts = 0;
            String first = null;
            for (int r = 0; r < o.rounds(); r++) {
                List<List<String>> slice = reqs.subList(r * reqs.size() / o.rounds(), (r + 1) * reqs.size() / o.rounds());
                List<String> flat = slice.stream().flatMap(List::stream).toList();
                for (int half = 0; half < 2; half++) {
                    if ((half == 0) == (r % 2 == 0)) {
                        long t0 = System.nanoTime();
                        offline.embed(flat);
                        offlineSeconds += (System.nanoTime() - t0) / 1e9;
                        offlineTexts += flat.size();
                    } else {
                        double[] before = batchMetrics(client, server.uri());
                        Outcome out = drive(client, server.uri(), served, slice, o.concurrency(), ref, null);
                        double[] after = batchMetrics(client, server.uri());
                        passes += after[0] - before[0];
                        passTexts += after[1] - before[1];
                        passSeconds += after[2] - before[2];
                        serverSeconds += out.seconds();
                        serverTexts += out.texts();
                        out.statuses().forEach((k, v) -> statuses.merge(k, v, Integer::sum));
                        lats.add(out.latencies());
                        mismatched += out.mismatched();
                        lost += out.lost();
                        noRetry += out.missingRetryAfter();
                        ok += out.ok();
                        if (first == null) first = out.firstProblem();
                    }
                }
                progress.accept(String.format(Locale.ROOT, "threads %d: round %d/%d: offline %.0f texts/s, server %.0f texts/s so far"
                        + " (%.1f texts per encoder pass, encoder busy %.0f%% of the server's time)",
                        o.threads(), r + 1, o.rounds(), offlineTexts / offlineSeconds, serverTexts / serverSeconds, passTexts / passes,
                        100 * passSeconds / serverSeconds));
            }
            long[] all2 = lats.stream().flatMapToLong(Arrays::stream).sorted().toArray();
            int failures = mismatched + lost + noRetry;
            int rejected = statuses.getOrDefault(429, 0);
            for (var e : statuses.entrySet()) if (e.getKey() != 200 && e.getKey() != 429) failures += e.getValue();
            int missing = reqs.size() - ok - mismatched - lost - statuses.entrySet().stream().filter(e -> e.getKey() != 200).mapToInt(Map.Entry::getValue).sum();
            return new Report(o.threads(), offlineTexts, serverTexts / serverSeconds, offlineTexts / offlineSeconds, percentileMs(all2, 50),
                    percentileMs(all2, 95), percentileMs(all2, 99), reqs.size(), failures, lost + missing, rejected, first, passTexts / passes,
                    passSeconds / serverSeconds);
        }
    }

    /** The server's encoder passes so far: {count, texts, seconds}, from its /metrics. */
    static double[] batchMetrics(HttpClient client, URI base) throws IOException, InterruptedException {
        String text = client.send(HttpRequest.newBuilder(base.resolve("/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        double[] out = new double[3];
        for (String line : text.split("\n")) {
            if (line.startsWith("attn4j_batch_texts_count{")) out[0] += value(line);
            else if (line.startsWith("attn4j_batch_texts_sum{")) out[1] += value(line);
            else if (line.startsWith("attn4j_batch_duration_seconds_sum{")) out[2] += value(line);
        }
        return out;
    }

    private static double value(String line) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }

    /** A plain-text table of reports. */
    public static String table(List<Report> reports) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%7s %8s %14s %15s %7s %8s %8s %8s %8s %5s %9s %11s %13s%n", "threads", "texts", "server text/s",
                "offline text/s", "ratio", "p50 ms", "p95 ms", "p99 ms", "failures", "lost", "429s", "texts/pass", "encoder busy"));
        for (Report r : reports) {
            b.append(String.format(Locale.ROOT, "%7d %8d %14.1f %15.1f %6.2fx %8.1f %8.1f %8.1f %8d %5d %9d %11.1f %12.0f%%%n", r.threads(), r.texts(),
                    r.serverTextsPerSecond(), r.offlineTextsPerSecond(), r.ratio(), r.p50Ms(), r.p95Ms(), r.p99Ms(), r.failures(), r.lost(), r.rejected(),
                    r.textsPerPass(), 100 * r.encoderBusy()));
        }
        return b.toString();
    }
}
