package org.attn4j.serve;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * How {@link EmbeddingServer} runs. Build with {@link #defaults()} and the {@code with…} methods; every value is
 * checked in {@link #validate()} with the option's name in the message.
 *
 * @param models         model names or paths, as for {@code attn4j embed --model}; requests choose by served name
 * @param host           bind address (127.0.0.1 by default: nothing is exposed unless asked)
 * @param port           TCP port, 0 for an ephemeral one
 * @param threads        encoder worker threads per batch (0 = all cores)
 * @param maxBatchTokens tokens (special tokens included) packed into one encoder pass at most
 * @param maxQueue       texts waiting for the encoder at most; a request that does not fit gets 429
 * @param maxInputTokens tokens per text at most (capped at the model's positions); longer texts get 400 unless truncated
 * @param maxInputs      texts per request at most (at most {@code maxQueue})
 * @param maxBodyBytes   request body size limit in bytes (413 above it)
 * @param apiKeys        accepted bearer keys; empty = no authentication
 * @param corsOrigin     the allowed browser origin ({@code *} for any), or null for no CORS headers
 * @param grace          how long a graceful stop waits for in-flight requests
 * @param accessLog      where one line per request goes (never holds keys); null for none
 */
public record ServeConfig(List<String> models, String host, int port, int threads, int maxBatchTokens, int maxQueue,
                          int maxInputTokens, int maxInputs, long maxBodyBytes, List<String> apiKeys, String corsOrigin,
                          Duration grace, Consumer<String> accessLog) {

    public static ServeConfig defaults() {
        return new ServeConfig(List.of("all-minilm-l6-v2"), "127.0.0.1", 8080, 0, 16384, 1024, 512, 2048, 8L << 20, List.of(), null,
                Duration.ofSeconds(30), line -> System.err.println(line));
    }

    public ServeConfig withModels(List<String> v) { return new ServeConfig(List.copyOf(v), host, port, threads, maxBatchTokens, maxQueue, maxInputTokens, maxInputs, maxBodyBytes, apiKeys, corsOrigin, grace, accessLog); }
    public ServeConfig withHost(String v) { return new ServeConfig(models, v, port, threads, maxBatchTokens, maxQueue, maxInputTokens, maxInputs, maxBodyBytes, apiKeys, corsOrigin, grace, accessLog); }
    public ServeConfig withPort(int v) { return new ServeConfig(models, host, v, threads, maxBatchTokens, maxQueue, maxInputTokens, maxInputs, maxBodyBytes, apiKeys, corsOrigin, grace, accessLog); }
    public ServeConfig withThreads(int v) { return new ServeConfig(models, host, port, v, maxBatchTokens, maxQueue, maxInputTokens, maxInputs, maxBodyBytes, apiKeys, corsOrigin, grace, accessLog); }
    public ServeConfig withMaxBatchTokens(int v) { return new ServeConfig(models, host, port, threads, v, maxQueue, maxInputTokens, maxInputs, maxBodyBytes, apiKeys, corsOrigin, grace, accessLog); }
    public ServeConfig withMaxQueue(int v) { return new ServeConfig(models, host, port, threads, maxBatchTokens, v, maxInputTokens, maxInputs, maxBodyBytes, apiKeys, corsOrigin, grace, accessLog); }
    public ServeConfig withMaxInputTokens(int v) { return new ServeConfig(models, host, port, threads, maxBatchTokens, maxQueue, v, maxInputs, maxBodyBytes, apiKeys, corsOrigin, grace, accessLog); }
    public ServeConfig withMaxInputs(int v) { return new ServeConfig(models, host, port, threads, maxBatchTokens, maxQueue, maxInputTokens, v, maxBodyBytes, apiKeys, corsOrigin, grace, accessLog); }
    public ServeConfig withMaxBodyBytes(long v) { return new ServeConfig(models, host, port, threads, maxBatchTokens, maxQueue, maxInputTokens, maxInputs, v, apiKeys, corsOrigin, grace, accessLog); }
    public ServeConfig withApiKeys(List<String> v) { return new ServeConfig(models, host, port, threads, maxBatchTokens, maxQueue, maxInputTokens, maxInputs, maxBodyBytes, List.copyOf(v), corsOrigin, grace, accessLog); }
    public ServeConfig withCorsOrigin(String v) { return new ServeConfig(models, host, port, threads, maxBatchTokens, maxQueue, maxInputTokens, maxInputs, maxBodyBytes, apiKeys, v, grace, accessLog); }
    public ServeConfig withGrace(Duration v) { return new ServeConfig(models, host, port, threads, maxBatchTokens, maxQueue, maxInputTokens, maxInputs, maxBodyBytes, apiKeys, corsOrigin, v, accessLog); }
    public ServeConfig withAccessLog(Consumer<String> v) { return new ServeConfig(models, host, port, threads, maxBatchTokens, maxQueue, maxInputTokens, maxInputs, maxBodyBytes, apiKeys, corsOrigin, grace, v); }

    /** Checks every value; the message names the option ({@code --port}, …), the expected and the actual value. */
    public ServeConfig validate() {
        if (models == null || models.isEmpty()) throw new IllegalArgumentException("--model: expected at least one model name or path, got none");
        if (host == null || host.isBlank()) throw new IllegalArgumentException("--host: expected an address, got '" + host + "'");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port: expected 0..65535, got " + port);
        if (threads < 0) throw new IllegalArgumentException("--threads: expected >= 1 (or 0 for all cores), got " + threads);
        if (maxInputTokens < 2) throw new IllegalArgumentException("--max-input-tokens: expected >= 2, got " + maxInputTokens);
        if (maxBatchTokens < maxInputTokens) {
            throw new IllegalArgumentException("--max-batch-tokens: expected >= --max-input-tokens (" + maxInputTokens + ", one text must fit a batch), got " + maxBatchTokens);
        }
        if (maxQueue < 1) throw new IllegalArgumentException("--max-queue: expected >= 1, got " + maxQueue);
        if (maxInputs < 1) throw new IllegalArgumentException("maxInputs: expected >= 1, got " + maxInputs);
        if (maxBodyBytes < 1024) throw new IllegalArgumentException("maxBodyBytes: expected >= 1024, got " + maxBodyBytes);
        if (grace == null || grace.isNegative()) throw new IllegalArgumentException("--grace: expected a non-negative duration, got " + grace);
        if (corsOrigin != null && corsOrigin.isBlank()) throw new IllegalArgumentException("--cors: expected an origin such as https://example.org or *, got ''");
        for (String k : apiKeys) if (k.isBlank()) throw new IllegalArgumentException("--api-key-file: a key is blank");
        return this;
    }
}
