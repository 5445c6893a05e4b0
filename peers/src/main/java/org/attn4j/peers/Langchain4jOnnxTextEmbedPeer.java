package org.attn4j.peers;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.attn4j.bench.peer.TextEmbedPeer;

/**
 * langchain4j's in-process {@code AllMiniLmL6V2EmbeddingModel} (ONNX Runtime, DJL's Hugging Face
 * tokenizer): the embedding model a langchain4j user gets without a server. It runs each text as its
 * own ONNX Runtime call, spread over the executor it is given; its ONNX Runtime session keeps its
 * default intra-op thread pool, which that API does not let us bound.
 */
public final class Langchain4jOnnxTextEmbedPeer implements TextEmbedPeer {
    @Override
    public String name() { return "langchain4j AllMiniLmL6V2 (onnx)"; }

    @Override
    public String version() {
        Package p = AllMiniLmL6V2EmbeddingModel.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v != null ? v : "1.19.0-beta29";
    }

    @Override
    public Loaded load(int threads, int batchSize) {
        // DJL's tokenizer must not try the network: its native library ships in the jar.
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "langchain4j-onnx-peer");
            t.setDaemon(true);
            return t;
        });
        AllMiniLmL6V2EmbeddingModel model = new AllMiniLmL6V2EmbeddingModel(pool);
        return new Loaded() {
            @Override
            public float[][] embed(List<String> texts) {
                List<Embedding> e = model.embedAll(texts.stream().map(TextSegment::from).toList()).content();
                float[][] out = new float[e.size()][];
                for (int i = 0; i < out.length; i++) out[i] = e.get(i).vector();
                return out;
            }

            @Override
            public String threadNote() {
                return "one ONNX Runtime call per text on an executor of " + threads + " thread(s); ONNX Runtime's intra-op pool at its default ("
                        + Runtime.getRuntime().availableProcessors() + " cores)";
            }

            @Override
            public void close() { pool.shutdownNow(); }
        };
    }
}
