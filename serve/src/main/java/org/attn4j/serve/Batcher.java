package org.attn4j.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.embed.Embedder;

/**
 * Dynamic batching for one model: request threads queue tokenised texts; one batcher thread takes
 * whatever is waiting, in arrival order, up to {@code maxBatchTokens} tokens, runs a single encoder
 * pass over it and hands every text's embedding back to its request. A request's texts may span
 * several passes; its results are kept by index, so they come back in request order.
 *
 * <p>The encoder only runs when the batcher has a batch, so the core worker team is idle (parked)
 * while the server waits for requests. Nothing a client does can fail another client's batch: a
 * request whose client went away is simply skipped or its results dropped.
 */
final class Batcher implements AutoCloseable {
    /** One submitted request: its texts' token ids and, once done, their embeddings. */
    static final class Job {
        final int[][] ids;
        final boolean raw;
        final float[][] embeddings;
        final AtomicInteger left;
        final CompletableFuture<float[][]> done = new CompletableFuture<>();
        volatile boolean cancelled;

        Job(int[][] ids, boolean raw) {
            this.ids = ids;
            this.raw = raw;
            this.embeddings = new float[ids.length][];
            this.left = new AtomicInteger(ids.length);
        }

        int tokens() {
            int n = 0;
            for (int[] t : ids) n += t.length;
            return n;
        }
    }

    /** The queue held more than {@code maxQueue} texts with this request added. */
    static final class QueueFull extends Exception {
        QueueFull(String message) { super(message, null, false, false); }
    }

    private record Item(Job job, int index) {}

    private final Embedder model;
    private final int threads, maxBatchTokens, maxQueue;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    private final ArrayDeque<Item> queue = new ArrayDeque<>();
    private int queued;
    private boolean closed;
    private final Thread thread;
    private final DistributionSummary batchTexts, batchTokens;
    private final Counter tokensCounter, rejected;
    private final Timer passTime;
    private volatile double tokensPerSecond;

    Batcher(Embedder model, int threads, int maxBatchTokens, int maxQueue, MeterRegistry registry) {
        this.model = model;
        this.threads = threads;
        this.maxBatchTokens = maxBatchTokens;
        this.maxQueue = maxQueue;
        String name = model.name();
        Gauge.builder("attn4j.queue.depth", this, Batcher::depth).description("texts waiting for the encoder").tag("model", name).register(registry);
        Gauge.builder("attn4j.encoder.tokens.per.second", this, b -> b.tokensPerSecond)
                .description("tokens per second of the last encoder pass").tag("model", name).register(registry);
        batchTexts = DistributionSummary.builder("attn4j.batch.texts").description("texts per encoder pass").tag("model", name)
                .publishPercentileHistogram().register(registry);
        batchTokens = DistributionSummary.builder("attn4j.batch.tokens").description("tokens per encoder pass").tag("model", name)
                .publishPercentileHistogram().register(registry);
        tokensCounter = Counter.builder("attn4j.encoded.tokens").description("tokens encoded").tag("model", name).register(registry);
        rejected = Counter.builder("attn4j.queue.rejected").description("requests refused because the queue was full").tag("model", name).register(registry);
        passTime = Timer.builder("attn4j.batch.duration").description("encoder pass time").tag("model", name).publishPercentileHistogram().register(registry);
        thread = Thread.ofPlatform().name("attn4j-batcher-" + name).daemon(true).start(this::loop);
    }

    /** Texts waiting now. */
    int depth() {
        lock.lock();
        try {
            return queued;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues every text of a request, all or none.
     *
     * @param ids  token ids per text, special tokens included, each at most {@code maxBatchTokens} long
     * @param raw  also keep the pooled vector before L2 normalisation (TEI's {@code normalize: false})
     * @throws QueueFull when the texts do not fit the queue (the caller answers 429)
     */
    Job submit(int[][] ids, boolean raw) throws QueueFull {
        Job job = new Job(ids, raw);
        lock.lock();
        try {
            if (closed) throw new IllegalStateException("the batcher is closed");
            if (queued + ids.length > maxQueue) {
                rejected.increment();
                throw new QueueFull("the queue holds " + queued + " of at most " + maxQueue + " texts; this request has " + ids.length);
            }
            for (int i = 0; i < ids.length; i++) queue.addLast(new Item(job, i));
            queued += ids.length;
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
        return job;
    }

    private void loop() {
        while (true) {
            List<Item> batch = new ArrayList<>();
            lock.lock();
            try {
                while (queue.isEmpty() && !closed) notEmpty.awaitUninterruptibly();
                if (queue.isEmpty()) return; // closed and drained
                int tokens = 0;
                while (!queue.isEmpty()) {
                    Item next = queue.peekFirst();
                    int len = next.job.ids[next.index].length;
                    if (!batch.isEmpty() && tokens + len > maxBatchTokens) break;
                    queue.pollFirst();
                    queued--;
                    if (next.job.cancelled) continue;
                    batch.add(next);
                    tokens += len;
                }
            } finally {
                lock.unlock();
            }
            if (!batch.isEmpty()) run(batch);
        }
    }

    private void run(List<Item> batch) {
        int n = batch.size(), tokens = 0;
        int[][] ids = new int[n][], types = new int[n][];
        for (int b = 0; b < n; b++) {
            Item it = batch.get(b);
            ids[b] = it.job.ids[it.index];
            types[b] = new int[ids[b].length];
            tokens += ids[b].length;
        }
        BertEncoder.Output out;
        long t0 = System.nanoTime();
        try {
            out = model.encoder().forward(ids, types, threads);
        } catch (RuntimeException | Error e) {
            // Only this pass's requests fail; the batcher keeps serving.
            for (Item it : batch) it.job.done.completeExceptionally(e);
            return;
        }
        long ns = System.nanoTime() - t0;
        passTime.record(ns, TimeUnit.NANOSECONDS);
        batchTexts.record(n);
        batchTokens.record(tokens);
        tokensCounter.increment(tokens);
        tokensPerSecond = tokens / (ns / 1e9);
        BertConfig.Pooling pooling = model.encoder().config().pooling();
        for (int b = 0; b < n; b++) {
            Item it = batch.get(b);
            Job job = it.job;
            job.embeddings[it.index] = job.raw ? unnormalised(out, b, pooling) : Embedder.pool(out, b, pooling);
            if (job.left.decrementAndGet() == 0) job.done.complete(job.embeddings);
        }
    }

    /** The pooled vector before L2 normalisation: the mean of the tokens (MEAN) or the first token (CLS). */
    static float[] unnormalised(BertEncoder.Output out, int b, BertConfig.Pooling pooling) {
        int h = out.hiddenSize(), start = out.offsets()[b];
        int n = pooling == BertConfig.Pooling.CLS ? 1 : out.length(b);
        double[] acc = new double[h];
        for (int t = 0; t < n; t++) for (int c = 0; c < h; c++) acc[c] += out.hidden()[(start + t) * h + c];
        float[] e = new float[h];
        for (int c = 0; c < h; c++) e[c] = (float) (acc[c] / n);
        return e;
    }

    /** Stops taking requests; what is queued is still encoded before the thread ends. */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            notEmpty.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits for the batcher thread to finish the queue after {@link #close()}. */
    boolean awaitTermination(long millis) throws InterruptedException {
        thread.join(Math.max(1, millis));
        return !thread.isAlive();
    }
}
