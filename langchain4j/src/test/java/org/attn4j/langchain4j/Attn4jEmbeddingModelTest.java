package org.attn4j.langchain4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.output.Response;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.inmemory.InMemoryEmbeddingStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class Attn4jEmbeddingModelTest {
    static Embedder minilm;

    static final List<String> DOCUMENTS = List.of(
            "The cat is sleeping on the sofa.",
            "The central bank raised interest rates again.",
            "The football match ended in a draw after extra time.",
            "Preheat the oven before you put the bread in.",
            "The new phone has a bigger battery and a brighter screen.");

    @BeforeAll
    static void load() throws IOException {
        minilm = Embedder.load(Embedder.MINILM);
    }

    @Test
    void retrievalThroughTheInMemoryStoreRanksTheRightDocumentFirst() {
        EmbeddingModel model = Attn4jEmbeddingModel.builder().embedder(minilm).threads(2).build();
        InMemoryEmbeddingStore<TextSegment> store = new InMemoryEmbeddingStore<>();
        List<TextSegment> segments = DOCUMENTS.stream().map(TextSegment::from).toList();
        store.addAll(model.embedAll(segments).content(), segments);
        Map<String, String> queries = Map.of(
                "Where is the kitten napping?", DOCUMENTS.get(0),
                "Borrowing money got more expensive this month.", DOCUMENTS.get(1),
                "Who won the soccer game?", DOCUMENTS.get(2),
                "How do I bake a loaf?", DOCUMENTS.get(3),
                "Which smartphone lasts longest on a charge?", DOCUMENTS.get(4));
        for (Map.Entry<String, String> q : queries.entrySet()) {
            List<EmbeddingMatch<TextSegment>> hits = store.search(EmbeddingSearchRequest.builder()
                    .queryEmbedding(model.embed(q.getKey()).content()).maxResults(2).build()).matches();
            assertEquals(q.getValue(), hits.get(0).embedded().text(), "top hit for '" + q.getKey() + "': " + hits);
            assertTrue(hits.get(0).score() > hits.get(1).score(), "a clear first: " + hits);
        }
    }

    @Test
    void vectorsAreTheEmbeddersAndTokenUsageCountsTheTokens() {
        List<String> texts = new ArrayList<>(DOCUMENTS);
        texts.add("Ünïcödé, emoji 🙂 and CJK 注意力 too.");
        Attn4jEmbeddingModel model = Attn4jEmbeddingModel.builder().embedder(minilm).threads(1).batchSize(3).build();
        Response<List<Embedding>> r = model.embedAll(texts.stream().map(TextSegment::from).toList());
        float[][] want = minilm.withThreads(1).withBatchSize(3).embed(texts);
        assertEquals(texts.size(), r.content().size());
        for (int i = 0; i < texts.size(); i++) assertClose(want[i], r.content().get(i).vector(), "text " + i);
        int tokens = 0;
        for (String t : texts) tokens += minilm.tokenizer().encode(t, minilm.maxTokens()).ids().length;
        assertEquals(tokens, r.tokenUsage().inputTokenCount());
        assertEquals(384, model.dimension());
        assertEquals(Embedder.MINILM, model.modelName());

        // Another batch size and thread count packs other batches; a text's vector does not depend on its batchmates.
        float[][] one = minilm.withThreads(2).withBatchSize(32).embed(texts);
        for (int i = 0; i < texts.size(); i++) assertClose(one[i], r.content().get(i).vector(), "text " + i + ", batch 32, 2 threads");
        // embed(String) goes through the same path.
        assertClose(want[0], model.embed(texts.get(0)).content().vector(), "embed(String)");
    }

    @Test
    void maxTokensTruncatesLikeTheEmbedder() {
        String longText = String.join(" ", java.util.Collections.nCopies(40, "attention"));
        Attn4jEmbeddingModel model = Attn4jEmbeddingModel.builder().embedder(minilm).maxTokens(8).build();
        Response<Embedding> r = model.embed(TextSegment.from(longText));
        assertClose(minilm.withMaxTokens(8).embed(List.of(longText))[0], r.content().vector(), "8 tokens");
        assertEquals(8, r.tokenUsage().inputTokenCount());
        float[] full = minilm.embed(List.of(longText))[0];
        assertTrue(!Arrays.equals(full, r.content().vector()), "8 tokens embed differently from 42");
    }

    @Test
    void theModelNameLoadsTheShippedModel() {
        Attn4jEmbeddingModel model = Attn4jEmbeddingModel.builder().modelName("all-minilm-l6-v2").threads(1).build();
        assertClose(minilm.withThreads(1).embed(List.of(DOCUMENTS.get(0)))[0], model.embed(DOCUMENTS.get(0)).content().vector(), "by name");
    }

    @Test
    void badOptionsNameTheOption() {
        assertMessage(() -> Attn4jEmbeddingModel.builder().threads(-1), "threads: expected >= 1 (or 0 for all processors), got -1");
        assertMessage(() -> Attn4jEmbeddingModel.builder().batchSize(0), "batchSize: expected >= 1, got 0");
        assertMessage(() -> Attn4jEmbeddingModel.builder().maxTokens(1), "maxTokens: expected >= 2, got 1");
        assertMessage(() -> Attn4jEmbeddingModel.builder().embedder(minilm).maxTokens(1000).build(), "maxTokens: expected 2..512, got 1000");
        assertMessage(() -> Attn4jEmbeddingModel.builder().modelName(" "), "modelName: expected a model name");
        assertMessage(() -> Attn4jEmbeddingModel.builder().modelName("no-such-model").build(), "model: 'no-such-model' is neither a known model");
        assertMessage(() -> Attn4jEmbeddingModel.builder().modelName(Embedder.MINILM).modelPath(Path.of("m.onnx")).build(),
                "model: give one of modelName, modelPath and embedder, got 2");
        Attn4jEmbeddingModel model = Attn4jEmbeddingModel.builder().embedder(minilm).build();
        assertMessage(() -> model.embedAll(null), "segments: expected a list, got null");
        assertMessage(() -> model.embedAll(Arrays.asList(TextSegment.from("a"), null)), "segments[1]: expected a text segment, got null");
        assertEquals(List.of(), model.embedAll(List.of()).content());
    }

    @Test
    void anUnreadableModelFileIsAnIoError(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad.onnx");
        java.nio.file.Files.write(bad, new byte[] {1, 2, 3});
        java.nio.file.Files.writeString(dir.resolve("tokenizer.json"), "{}");
        RuntimeException e = assertThrows(RuntimeException.class, () -> Attn4jEmbeddingModel.builder().modelPath(bad).build());
        assertTrue(e instanceof UncheckedIOException || e instanceof IllegalArgumentException, e.toString());
    }

    /**
     * Equal within 1e-6 per component (the vectors are unit length). Not bit-identical: the Vector API
     * runs its scalar fallback until the JIT compiles it, and the two differ in the last bit.
     */
    static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what + " dimension");
        for (int c = 0; c < want.length; c++) assertEquals(want[c], got[c], 1e-6, what + " component " + c);
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String start) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(start), "message '" + e.getMessage() + "' should start with '" + start + "'");
    }
}
