package org.attn4j.models.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.attn4j.models.bert.BertConfig;
import org.attn4j.models.bert.BertEncoder;
import org.attn4j.models.tokenizer.Encoding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * attn4j's encoder against ONNX Runtime running the very same .onnx file: last_hidden_state on real
 * tokens within 1e-4, pooled normalised embeddings with cosine ≥ 0.99999.
 */
class OnnxRuntimeParityTest {
    static OrtEnvironment env;

    @BeforeAll
    static void start() {
        env = OrtEnvironment.getEnvironment();
    }

    @AfterAll
    static void stop() {
        // the environment is a process-wide singleton; sessions are closed per test
    }

    static byte[] resource(String name) throws Exception {
        try (InputStream in = OnnxRuntimeParityTest.class.getClassLoader().getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    /** ORT's last_hidden_state for a padded batch: [B][N][H]. */
    static float[][][] ort(OrtSession session, int[][] ids, int[][] types) throws Exception {
        int b = ids.length, n = 0;
        for (int[] row : ids) n = Math.max(n, row.length);
        long[][] id = new long[b][n], mask = new long[b][n], type = new long[b][n];
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < ids[i].length; t++) {
                id[i][t] = ids[i][t];
                mask[i][t] = 1;
                type[i][t] = types == null ? 0 : types[i][t];
            }
        }
        try (OnnxTensor tId = OnnxTensor.createTensor(env, id); OnnxTensor tMask = OnnxTensor.createTensor(env, mask);
             OnnxTensor tType = OnnxTensor.createTensor(env, type);
             OrtSession.Result r = session.run(Map.of("input_ids", tId, "attention_mask", tMask, "token_type_ids", tType))) {
            return (float[][][]) r.get("last_hidden_state").orElseThrow().getValue();
        }
    }

    static List<String> corpus() {
        List<String> s = new ArrayList<>(List.of(
                "A man is playing a guitar.", "A woman is slicing an onion.", "The cat sits on the mat.",
                "Attention is all you need.", "The quick brown fox jumps over the lazy dog.", "", "   ",
                "Transformers compute attention between every pair of tokens.", "Café au lait, s'il vous plaît!",
                "東京は日本の首都です。", "Das ist ein Test mit Umlauten: äöü ß.", "Emoji 🙂 and 👩‍🚀 in text",
                "https://example.org/path?q=attention&lang=java", "x", "What is the capital of France?",
                "Paris is the capital of France.", "SELECT * FROM tokens WHERE id = 42;", "3.14159 is roughly pi",
                "The meeting was moved to Thursday at 10 a.m.", "Neural networks learn representations.",
                "I love this movie, it's fantastic!", "This film was a waste of time.", "Где находится библиотека?",
                "The stock market fell sharply today.", "A child is riding a bike in the park.",
                "Quantum computers use qubits.", "She sells sea shells by the sea shore.", "antidisestablishmentarianism",
                "Hello, world!", "How do I reset my password?", "Java virtual machine", "vector API incubator module",
                "The patient was given 5 mg of the drug.", "Rain is expected tomorrow afternoon.", "Dogs are loyal animals.",
                "The library opens at nine.", "Machine translation has improved a lot.", "He scored two goals in the final.",
                "The recipe calls for two eggs and flour.", "Mount Everest is the highest mountain."));
        Random r = new Random(5);
        String[] words = {"model", "token", "layer", "head", "query", "key", "value", "softmax", "java", "fast", "exact", "the", "a", "of"};
        for (int i = 0; i < 12; i++) {
            StringBuilder b = new StringBuilder();
            int n = i < 10 ? 1 + r.nextInt(120) : 600 + 900 * (i - 10); // the last two exceed 512 tokens: truncated at the limit
            for (int w = 0; w < n; w++) b.append(words[r.nextInt(words.length)]).append(' ');
            s.add(b.toString());
        }
        return s;
    }

    static double cosine(float[] a, double[] b) {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    void check(Embedder model, byte[] onnx, List<String> texts, int batch) throws Exception {
        try (OrtSession session = env.createSession(onnx, new OrtSession.SessionOptions())) {
            double worst = 0, worstCos = 1, worstNorm = 0, worstUnit = 0;
            int checked = 0;
            boolean sawLimit = false;
            for (int from = 0; from < texts.size(); from += batch) {
                List<String> part = texts.subList(from, Math.min(texts.size(), from + batch));
                Embedder.Result mine = model.run(part);
                int[][] ids = new int[part.size()][], types = new int[part.size()][];
                for (int i = 0; i < part.size(); i++) {
                    Encoding e = mine.encodings().get(i);
                    ids[i] = e.ids();
                    types[i] = e.typeIds();
                    sawLimit |= e.length() == 512;
                }
                float[][][] ref = ort(session, ids, types);
                for (int i = 0; i < part.size(); i++) {
                    int len = ids[i].length;
                    double[] pooled = new double[model.dimension()];
                    for (int t = 0; t < len; t++) {
                        float[] got = mine.hidden().token(i, t);
                        for (int c = 0; c < got.length; c++) {
                            worst = Math.max(worst, Math.abs(got[c] - ref[i][t][c]));
                            if (model.encoder().config().pooling() == BertConfig.Pooling.MEAN || t == 0) pooled[c] += ref[i][t][c];
                        }
                    }
                    float[] e = mine.embeddings()[i];
                    worstCos = Math.min(worstCos, cosine(e, pooled));
                    // cosine ignores scale: the embedding must also have unit length and equal ORT's pooled vector normalised
                    double norm = 0, refNorm = 0;
                    for (int c = 0; c < e.length; c++) {
                        norm += (double) e[c] * e[c];
                        refNorm += pooled[c] * pooled[c];
                    }
                    worstNorm = Math.max(worstNorm, Math.abs(Math.sqrt(norm) - 1));
                    for (int c = 0; c < e.length; c++) worstUnit = Math.max(worstUnit, Math.abs(e[c] - pooled[c] / Math.sqrt(refNorm)));
                    checked++;
                }
            }
            System.out.printf("%s: %d inputs, max |attn4j - ORT| = %.2e, min cosine = %.8f, max |norm - 1| = %.1e, max |e - ORT unit| = %.1e%n",
                    model.name(), checked, worst, worstCos, worstNorm, worstUnit);
            assertTrue(checked >= 50, "at least 50 inputs");
            assertTrue(sawLimit, "one input at the 512-token limit");
            assertTrue(worst <= 1e-4, model.name() + ": max |attn4j - ORT| on real tokens = " + worst);
            assertTrue(worstCos >= 0.99999, model.name() + ": min cosine of pooled embeddings = " + worstCos);
            assertTrue(worstNorm <= 1e-6, model.name() + ": max | ||embedding|| - 1 | = " + worstNorm);
            assertTrue(worstUnit <= 1e-5, model.name() + ": max |embedding - ORT pooled / ||ORT pooled|| | = " + worstUnit);
        }
    }

    @Test
    void miniLmMatchesOnnxRuntime() throws Exception {
        Embedder model = Embedder.load(Embedder.MINILM).withThreads(2);
        check(model, resource("all-minilm-l6-v2.onnx"), corpus(), 16);
    }

    @Test
    void batchesMixingLengthsOneTo512MatchOnnxRuntime() throws Exception {
        Embedder model = Embedder.load(Embedder.MINILM);
        BertEncoder enc = model.encoder();
        Random r = new Random(9);
        int[] lengths = {1, 2, 3, 17, 64, 129, 255, 511, 512};
        int[][] ids = new int[lengths.length][];
        for (int i = 0; i < lengths.length; i++) {
            ids[i] = new int[lengths[i]];
            ids[i][0] = 101;
            for (int t = 1; t < lengths[i]; t++) ids[i][t] = 1000 + r.nextInt(29000);
        }
        BertEncoder.Output mine = enc.forward(ids, null, 2);
        try (OrtSession session = env.createSession(resource("all-minilm-l6-v2.onnx"), new OrtSession.SessionOptions())) {
            float[][][] ref = ort(session, ids, null);
            double worst = 0;
            for (int i = 0; i < ids.length; i++)
                for (int t = 0; t < lengths[i]; t++) {
                    float[] got = mine.token(i, t);
                    for (int c = 0; c < got.length; c++) worst = Math.max(worst, Math.abs(got[c] - ref[i][t][c]));
                }
            System.out.printf("lengths 1..512 in one batch: max |attn4j - ORT| = %.2e%n", worst);
            assertTrue(worst <= 1e-4, "max |attn4j - ORT| = " + worst);
        }
    }

    @Test
    void bgeSmallMatchesOnnxRuntimeWithClsPooling() throws Exception {
        Embedder model = Embedder.load(Embedder.BGE_SMALL).withThreads(2);
        assertEquals(BertConfig.Pooling.CLS, model.encoder().config().pooling());
        assertEquals(12, model.encoder().config().layers());
        check(model, resource("bge-small-en-v1.5.onnx"), corpus(), 26);
    }
}
