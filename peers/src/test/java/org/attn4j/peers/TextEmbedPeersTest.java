package org.attn4j.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import java.util.ServiceLoader;
import org.attn4j.bench.peer.TextEmbedPeer;
import org.attn4j.models.embed.Embedder;
import org.junit.jupiter.api.Test;

/** The text-embedding peers load through the service file and agree with attn4j's Embedder. */
class TextEmbedPeersTest {
    static final List<String> TEXTS = List.of("A man is playing a guitar.", "Someone plays an instrument.",
            "The quick brown fox jumps over the lazy dog.", "Ünïcödé and emoji 🙂 too.");

    @Test
    void bothPeersGiveAttn4jsVectors() throws IOException {
        float[][] want = Embedder.load(Embedder.MINILM).withThreads(1).embed(TEXTS);
        List<TextEmbedPeer> peers = ServiceLoader.load(TextEmbedPeer.class).stream().map(ServiceLoader.Provider::get).toList();
        assertEquals(List.of(Langchain4jOnnxTextEmbedPeer.class, Attn4jLangchain4jTextEmbedPeer.class), peers.stream().map(Object::getClass).toList());
        for (TextEmbedPeer p : peers) {
            try (TextEmbedPeer.Loaded l = p.load(1, 2)) {
                float[][] got = l.embed(TEXTS);
                assertEquals(TEXTS.size(), got.length, p.name());
                for (int i = 0; i < TEXTS.size(); i++) {
                    double dot = 0, na = 0, nb = 0;
                    for (int c = 0; c < want[i].length; c++) {
                        dot += want[i][c] * got[i][c];
                        na += want[i][c] * want[i][c];
                        nb += got[i][c] * got[i][c];
                    }
                    double cos = dot / Math.sqrt(na * nb);
                    // ONNX Runtime runs the same ONNX file in fp32 with other kernels: the tests of models see cosines of 1 - 1e-8.
                    assertTrue(cos > 0.99999, p.name() + ", text " + i + ": cosine " + cos);
                }
            }
        }
    }
}
