package org.attn4j.langchain4j;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.DimensionAwareEmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.model.output.TokenUsage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.attn4j.models.embed.Embedder;

/**
 * A langchain4j {@code EmbeddingModel} computed in process by attn4j's {@link Embedder}: pure Java,
 * no native code, no server, nothing downloaded at run time.
 *
 * <pre>{@code
 * EmbeddingModel model = Attn4jEmbeddingModel.builder()
 *         .modelName("all-minilm-l6-v2")      // or "bge-small-en-v1.5", or modelPath(a .onnx file or safetensors directory)
 *         .threads(2).batchSize(32).maxTokens(256)
 *         .build();
 * Embedding e = model.embed("A cat sits on the mat.").content();   // 384 floats, L2-normalised
 * }</pre>
 *
 * The vectors are exactly {@link Embedder#embed}'s for the same settings: L2-normalised, mean pooling
 * (CLS for bge models). Texts longer than {@code maxTokens} tokens ([CLS] and [SEP] included) are
 * truncated. {@code embedAll} runs the segments in batches of {@code batchSize} texts, each one packed
 * forward pass on {@code threads} threads, and reports the tokens it ran as the input token count.
 * Thread-safe: concurrent calls share the weights.
 */
public final class Attn4jEmbeddingModel extends DimensionAwareEmbeddingModel {
    private final Embedder embedder;
    private final int batchSize;

    private Attn4jEmbeddingModel(Embedder embedder, int batchSize) {
        this.embedder = embedder;
        this.batchSize = batchSize;
        this.dimension = embedder.dimension();
    }

    /** A builder; with no options it loads {@value Embedder#MINILM} on all processors. */
    public static Builder builder() { return new Builder(); }

    /** The attn4j embedder behind this model (its threads, batch size and token limit as configured). */
    public Embedder embedder() { return embedder; }

    @Override
    public String modelName() { return embedder.name(); }

    @Override
    protected Integer knownDimension() { return embedder.dimension(); }

    @Override
    public Response<List<Embedding>> embedAll(List<TextSegment> segments) {
        if (segments == null) throw new IllegalArgumentException("segments: expected a list, got null");
        List<String> texts = new ArrayList<>(segments.size());
        for (int i = 0; i < segments.size(); i++) {
            TextSegment s = segments.get(i);
            if (s == null) throw new IllegalArgumentException("segments[" + i + "]: expected a text segment, got null");
            texts.add(s.text());
        }
        List<Embedding> out = new ArrayList<>(texts.size());
        long tokens = 0;
        // The same slices as Embedder.embed, so the vectors are the embedder's, bit for bit.
        for (int from = 0; from < texts.size(); from += batchSize) {
            Embedder.Result r = embedder.run(texts.subList(from, Math.min(texts.size(), from + batchSize)));
            for (float[] e : r.embeddings()) out.add(Embedding.from(e));
            for (var enc : r.encodings()) tokens += enc.ids().length;
        }
        return Response.from(out, new TokenUsage((int) Math.min(Integer.MAX_VALUE, tokens)));
    }

    /** Options of {@link Attn4jEmbeddingModel}; each is checked when given, naming the option. */
    public static final class Builder {
        private String modelName;
        private Path modelPath;
        private Embedder embedder;
        private Integer threads, batchSize, maxTokens;

        private Builder() {}

        /** A model shipped in a Maven artifact: {@value Embedder#MINILM} (the default) or {@value Embedder#BGE_SMALL}. */
        public Builder modelName(String modelName) {
            if (modelName == null || modelName.isBlank()) throw new IllegalArgumentException("modelName: expected a model name, got '" + modelName + "'");
            this.modelName = modelName;
            return this;
        }

        /** A BERT-family {@code .onnx} file (with {@code tokenizer.json} beside it) or a safetensors directory. */
        public Builder modelPath(Path modelPath) {
            if (modelPath == null) throw new IllegalArgumentException("modelPath: expected a path, got null");
            this.modelPath = modelPath;
            return this;
        }

        /** An embedder already loaded (its settings are the starting point for the options below). */
        public Builder embedder(Embedder embedder) {
            if (embedder == null) throw new IllegalArgumentException("embedder: expected an Embedder, got null");
            this.embedder = embedder;
            return this;
        }

        /** Worker threads of each forward pass; 0 (the default) uses all processors. */
        public Builder threads(int threads) {
            if (threads < 0) throw new IllegalArgumentException("threads: expected >= 1 (or 0 for all processors), got " + threads);
            this.threads = threads;
            return this;
        }

        /** Texts per forward pass (default 32); memory grows with it. */
        public Builder batchSize(int batchSize) {
            if (batchSize < 1) throw new IllegalArgumentException("batchSize: expected >= 1, got " + batchSize);
            this.batchSize = batchSize;
            return this;
        }

        /** Token limit per text, [CLS] and [SEP] included (2 to the model's positions; default the model's limit, 512). */
        public Builder maxTokens(int maxTokens) {
            if (maxTokens < 2) throw new IllegalArgumentException("maxTokens: expected >= 2, got " + maxTokens);
            this.maxTokens = maxTokens;
            return this;
        }

        /**
         * Loads the model (from the class path or the file system; nothing is downloaded).
         *
         * @throws IllegalArgumentException when more than one of modelName, modelPath and embedder is
         *         given, or the model or maxTokens is not valid for it
         * @throws UncheckedIOException when the model's files cannot be read
         */
        public Attn4jEmbeddingModel build() {
            int sources = (modelName != null ? 1 : 0) + (modelPath != null ? 1 : 0) + (embedder != null ? 1 : 0);
            if (sources > 1) {
                throw new IllegalArgumentException("model: give one of modelName, modelPath and embedder, got " + sources
                        + " (modelName=" + modelName + ", modelPath=" + modelPath + ", embedder=" + (embedder == null ? null : embedder.name()) + ")");
            }
            Embedder e = embedder;
            if (e == null) {
                try {
                    e = Embedder.load(modelPath != null ? modelPath.toString() : modelName != null ? modelName : Embedder.MINILM);
                } catch (IOException ex) {
                    throw new UncheckedIOException("model: cannot read " + (modelPath != null ? modelPath : modelName), ex);
                }
            }
            if (threads != null) e = e.withThreads(threads);
            if (maxTokens != null) e = e.withMaxTokens(maxTokens);
            int batch = batchSize != null ? batchSize : 32;
            e = e.withBatchSize(batch);
            return new Attn4jEmbeddingModel(e, batch);
        }
    }
}
