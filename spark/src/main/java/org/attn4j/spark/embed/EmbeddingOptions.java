package org.attn4j.spark.embed;

import java.io.Serializable;

/**
 * What each task needs to embed its partition: the model's name or path (loaded by the executor,
 * never shipped), texts per forward pass, the token limit (null = the model's) and worker threads
 * per task (1 fits Spark's one core per task).
 */
public record EmbeddingOptions(String model, int batch, Integer maxTokens, int threadsPerTask) implements Serializable {
    public EmbeddingOptions {
        if (model == null || model.isBlank()) throw new IllegalArgumentException("model: expected a model name or path, got '" + model + "'");
        if (batch < 1) throw new IllegalArgumentException("batch: expected >= 1, got " + batch);
        if (maxTokens != null && maxTokens < 2) throw new IllegalArgumentException("maxTokens: expected >= 2, got " + maxTokens);
        if (threadsPerTask < 1) throw new IllegalArgumentException("threadsPerTask: expected >= 1, got " + threadsPerTask);
    }

    /** all-MiniLM-L6-v2, 64 texts per pass, the model's token limit, one thread per task. */
    public static EmbeddingOptions defaults() { return new EmbeddingOptions(org.attn4j.models.embed.Embedder.MINILM, 64, null, 1); }

    public EmbeddingOptions withModel(String m) { return new EmbeddingOptions(m, batch, maxTokens, threadsPerTask); }
    public EmbeddingOptions withBatch(int b) { return new EmbeddingOptions(model, b, maxTokens, threadsPerTask); }
    public EmbeddingOptions withMaxTokens(Integer t) { return new EmbeddingOptions(model, batch, t, threadsPerTask); }
    public EmbeddingOptions withThreadsPerTask(int t) { return new EmbeddingOptions(model, batch, maxTokens, t); }
}
