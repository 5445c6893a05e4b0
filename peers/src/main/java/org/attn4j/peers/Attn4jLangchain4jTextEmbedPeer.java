package org.attn4j.peers;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import java.util.List;
import org.attn4j.bench.peer.TextEmbedPeer;
import org.attn4j.langchain4j.Attn4jEmbeddingModel;

/**
 * attn4j's own model reached through langchain4j's {@code EmbeddingModel} interface
 * ({@link Attn4jEmbeddingModel}), so the table compares the two langchain4j models call for call and
 * shows what the adapter costs over the bare {@code Embedder}.
 */
public final class Attn4jLangchain4jTextEmbedPeer implements TextEmbedPeer {
    @Override
    public String name() { return "attn4j-langchain4j"; }

    @Override
    public String version() { return "EmbeddingModel"; }

    @Override
    public Loaded load(int threads, int batchSize) {
        EmbeddingModel model = Attn4jEmbeddingModel.builder().threads(threads).batchSize(batchSize).build();
        return new Loaded() {
            @Override
            public float[][] embed(List<String> texts) {
                List<Embedding> e = model.embedAll(texts.stream().map(TextSegment::from).toList()).content();
                float[][] out = new float[e.size()][];
                for (int i = 0; i < out.length; i++) out[i] = e.get(i).vector();
                return out;
            }

            @Override
            public String threadNote() { return "Attn4jEmbeddingModel, batches of " + batchSize + ", " + threads + " thread(s)"; }

            @Override
            public void close() {}
        };
    }
}
