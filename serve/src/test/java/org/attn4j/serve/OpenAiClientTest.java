package org.attn4j.serve;

import static org.attn4j.serve.Http.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.http.client.jdk.JdkHttpClientBuilder;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import java.time.Duration;
import java.util.List;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.Test;

/** langchain4j's OpenAI client, pointed at the service, gets the offline Embedder's vectors. */
class OpenAiClientTest {
    @Test
    void langchain4jOpenAiClientGetsOfflineVectors() throws Exception {
        List<String> texts = List.of("Paris is the capital of France.", "The Eiffel Tower is in Paris.", "Bananas are yellow.",
                "Une phrase en français.", "short");
        String key = "k-" + System.nanoTime();
        try (EmbeddingServer s = EmbeddingServer.start(ServeConfig.defaults().withPort(0).withThreads(2).withApiKeys(List.of(key))
                .withModels(List.of(Embedder.MINILM, Embedder.BGE_SMALL)).withAccessLog(l -> {})).awaitReady()) {
            for (String model : List.of(Embedder.MINILM, Embedder.BGE_SMALL)) {
                float[][] want = Embedder.load(model).embed(texts);
                OpenAiEmbeddingModel client = OpenAiEmbeddingModel.builder().baseUrl(s.uri() + "/v1").apiKey(key).modelName(model)
                        .httpClientBuilder(new JdkHttpClientBuilder()).timeout(Duration.ofSeconds(60)).maxRetries(0).build();
                List<Embedding> got = client.embedAll(texts.stream().map(TextSegment::from).toList()).content();
                assertEquals(texts.size(), got.size());
                for (int i = 0; i < texts.size(); i++) assertClose(want[i], got.get(i).vector(), 1e-5, model + " text " + i);

                OpenAiEmbeddingModel shortened = OpenAiEmbeddingModel.builder().baseUrl(s.uri() + "/v1").apiKey(key).modelName(model)
                        .dimensions(128).httpClientBuilder(new JdkHttpClientBuilder()).maxRetries(0).build();
                float[] v = shortened.embed(texts.get(0)).content().vector();
                double n = 0;
                for (int c = 0; c < 128; c++) n += (double) want[0][c] * want[0][c];
                float[] expected = new float[128];
                for (int c = 0; c < 128; c++) expected[c] = (float) (want[0][c] / Math.sqrt(n));
                assertClose(expected, v, 1e-5, model + " dimensions=128");
            }
        }
    }
}
