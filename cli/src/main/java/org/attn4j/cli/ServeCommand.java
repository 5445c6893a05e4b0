package org.attn4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.attn4j.models.embed.Embedder;
import org.attn4j.serve.EmbeddingServer;
import org.attn4j.serve.ServeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code attn4j serve}: the HTTP embedding and explanation service (see docs/serving.md). */
@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Serves embeddings over HTTP: OpenAI POST /v1/embeddings and GET /v1/models, TEI POST /embed and /tokenize,",
                "POST /v1/similarity, POST /v1/explain and GET /explain?text=, GET /health and GET /metrics (Prometheus).",
                "Concurrent requests are batched into one encoder pass. SIGTERM or Ctrl-C: stop accepting, finish in-flight requests, exit 0."})
final class ServeCommand implements Callable<Integer>, Main.OneLineErrors {
    @Spec CommandSpec spec;

    @Option(names = "--model", paramLabel = "NAME|PATH", description = "repeatable: all-minilm-l6-v2 (default), bge-small-en-v1.5, an .onnx file or a safetensors directory; requests pick one by its name") List<String> models;
    @Option(names = "--host", paramLabel = "ADDR", defaultValue = "127.0.0.1", description = "bind address (default: ${DEFAULT-VALUE})") String host;
    @Option(names = "--port", paramLabel = "N", defaultValue = "8080", description = "TCP port, 0 for any free one (default: ${DEFAULT-VALUE})") int port;
    @Option(names = "--threads", paramLabel = "T", defaultValue = "0", description = "encoder worker threads per batch (default: all cores)") int threads;
    @Option(names = "--max-batch-tokens", paramLabel = "N", defaultValue = "16384", description = "tokens per encoder pass at most (default: ${DEFAULT-VALUE})") int maxBatchTokens;
    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "1024", description = "texts waiting at most; beyond it requests get 429 (default: ${DEFAULT-VALUE})") int maxQueue;
    @Option(names = "--max-input-tokens", paramLabel = "N", defaultValue = "512", description = "tokens per text at most, [CLS]/[SEP] included; longer texts get 400 unless the request allows truncation (default: ${DEFAULT-VALUE})") int maxInputTokens;
    @Option(names = "--api-key-file", paramLabel = "FILE", description = "accepted keys, one per line ('#' comments); then every route but /health needs Authorization: Bearer KEY") Path apiKeyFile;
    @Option(names = "--cors", paramLabel = "ORIGIN", description = "allow browser requests from ORIGIN (or *); off by default") String cors;
    @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "30", description = "on SIGTERM, wait at most this long for in-flight requests (default: ${DEFAULT-VALUE})") double grace;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        if (!(grace >= 0)) throw new IllegalArgumentException("--grace: expected seconds >= 0, got " + grace);
        ServeConfig cfg = ServeConfig.defaults().withModels(models == null || models.isEmpty() ? List.of(Embedder.MINILM) : models)
                .withHost(host).withPort(port).withThreads(threads).withMaxBatchTokens(maxBatchTokens).withMaxQueue(maxQueue)
                .withMaxInputTokens(maxInputTokens).withCorsOrigin(cors).withApiKeys(apiKeyFile == null ? List.of() : readKeys(apiKeyFile))
                .withGrace(Duration.ofMillis(Math.round(grace * 1000)))
                .withAccessLog(line -> {
                    err.println(line);
                    err.flush();
                }).validate();
        EmbeddingServer server = EmbeddingServer.start(cfg);
        java.util.concurrent.CompletableFuture<Boolean> drained = new java.util.concurrent.CompletableFuture<>();
        Thread stopper = new Thread(() -> {
            err.println("attn4j: stopping: no new requests; finishing those in flight (at most " + grace + " s)");
            err.flush();
            drained.complete(server.stop());
        }, "attn4j-serve-stop");
        onSignal("TERM", stopper);
        onSignal("INT", stopper);
        err.println("attn4j: listening on " + server.uri() + " (loading " + String.join(", ", cfg.models()) + ")");
        err.flush();
        try {
            server.awaitReady();
        } catch (IOException | RuntimeException e) {
            server.stop(Duration.ZERO);
            throw e;
        }
        err.println("attn4j: ready on " + server.uri() + ": " + String.join(", ", server.modelNames())
                + (cfg.apiKeys().isEmpty() ? "" : " (API keys required)") + (cors == null ? "" : " (CORS: " + cors + ")"));
        err.flush();
        server.awaitStopped();
        // Reported here, on the command's thread, so the line is out before the process exits.
        boolean all = drained.getNow(true) || drained.join();
        err.println(all ? "attn4j: stopped" : "attn4j: stopped with requests unfinished after the grace period");
        err.flush();
        return 0;
    }

    /** Runs {@code stopper} once on the signal, instead of the JVM's exit (which would end in status 143 before requests finish). */
    @SuppressWarnings("removal")
    private static void onSignal(String name, Thread stopper) {
        try {
            sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> {
                if (stopper.getState() == Thread.State.NEW) {
                    try {
                        stopper.start();
                    } catch (IllegalThreadStateException alreadyStarted) {
                        // a second signal while stopping: the first stop goes on
                    }
                }
            });
        } catch (IllegalArgumentException unsupported) {
            // the platform has no such signal; the JVM's default handling stays
        }
    }

    /** Keys one per line; blank lines and lines starting with '#' are skipped. The file's content never reaches a log. */
    static List<String> readKeys(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("--api-key-file: file " + file + " does not exist");
        List<String> keys = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String k = line.strip();
            if (!k.isEmpty() && !k.startsWith("#")) keys.add(k);
        }
        if (keys.isEmpty()) throw new IllegalArgumentException("--api-key-file: expected at least one key in " + file + ", found none");
        return keys;
    }
}
