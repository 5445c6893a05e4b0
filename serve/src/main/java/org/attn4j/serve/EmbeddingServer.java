package org.attn4j.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.attn4j.explain.report.Explanation;
import org.attn4j.models.embed.Embedder;
import org.attn4j.models.tokenizer.Encoding;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.util.component.Graceful;

/**
 * The attn4j HTTP service: OpenAI-compatible {@code POST /v1/embeddings} and {@code GET /v1/models}, TEI-compatible
 * {@code POST /embed} and {@code POST /tokenize}, {@code POST /v1/similarity}, {@code POST /v1/explain} (the JSON of
 * {@code attn4j explain --json}), {@code GET /explain?text=} (the HTML report), {@code GET /health} and
 * {@code GET /metrics} (Prometheus text). Embedding requests go through one {@link Batcher} per model.
 *
 * <pre>{@code
 * EmbeddingServer s = EmbeddingServer.start(ServeConfig.defaults().withPort(0));
 * s.awaitReady();                 // models loaded; /health answers 200
 * ... s.uri() ...
 * s.stop();                       // stop accepting, finish in-flight requests (bounded by the grace period)
 * }</pre>
 */
public final class EmbeddingServer implements AutoCloseable {
    /** Loads a model by name or path (tests may substitute; the CLI uses {@link Embedder#load}). */
    @FunctionalInterface
    public interface ModelLoader {
        Embedder load(String nameOrPath) throws IOException;
    }

    /** A served model: its name (what requests send as {@code model}), embedder and batcher. */
    record Served(String name, Embedder embedder, Batcher batcher, int maxTokens) {}

    private static final ObjectMapper OM = new ObjectMapper();
    private static final String JSON = "application/json";
    private static final String REPLY_BODY = "attn4j.reply.body", REPLY_TYPE = "attn4j.reply.type";

    private final ServeConfig cfg;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Served> models = new LinkedHashMap<>();
    private final List<byte[]> keyDigests = new ArrayList<>();
    private final ReentrantLock explainLock = new ReentrantLock(true);
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Map<String, Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();
    private final AtomicLong admitted = new AtomicLong();
    private final long created = Instant.now().getEpochSecond();
    private final Object stateLock = new Object();
    private volatile boolean ready, stopping, stopped;
    private volatile Throwable loadFailure;
    private Javalin app;

    private EmbeddingServer(ServeConfig cfg) {
        this.cfg = cfg.validate();
        for (String k : cfg.apiKeys()) keyDigests.add(sha256(k));
    }

    /** Binds and starts serving ({@code /health} answers 503) while the models load in the background with {@link Embedder#load}. */
    public static EmbeddingServer start(ServeConfig cfg) {
        return start(cfg, Embedder::load);
    }

    /** As {@link #start(ServeConfig)} with the given loader. */
    public static EmbeddingServer start(ServeConfig cfg, ModelLoader loader) {
        EmbeddingServer s = new EmbeddingServer(cfg);
        s.app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.concurrency.useVirtualThreads = true;
            c.jetty.host = cfg.host();
            c.jetty.port = cfg.port();
            c.http.maxRequestSize = cfg.maxBodyBytes();
            s.routes(c.routes);
        });
        s.app.start();
        Thread.ofPlatform().name("attn4j-model-loader").daemon(true).start(() -> s.load(loader));
        return s;
    }

    private void load(ModelLoader loader) {
        try {
            for (String m : cfg.models()) {
                Embedder e = loader.load(m);
                int limit = Math.min(cfg.maxInputTokens(), e.encoder().config().maxPositions());
                e = e.withThreads(cfg.threads()).withMaxTokens(limit);
                String key = e.name().toLowerCase(Locale.ROOT);
                if (models.containsKey(key)) throw new IllegalArgumentException("--model: '" + m + "' is served twice (as " + e.name() + ")");
                models.put(key, new Served(e.name(), e, new Batcher(e, cfg.threads(), cfg.maxBatchTokens(), cfg.maxQueue(), registry), limit));
            }
            ready = true;
        } catch (Throwable t) {
            loadFailure = t;
        }
        synchronized (stateLock) {
            stateLock.notifyAll();
        }
    }

    /** Waits until every model is loaded; rethrows a loading failure (as IOException or IllegalArgumentException). */
    public EmbeddingServer awaitReady() throws IOException, InterruptedException {
        synchronized (stateLock) {
            while (!ready && loadFailure == null) stateLock.wait();
        }
        Throwable f = loadFailure;
        if (f instanceof IOException io) throw io;
        if (f instanceof RuntimeException re) throw re;
        if (f instanceof Error e) throw e;
        return this;
    }

    public boolean ready() { return ready; }
    public int port() { return app.port(); }
    public URI uri() { return URI.create("http://" + (cfg.host().contains(":") ? "[" + cfg.host() + "]" : cfg.host()) + ":" + port()); }
    /** The served model names, in the order given. */
    public List<String> modelNames() { return models.values().stream().map(Served::name).toList(); }
    /** The embedder behind a served name (the same one requests use), or null. */
    public Embedder embedder(String name) {
        Served s = models.get(name.toLowerCase(Locale.ROOT));
        return s == null ? null : s.embedder();
    }
    /** Requests that were let in (not refused as stopping) since start: a graceful stop answers every one. */
    public long admittedRequests() { return admitted.get(); }

    // ------------------------------------------------------------------------------------------ routes

    private void routes(io.javalin.config.RoutesConfig r) {
        route(r, "POST", "/v1/embeddings", this::openAiEmbeddings);
        route(r, "GET", "/v1/models", this::listModels);
        route(r, "POST", "/embed", this::teiEmbed);
        route(r, "POST", "/tokenize", this::teiTokenize);
        route(r, "POST", "/v1/similarity", this::similarity);
        route(r, "POST", "/v1/explain", this::explainJson);
        route(r, "GET", "/explain", this::explainHtml);
        route(r, "GET", "/health", this::health);
        route(r, "GET", "/metrics", this::metrics);
        // Our routes answer through the wrapper below; these only see paths and methods no route matched.
        r.error(404, ctx -> {
            writeError(ctx, new ApiError(404, "invalid_request_error", null, "not_found",
                    ctx.method() + " " + ctx.path() + " is not a route of this service", Map.of()));
            ctx.contentType(JSON).result(ctx.<byte[]>attribute(REPLY_BODY));
        });
        r.error(405, ctx -> {
            writeError(ctx, new ApiError(405, "invalid_request_error", null, "method_not_allowed",
                    ctx.method() + " is not allowed on " + ctx.path(), Map.of()));
            ctx.contentType(JSON).result(ctx.<byte[]>attribute(REPLY_BODY));
        });
    }

    /** Per request: admission, CORS, auth, error mapping, metrics and the access-log line around the handler. */
    private interface Route {
        void handle(Context ctx, Log log) throws Exception;
    }

    /** What the access log line carries besides route, status and time. */
    static final class Log {
        int inputs, tokens;
        String model;
    }

    private void route(io.javalin.config.RoutesConfig r, String method, String path, Route route) {
        Handler h = ctx -> {
            long t0 = System.nanoTime();
            Log log = new Log();
            inFlight.incrementAndGet();
            try {
                if (stopping) {
                    ctx.header("Connection", "close");
                    throw new ApiError(503, "server_error", null, "shutting_down", "the server is shutting down", Map.of());
                }
                admitted.incrementAndGet();
                cors(ctx);
                if (!path.equals("/health")) authorise(ctx);
                if (!ready && !path.equals("/health")) {
                    throw new ApiError(503, "server_error", null, "loading", "the models are still loading; see GET /health",
                            Map.of("Retry-After", "1"));
                }
                route.handle(ctx, log);
            } catch (ApiError e) {
                writeError(ctx, e);
            } catch (HttpResponseException e) {
                // Javalin's own checks (the body size limit) in our error format.
                int st = e.getStatus();
                writeError(ctx, new ApiError(st, "invalid_request_error", null, st == 413 ? "body_too_large" : "bad_request",
                        st == 413 ? "the request body is larger than " + cfg.maxBodyBytes() + " bytes" : e.getMessage(), Map.of()));
            } catch (Exception e) {
                writeError(ctx, new ApiError(500, "server_error", null, "internal_error", "internal error: " + e, Map.of()));
            } finally {
                boolean delivered = send(ctx);
                long ns = System.nanoTime() - t0;
                int status = ctx.statusCode();
                timers.computeIfAbsent(method + " " + path + " " + status, k -> Timer.builder("attn4j.http.requests")
                        .description("HTTP requests by route and status").tag("route", path).tag("method", method)
                        .tag("status", Integer.toString(status)).publishPercentileHistogram().register(registry)).record(ns, TimeUnit.NANOSECONDS);
                if (cfg.accessLog() != null) cfg.accessLog().accept(String.format(Locale.ROOT,
                        "attn4j.access ts=%s method=%s route=%s status=%d ms=%.3f inputs=%d tokens=%d model=%s remote=%s%s",
                        Instant.now(), method, path, status, ns / 1e6, log.inputs, log.tokens, log.model == null ? "-" : log.model, ctx.ip(),
                        delivered ? "" : " client=gone"));
                inFlight.decrementAndGet();
            }
        };
        switch (method) {
            case "GET" -> r.get(path, h);
            case "POST" -> r.post(path, h);
            default -> throw new IllegalArgumentException(method);
        }
        if (cfg.corsOrigin() != null) r.options(path, this::preflight);
    }

    private void preflight(Context ctx) {
        String origin = ctx.header("Origin");
        if (origin == null || !originAllowed(origin)) {
            ctx.status(403);
            return;
        }
        cors(ctx);
        ctx.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        ctx.header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        ctx.header("Access-Control-Max-Age", "600");
        ctx.status(204);
    }

    private boolean originAllowed(String origin) {
        return cfg.corsOrigin().equals("*") || cfg.corsOrigin().equalsIgnoreCase(origin);
    }

    private void cors(Context ctx) {
        if (cfg.corsOrigin() == null) return;
        String origin = ctx.header("Origin");
        if (origin == null || !originAllowed(origin)) return;
        ctx.header("Access-Control-Allow-Origin", cfg.corsOrigin().equals("*") ? "*" : origin);
        ctx.header("Vary", "Origin");
        ctx.header("Access-Control-Expose-Headers", "Retry-After");
    }

    /** Bearer keys compared as SHA-256 digests with {@link MessageDigest#isEqual}: constant time, no length leak. */
    private void authorise(Context ctx) {
        if (keyDigests.isEmpty()) return;
        String h = ctx.header("Authorization");
        boolean ok = false;
        if (h != null && h.regionMatches(true, 0, "Bearer ", 0, 7)) {
            byte[] given = sha256(h.substring(7).trim());
            for (byte[] k : keyDigests) ok |= MessageDigest.isEqual(given, k);
        }
        if (!ok) {
            throw new ApiError(401, "authentication_error", null, "invalid_api_key",
                    h == null ? "missing API key: send the header Authorization: Bearer KEY" : "invalid API key in the Authorization header",
                    Map.of("WWW-Authenticate", "Bearer"));
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void writeError(Context ctx, ApiError e) {
        ObjectNode root = OM.createObjectNode();
        ObjectNode err = root.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        if (e.param() == null) err.putNull("param");
        else err.put("param", e.param());
        if (e.code() == null) err.putNull("code");
        else err.put("code", e.code());
        e.headers().forEach(ctx::header);
        ctx.status(e.status());
        reply(ctx, JSON, root.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static void json(Context ctx, JsonNode body) throws JsonProcessingException {
        reply(ctx, JSON, OM.writeValueAsBytes(body));
    }

    /**
     * Keeps the response for the route wrapper, which writes and flushes it itself before the request counts as
     * finished: a graceful stop then never closes a connection with an answer still in Javalin's hands.
     */
    private static void reply(Context ctx, String type, byte[] body) {
        ctx.attribute(REPLY_TYPE, type);
        ctx.attribute(REPLY_BODY, body);
    }

    /** Writes the kept response to the socket and flushes it; false when the client has gone. */
    private static boolean send(Context ctx) {
        byte[] body = ctx.attribute(REPLY_BODY);
        if (body == null) return true;
        try {
            var res = ctx.res();
            res.setContentType(ctx.<String>attribute(REPLY_TYPE));
            res.setContentLength(body.length);
            res.getOutputStream().write(body);
            res.flushBuffer();
            return true;
        } catch (IOException | RuntimeException e) {
            return false; // the client disconnected: only its own answer is lost
        }
    }

    // ------------------------------------------------------------------------------------------ handlers

    private void health(Context ctx, Log log) throws JsonProcessingException {
        ObjectNode o = OM.createObjectNode();
        if (ready) {
            o.put("status", "ok");
            ArrayNode a = o.putArray("models");
            for (Served s : models.values()) a.add(s.name());
            json(ctx, o);
        } else {
            o.put("status", loadFailure != null ? "failed" : "loading");
            if (loadFailure != null) o.put("message", String.valueOf(loadFailure.getMessage()));
            ctx.status(503);
            json(ctx, o);
        }
    }

    private void metrics(Context ctx, Log log) {
        reply(ctx, "text/plain; version=0.0.4; charset=utf-8", registry.scrape().getBytes(StandardCharsets.UTF_8));
    }

    private void listModels(Context ctx, Log log) throws JsonProcessingException {
        ObjectNode o = OM.createObjectNode();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (Served s : models.values()) {
            ObjectNode m = data.addObject();
            m.put("id", s.name());
            m.put("object", "model");
            m.put("created", created);
            m.put("owned_by", "attn4j");
            m.put("dimensions", s.embedder().dimension());
            m.put("max_input_tokens", s.maxTokens());
        }
        json(ctx, o);
    }

    /** OpenAI {@code POST /v1/embeddings}. */
    private void openAiEmbeddings(Context ctx, Log log) throws Exception {
        ObjectNode body = body(ctx);
        Served m = model(body, log);
        boolean truncate = bool(body, "truncate", false);
        String format = body.has("encoding_format") && !body.get("encoding_format").isNull() ? text(body, "encoding_format") : "float";
        if (!format.equals("float") && !format.equals("base64")) {
            throw ApiError.badRequest("encoding_format", "invalid_value", "encoding_format: expected \"float\" or \"base64\", got \"" + format + "\"");
        }
        Integer dims = null;
        if (body.has("dimensions") && !body.get("dimensions").isNull()) {
            JsonNode d = body.get("dimensions");
            if (!d.isIntegralNumber()) throw ApiError.badRequest("dimensions", "invalid_type", "dimensions: expected an integer, got " + kind(d));
            int dim = m.embedder().dimension();
            if (d.asLong() < 1 || d.asLong() > dim) {
                throw ApiError.badRequest("dimensions", "invalid_value", "dimensions: expected 1.." + dim + " for " + m.name() + ", got " + d.asText());
            }
            dims = d.asInt();
        }
        int[][] ids = openAiInput(body, m, truncate);
        log.inputs = ids.length;
        float[][] emb = embed(m, ids, false, log);

        // Written as a stream, not a tree: a response holds thousands of numbers.
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream(64 + emb.length * (format.equals("base64") ? 2200 : 4400));
        try (JsonGenerator g = OM.getFactory().createGenerator(buf)) {
            g.writeStartObject();
            g.writeStringField("object", "list");
            g.writeArrayFieldStart("data");
            for (int i = 0; i < emb.length; i++) {
                float[] e = dims == null ? emb[i] : truncateRenormalise(emb[i], dims);
                g.writeStartObject();
                g.writeStringField("object", "embedding");
                g.writeNumberField("index", i);
                if (format.equals("base64")) g.writeStringField("embedding", base64(e));
                else {
                    g.writeArrayFieldStart("embedding");
                    for (float v : e) g.writeNumber(v);
                    g.writeEndArray();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("model", m.name());
            g.writeObjectFieldStart("usage");
            g.writeNumberField("prompt_tokens", log.tokens);
            g.writeNumberField("total_tokens", log.tokens);
            g.writeEndObject();
            g.writeEndObject();
        }
        reply(ctx, JSON, buf.toByteArray());
    }

    /** The first {@code dims} components, L2-normalised again (Matryoshka-style shortening; the pooled vector is normalised first). */
    static float[] truncateRenormalise(float[] e, int dims) {
        double n = 0;
        for (int i = 0; i < dims; i++) n += (double) e[i] * e[i];
        n = Math.sqrt(n);
        float[] out = new float[dims];
        for (int i = 0; i < dims; i++) out[i] = (float) (n == 0 ? 0 : e[i] / n);
        return out;
    }

    /** Little-endian float32 bytes in base64, as OpenAI's {@code encoding_format: "base64"}. */
    static String base64(float[] e) {
        ByteBuffer b = ByteBuffer.allocate(4 * e.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : e) b.putFloat(v);
        return Base64.getEncoder().encodeToString(b.array());
    }

    /** {@code input}: a string, an array of strings, an array of token ids, or an array of token-id arrays. */
    private int[][] openAiInput(ObjectNode body, Served m, boolean truncate) {
        JsonNode in = body.get("input");
        if (in == null || in.isNull()) throw ApiError.badRequest("input", "missing_field", "input: required (a string or an array of strings or token-id arrays)");
        if (in.isTextual()) return tokenize(List.of(in.asText()), "input", m, truncate);
        if (!in.isArray()) {
            throw ApiError.badRequest("input", "invalid_type", "input: expected a string, an array of strings or an array of token-id arrays, got " + kind(in));
        }
        if (in.isEmpty()) throw ApiError.badRequest("input", "empty_input", "input: expected at least one input, got an empty array");
        checkCount(in.size(), "input");
        if (in.get(0).isTextual()) return tokenize(strings(in, "input"), "input", m, truncate);
        if (in.get(0).isIntegralNumber()) return new int[][] {tokenIds(in, "input", m, truncate)};
        if (in.get(0).isArray()) {
            int[][] ids = new int[in.size()][];
            for (int i = 0; i < ids.length; i++) {
                JsonNode a = in.get(i);
                if (!a.isArray()) throw ApiError.badRequest("input[" + i + "]", "invalid_type", "input[" + i + "]: expected an array of token ids like input[0], got " + kind(a));
                ids[i] = tokenIds(a, "input[" + i + "]", m, truncate);
            }
            return ids;
        }
        throw ApiError.badRequest("input[0]", "invalid_type", "input[0]: expected a string, a token id or an array of token ids, got " + kind(in.get(0)));
    }

    /** Token ids used as given (the sequence {@code /tokenize} returns, special tokens included). */
    private int[] tokenIds(JsonNode a, String param, Served m, boolean truncate) {
        if (a.isEmpty()) throw ApiError.badRequest(param, "empty_input", param + ": expected at least one token id, got an empty array");
        int vocab = m.embedder().encoder().config().vocabSize();
        int n = a.size();
        if (n > m.maxTokens()) {
            if (!truncate) throw tooLong(param, n, m);
            n = m.maxTokens();
        }
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            JsonNode v = a.get(i);
            if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() >= vocab) {
                throw ApiError.badRequest(param + "[" + i + "]", "invalid_value", param + "[" + i + "]: expected a token id in 0.." + (vocab - 1) + ", got " + v);
            }
            ids[i] = v.asInt();
        }
        return ids;
    }

    private static ApiError tooLong(String param, int tokens, Served m) {
        return ApiError.badRequest(param, "input_too_long", param + ": " + tokens + " tokens, more than the limit of " + m.maxTokens()
                + " for " + m.name() + " (send \"truncate\": true to keep the first " + m.maxTokens() + ")");
    }

    private void checkCount(int n, String param) {
        int max = Math.min(cfg.maxInputs(), cfg.maxQueue());
        if (n > max) throw ApiError.badRequest(param, "too_many_inputs", param + ": at most " + max + " inputs per request, got " + n);
    }

    private List<String> strings(JsonNode arr, String param) {
        List<String> out = new ArrayList<>(arr.size());
        for (int i = 0; i < arr.size(); i++) {
            JsonNode v = arr.get(i);
            if (!v.isTextual()) throw ApiError.badRequest(param + "[" + i + "]", "invalid_type", param + "[" + i + "]: expected a string, got " + kind(v));
            out.add(v.asText());
        }
        return out;
    }

    /** Tokenises on the request's thread (the batcher only runs the encoder); empty and over-long texts are refused here. */
    private int[][] tokenize(List<String> texts, String param, Served m, boolean truncate) {
        int[][] ids = new int[texts.size()][];
        for (int i = 0; i < ids.length; i++) {
            String p = texts.size() == 1 && param.equals("input") ? param : param + "[" + i + "]";
            if (texts.get(i).isEmpty()) throw ApiError.badRequest(p, "empty_input", p + ": expected a non-empty string, got \"\"");
            Encoding e = m.embedder().tokenizer().encode(texts.get(i), m.maxTokens());
            if (e.truncated() && !truncate) throw tooLong(p, e.untruncatedLength(), m);
            ids[i] = e.ids();
        }
        return ids;
    }

    private float[][] embed(Served m, int[][] ids, boolean raw, Log log) throws InterruptedException {
        for (int[] t : ids) log.tokens += t.length;
        Batcher.Job job;
        try {
            job = m.batcher().submit(ids, raw);
        } catch (Batcher.QueueFull e) {
            throw new ApiError(429, "rate_limit_error", null, "queue_full", "server busy: " + e.getMessage() + "; retry later",
                    Map.of("Retry-After", "1"));
        }
        try {
            return job.done.get();
        } catch (InterruptedException e) {
            job.cancelled = true;
            throw e;
        } catch (ExecutionException e) {
            throw new ApiError(500, "server_error", null, "encoder_failed", "the encoder failed: " + e.getCause(), Map.of());
        }
    }

    /** TEI {@code POST /embed}: {@code inputs}, {@code normalize} (default true), {@code truncate} (default false). */
    private void teiEmbed(Context ctx, Log log) throws Exception {
        ObjectNode body = body(ctx);
        Served m = model(body, log);
        boolean normalize = bool(body, "normalize", true), truncate = bool(body, "truncate", false);
        int[][] ids = tokenize(teiInputs(body), "inputs", m, truncate);
        log.inputs = ids.length;
        float[][] emb = embed(m, ids, !normalize, log);
        java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream(16 + emb.length * 4400);
        try (JsonGenerator g = OM.getFactory().createGenerator(buf)) {
            g.writeStartArray();
            for (float[] e : emb) {
                g.writeStartArray();
                for (float v : e) g.writeNumber(v);
                g.writeEndArray();
            }
            g.writeEndArray();
        }
        reply(ctx, JSON, buf.toByteArray());
    }

    private List<String> teiInputs(ObjectNode body) {
        JsonNode in = body.get("inputs");
        if (in == null || in.isNull()) throw ApiError.badRequest("inputs", "missing_field", "inputs: required (a string or an array of strings)");
        if (in.isTextual()) return List.of(in.asText());
        if (!in.isArray()) throw ApiError.badRequest("inputs", "invalid_type", "inputs: expected a string or an array of strings, got " + kind(in));
        if (in.isEmpty()) throw ApiError.badRequest("inputs", "empty_input", "inputs: expected at least one input, got an empty array");
        checkCount(in.size(), "inputs");
        return strings(in, "inputs");
    }

    /** TEI {@code POST /tokenize}: per input, {@code [{id, text, special, start, stop}]} (offsets are not tracked: null). */
    private void teiTokenize(Context ctx, Log log) throws Exception {
        ObjectNode body = body(ctx);
        Served m = model(body, log);
        boolean special = bool(body, "add_special_tokens", true);
        List<String> texts = teiInputs(body);
        log.inputs = texts.size();
        java.util.Set<Integer> specials = new java.util.HashSet<>();
        for (int id : m.embedder().tokenizer().encode("", 16).ids()) specials.add(id);
        ArrayNode out = OM.createArrayNode();
        for (String t : texts) {
            Encoding e = m.embedder().tokenizer().encode(t, Integer.MAX_VALUE / 2);
            ArrayNode row = out.addArray();
            for (int i = 0; i < e.length(); i++) {
                boolean isSpecial = specials.contains(e.ids()[i]);
                if (!special && isSpecial && (i == 0 || i == e.length() - 1)) continue;
                ObjectNode tok = row.addObject();
                tok.put("id", e.ids()[i]);
                tok.put("text", e.tokens()[i]);
                tok.put("special", isSpecial);
                tok.putNull("start");
                tok.putNull("stop");
                log.tokens++;
            }
        }
        json(ctx, out);
    }

    /** {@code POST /v1/similarity}: cosine of {@code source_sentence} with each of {@code sentences} (also accepted inside TEI's {@code inputs}). */
    private void similarity(Context ctx, Log log) throws Exception {
        ObjectNode body = body(ctx);
        Served m = model(body, log);
        boolean truncate = bool(body, "truncate", false);
        ObjectNode in = body;
        if (body.has("inputs")) {
            if (!body.get("inputs").isObject()) {
                throw ApiError.badRequest("inputs", "invalid_type", "inputs: expected an object {source_sentence, sentences}, got " + kind(body.get("inputs")));
            }
            in = (ObjectNode) body.get("inputs");
        }
        String source = text(in, "source_sentence");
        JsonNode cands = in.get("sentences");
        if (cands == null || cands.isNull()) throw ApiError.badRequest("sentences", "missing_field", "sentences: required (an array of strings)");
        if (!cands.isArray()) throw ApiError.badRequest("sentences", "invalid_type", "sentences: expected an array of strings, got " + kind(cands));
        if (cands.isEmpty()) throw ApiError.badRequest("sentences", "empty_input", "sentences: expected at least one sentence, got an empty array");
        checkCount(cands.size() + 1, "sentences");
        List<String> texts = new ArrayList<>();
        texts.add(source);
        texts.addAll(strings(cands, "sentences"));
        if (source.isEmpty()) throw ApiError.badRequest("source_sentence", "empty_input", "source_sentence: expected a non-empty string, got \"\"");
        int[][] ids = tokenize(texts.subList(1, texts.size()), "sentences", m, truncate);
        int[][] all = new int[ids.length + 1][];
        all[0] = tokenize(List.of(source), "source_sentence", m, truncate)[0];
        System.arraycopy(ids, 0, all, 1, ids.length);
        log.inputs = all.length;
        float[][] emb = embed(m, all, false, log);
        ObjectNode o = OM.createObjectNode();
        o.put("object", "similarity");
        o.put("model", m.name());
        ArrayNode scores = o.putArray("scores");
        for (int i = 1; i < emb.length; i++) {
            double c = 0;
            for (int k = 0; k < emb[0].length; k++) c += (double) emb[0][k] * emb[i][k];
            scores.add(c);
        }
        ObjectNode usage = o.putObject("usage");
        usage.put("prompt_tokens", log.tokens);
        usage.put("total_tokens", log.tokens);
        json(ctx, o);
    }

    /**
     * {@code POST /v1/explain}: {@code text}, optional {@code pair}, {@code importance_sentences} (default 8), {@code model} and
     * {@code methods} (as {@code attn4j explain --methods}: a comma-separated string, {@code all}, {@code default} or {@code none};
     * default: the CLI's default methods).
     */
    private void explainJson(Context ctx, Log log) throws Exception {
        ObjectNode body = body(ctx);
        Served m = model(body, log);
        String text = text(body, "text");
        String pair = body.has("pair") && !body.get("pair").isNull() ? text(body, "pair") : null;
        int n = Explanation.DEFAULT_IMPORTANCE_SENTENCES;
        if (body.has("importance_sentences") && !body.get("importance_sentences").isNull()) {
            JsonNode v = body.get("importance_sentences");
            if (!v.isIntegralNumber() || v.asLong() < 0 || v.asLong() > 64) {
                throw ApiError.badRequest("importance_sentences", "invalid_value", "importance_sentences: expected an integer in 0..64, got " + v);
            }
            n = v.asInt();
        }
        String methods = null;
        if (body.has("methods") && !body.get("methods").isNull()) {
            if (!body.get("methods").isTextual()) throw ApiError.badRequest("methods", "invalid_type", "methods: expected a string (e.g. \"grad-input,ig\"), got " + kind(body.get("methods")));
            methods = body.get("methods").asText();
        }
        Explanation e = explain(m, text, pair, n, gradientOptions(methods), log);
        reply(ctx, JSON, OM.writeValueAsBytes(e.json()));
    }

    /** {@code GET /explain?text=…[&pair=…][&model=…][&importance_sentences=N][&methods=LIST]}: the HTML report page. */
    private void explainHtml(Context ctx, Log log) throws Exception {
        String text = ctx.queryParam("text");
        if (text == null) throw ApiError.badRequest("text", "missing_field", "text: required query parameter (GET /explain?text=...)");
        ObjectNode fake = OM.createObjectNode();
        if (ctx.queryParam("model") != null) fake.put("model", ctx.queryParam("model"));
        Served m = model(fake, log);
        int n = Explanation.DEFAULT_IMPORTANCE_SENTENCES;
        String ns = ctx.queryParam("importance_sentences");
        if (ns != null) {
            try {
                n = Integer.parseInt(ns);
            } catch (NumberFormatException ex) {
                n = -1;
            }
            if (n < 0 || n > 64) throw ApiError.badRequest("importance_sentences", "invalid_value", "importance_sentences: expected an integer in 0..64, got '" + ns + "'");
        }
        Explanation e = explain(m, text, ctx.queryParam("pair"), n, gradientOptions(ctx.queryParam("methods")), log);
        reply(ctx, "text/html; charset=utf-8", e.html(m.name()).getBytes(StandardCharsets.UTF_8));
    }

    /** The explanations by gradient for a request's {@code methods} (null: the CLI's default). */
    private static Explanation.GradientOptions gradientOptions(String methods) {
        if (methods == null) return Explanation.GradientOptions.defaults();
        try {
            return new Explanation.GradientOptions(org.attn4j.explain.gradient.GradientReport.parseMethods(methods), null,
                    Explanation.GradientOptions.DEFAULT_IG_STEPS, Explanation.GradientOptions.DEFAULT_FAITHFULNESS_SEEDS);
        } catch (IllegalArgumentException ex) {
            throw ApiError.badRequest("methods", "invalid_value", ex.getMessage().replace("--methods", "methods"));
        }
    }

    /** Explanations run one at a time on the request's thread (they are long and use every core), outside the batcher. */
    private Explanation explain(Served m, String text, String pair, int importanceSentences, Explanation.GradientOptions gradient, Log log)
            throws InterruptedException {
        if (text.isEmpty()) throw ApiError.badRequest("text", "empty_input", "text: expected a non-empty string, got \"\"");
        if (pair != null && pair.isEmpty()) throw ApiError.badRequest("pair", "empty_input", "pair: expected a non-empty string, got \"\"");
        Encoding enc = pair == null ? m.embedder().tokenizer().encode(text, m.maxTokens()) : m.embedder().tokenizer().encodePair(text, pair, m.maxTokens());
        if (enc.truncated()) throw tooLong(pair == null ? "text" : "text", enc.untruncatedLength(), m);
        log.inputs = 1;
        log.tokens = enc.length();
        explainLock.lockInterruptibly();
        try {
            return Explanation.of(m.embedder(), text, pair, importanceSentences, gradient);
        } finally {
            explainLock.unlock();
        }
    }

    // ------------------------------------------------------------------------------------------ request parsing

    private ObjectNode body(Context ctx) {
        byte[] bytes = ctx.bodyAsBytes();
        if (bytes.length > cfg.maxBodyBytes()) {
            throw new ApiError(413, "invalid_request_error", null, "body_too_large",
                    "the request body has " + bytes.length + " bytes, more than the limit of " + cfg.maxBodyBytes(), Map.of());
        }
        JsonNode n;
        try {
            n = OM.readTree(bytes);
        } catch (IOException e) {
            String msg = e instanceof JsonProcessingException jp ? jp.getOriginalMessage() : e.getMessage();
            throw ApiError.badRequest(null, "invalid_json", "the body is not valid JSON: " + msg);
        }
        if (n == null || n.isMissingNode()) throw ApiError.badRequest(null, "invalid_json", "the body is empty: expected a JSON object");
        if (!n.isObject()) throw ApiError.badRequest(null, "invalid_json", "the body must be a JSON object, got " + kind(n));
        return (ObjectNode) n;
    }

    /** The {@code model} field: one of the served names (case-insensitive; never a path), default the first served model. */
    private Served model(ObjectNode body, Log log) {
        JsonNode v = body.get("model");
        Served m;
        if (v == null || v.isNull()) m = models.values().iterator().next();
        else {
            if (!v.isTextual()) throw ApiError.badRequest("model", "invalid_type", "model: expected a string, got " + kind(v));
            m = models.get(v.asText().toLowerCase(Locale.ROOT));
            if (m == null) {
                throw new ApiError(400, "invalid_request_error", "model", "model_not_found",
                        "model: '" + v.asText() + "' is not served here; expected one of " + modelNames(), Map.of());
            }
        }
        log.model = m.name();
        return m;
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) throw ApiError.badRequest(field, "missing_field", field + ": required (a string)");
        if (!v.isTextual()) throw ApiError.badRequest(field, "invalid_type", field + ": expected a string, got " + kind(v));
        return v.asText();
    }

    private static boolean bool(JsonNode body, String field, boolean dflt) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw ApiError.badRequest(field, "invalid_type", field + ": expected true or false, got " + kind(v));
        return v.asBoolean();
    }

    private static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number (" + n.asText() + ")";
            case BOOLEAN -> "a boolean (" + n.asText() + ")";
            case NULL -> "null";
            default -> n.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }

    // ------------------------------------------------------------------------------------------ lifecycle

    /** {@link #stop(Duration)} with the configured grace period. */
    public boolean stop() {
        return stop(cfg.grace());
    }

    /**
     * Graceful stop: the listening sockets close (no new connections), requests arriving on open connections get
     * 503, requests already admitted are finished (waiting at most {@code grace}), then the server stops.
     *
     * @return true when every admitted request finished within the grace period
     */
    public boolean stop(Duration grace) {
        synchronized (stateLock) {
            if (stopped) return true;
            stopping = true;
        }
        Connector[] connectors = app.jettyServer().server().getConnectors();
        for (Connector c : connectors) {
            // Jetty would cut open connections' idle timeout to 1 s, failing admitted requests still waiting for the
            // encoder on a busy machine; the grace period bounds them instead.
            if (c instanceof AbstractConnector ac) ac.setShutdownIdleTimeout(Math.max(1, grace.toMillis()));
            if (c instanceof Graceful g) g.shutdown();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        boolean drained;
        while (!(drained = inFlight.get() == 0) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        // Every admitted request has been answered (written and flushed). A shut connector no longer reads new
        // requests from open keep-alive connections, so end them now (FIN after the data already sent, never a
        // reset) instead of leaving their clients waiting for the idle timeout.
        for (Connector c : connectors) {
            for (org.eclipse.jetty.io.EndPoint ep : c.getConnectedEndPoints()) {
                try {
                    ep.shutdownOutput();
                } catch (RuntimeException ignored) {
                    // already closed
                }
            }
        }
        try {
            Thread.sleep(50); // lets clients read their last answer and see the end of stream before sockets close
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        app.stop();
        for (Served s : models.values()) s.batcher().close();
        synchronized (stateLock) {
            stopped = true;
            stateLock.notifyAll();
        }
        return drained;
    }

    /** Blocks until {@link #stop} has finished. */
    public void awaitStopped() throws InterruptedException {
        synchronized (stateLock) {
            while (!stopped) stateLock.wait();
        }
    }

    @Override
    public void close() {
        stop(Duration.ZERO);
    }
}
