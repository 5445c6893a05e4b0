package org.attn4j.models.decoder;

import org.attn4j.models.gguf.GgmlType;
import org.attn4j.models.gguf.GgufFile;
import org.attn4j.models.gguf.GgufFormatException;
import org.attn4j.models.gguf.GgufWriter;
import org.attn4j.models.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class GgufDecoderTest {
    @TempDir Path dir;

    /** Tiny models with a vocabulary large enough for the stand-in tokenizer. */
    static DecoderModel tiny(TinyDecoders.Kind kind, long seed) {
        DecoderConfig c = TinyDecoders.config(kind);
        c = new DecoderConfig(c.arch(), 300, 32 * (c.arch() == DecoderConfig.Arch.QWEN3 ? 2 : 1), c.layers(), c.heads(), c.kvHeads(), c.headDim(),
                64, c.contextLength(), c.normEps(), c.ropeTheta(), c.ropeDim(), c.rope(), c.ropeFactors(), c.slidingWindow());
        return new DecoderModel(c, TinyDecoders.weights(c, kind != TinyDecoders.Kind.LLAMA_TIED, seed));
    }

    @ParameterizedTest
    @EnumSource(value = TinyDecoders.Kind.class, names = "LLAMA3_SCALED_HALVES", mode = EnumSource.Mode.EXCLUDE)
    void f32RoundTripGivesTheSameLogitsBitForBit(TinyDecoders.Kind kind) throws Exception {
        DecoderModel m = tiny(kind, 21);
        Path file = dir.resolve(kind + ".gguf");
        GgufDecoder.write(file, m.config(), m.weights(), GgmlType.F32);
        DecoderModel back = GgufDecoder.load(file);
        assertEquals(m.config().slidingWindow(), back.config().slidingWindow());
        assertEquals(m.config().rope(), back.config().rope());
        int[] tokens = TinyDecoders.tokens(12, 300, 3);
        assertArrayEquals(m.forward(m.newCache(16), tokens, true), back.forward(back.newCache(16), tokens, true));
        // The stand-in vocabulary tokenises any text and decodes it back.
        var tok = Tokenizers.load(file);
        String text = "the quick brown fox, ünïcödé";
        assertEquals(text, tok.decode(tok.encode(text, false)));
    }

    /**
     * A Llama layout with every bias (what attn4j's trained models export: o_proj, gate, up, down
     * besides q/k/v) keeps them through GGUF, and they matter: without them the logits differ.
     */
    @Test
    void llamaBiasesRoundTripAndCount() throws Exception {
        DecoderModel m = tiny(TinyDecoders.Kind.LLAMA_GQA, 23);
        DecoderConfig c = m.config();
        java.util.Random r = new java.util.Random(4);
        DecoderWeights.Layer[] ls = m.weights().layers().clone();
        for (int i = 0; i < ls.length; i++) {
            DecoderWeights.Layer l = ls[i];
            ls[i] = new DecoderWeights.Layer(l.attnNorm(), l.attnNormBias(), l.wq(), vec(r, c.heads() * c.headDim()), l.wk(),
                    vec(r, c.kvHeads() * c.headDim()), l.wv(), vec(r, c.kvHeads() * c.headDim()), l.qNorm(), l.kNorm(), l.wo(), vec(r, c.dim()),
                    l.ffnNorm(), l.ffnNormBias(), l.wGate(), l.wUp(), vec(r, c.ffn()), l.wDown(), vec(r, c.dim()), vec(r, c.ffn()));
        }
        DecoderWeights w = m.weights();
        DecoderModel biased = new DecoderModel(c, new DecoderWeights(w.tokenEmbedding(), w.positionEmbedding(), ls, w.outputNorm(), w.outputNormBias(), w.output()));
        Path file = dir.resolve("biased.gguf");
        GgufDecoder.write(file, c, biased.weights(), GgmlType.F32);
        DecoderModel back = GgufDecoder.load(file);
        int[] tokens = TinyDecoders.tokens(12, 300, 3);
        float[] expected = biased.forward(biased.newCache(16), tokens, true);
        assertArrayEquals(expected, back.forward(back.newCache(16), tokens, true));
        float[] plain = m.forward(m.newCache(16), tokens, true);
        double gap = 0;
        for (int i = 0; i < plain.length; i++) gap = Math.max(gap, Math.abs(plain[i] - expected[i]));
        org.junit.jupiter.api.Assertions.assertTrue(gap > 1e-3, "the biases change the logits: " + gap);
    }

    private static float[] vec(java.util.Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (0.2 * r.nextGaussian());
        return v;
    }

    @Test
    void q8RoundTripMatchesItsDequantisedWeights() throws Exception {
        DecoderModel m = tiny(TinyDecoders.Kind.QWEN2, 22);
        Path file = dir.resolve("q8.gguf");
        GgufDecoder.write(file, m.config(), m.weights(), GgmlType.Q8_0);
        DecoderModel back = GgufDecoder.load(file).q8Activations(false);
        try (GgufFile g = GgufFile.open(file)) {
            assertEquals(GgmlType.Q8_0, g.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.F32, g.tensor("blk.0.attn_q.bias").type());
        }
        // Q8_0's error: half a step, d/2 = max|x|/254 per block of 32, plus d's rounding to f16
        // (relative 2^-11) carried by |q| <= 127 steps, at most max|x|·2^-11.
        float[] w = m.weights().layers()[0].wq().toFloats(), wb = back.weights().layers()[0].wq().toFloats();
        assertInstanceOf(Q8Matrix.class, back.weights().layers()[0].wq());
        for (int b = 0; b < w.length; b += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(w[b + j]));
            for (int j = 0; j < 32; j++) assertEquals(w[b + j], wb[b + j], amax / 254f + amax / 2048f + 1e-7f);
        }
        int[] tokens = TinyDecoders.tokens(8, 300, 4);
        double[] ref = ReferenceDecoder.logits(back.config(), back.weights(), tokens)[7];
        assertTrue(DecoderModelTest.relativeError(back.forward(back.newCache(8), tokens, false), 0, ref) < 1e-5);
    }

    /**
     * The heap estimate counts what the loaded model holds (float32 for F32, a byte and 1/32 of a
     * float per weight for Q8_0 matrices, checked against the loaded matrices' own sizes), and a model
     * that would not fit is refused before its weights are read, with a message saying how much to give.
     */
    @Test
    void heapEstimateMatchesTheLoadedWeightsAndTooLargeModelsAreRefused() throws Exception {
        DecoderModel m = tiny(TinyDecoders.Kind.QWEN2, 23);
        Path f32 = dir.resolve("h32.gguf"), q8 = dir.resolve("h8.gguf");
        GgufDecoder.write(f32, m.config(), m.weights(), GgmlType.F32);
        GgufDecoder.write(q8, m.config(), m.weights(), GgmlType.Q8_0);
        DecoderModel a = GgufDecoder.load(f32), b = GgufDecoder.load(q8);
        try (GgufFile g32 = GgufFile.open(f32); GgufFile g8 = GgufFile.open(q8)) {
            long floats = 0, q8Matrices = 0, q8Floats = 0;
            for (var t : g32.tensors().values()) floats += t.elements();
            for (var t : g8.tensors().values()) {
                if (t.type() == GgmlType.Q8_0) q8Matrices += t.elements();
                else q8Floats += t.elements();
            }
            assertTrue(q8Matrices > 0 && q8Floats > 0);
            assertEquals(4 * floats, GgufDecoder.heapBytes(g32));
            assertEquals(q8Matrices + q8Matrices / 8 + 4 * q8Floats, GgufDecoder.heapBytes(g8));
            // the estimate is what the loaded matrices hold
            long wq32 = a.weights().layers()[0].wq().bytes(), wq8 = b.weights().layers()[0].wq().bytes();
            assertEquals(4 * (long) m.config().heads() * m.config().headDim() * m.config().dim(), wq32);
            assertEquals(wq32 / 4 + wq32 / 32, wq8);

            long need = GgufDecoder.heapBytes(g32);
            GgufDecoder.requireHeap(f32.toString(), need, (long) (need / GgufDecoder.HEAP_SHARE) + 1); // just fits
            GgufDecoder.requireHeap(f32.toString(), need, Long.MAX_VALUE);                             // no limit
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GgufDecoder.requireHeap("/models/big.gguf", 4_946_000_000L, 6_442_450_944L));
        assertEquals("/models/big.gguf: the weights need about 4.95 GB of Java heap once loaded, more than 60 % of the 6.44 GB"
                + " this JVM may use; give it more, e.g. JAVA_OPTS=-Xmx9g", e.getMessage());
    }

    @Test
    void badFilesAreNamed() throws Exception {
        DecoderModel m = tiny(TinyDecoders.Kind.LLAMA_GQA, 23);
        Path file = dir.resolve("arch.gguf");
        new GgufWriter().put("general.architecture", "mamba").write(file);
        GgufFormatException e = assertThrows(GgufFormatException.class, () -> GgufDecoder.load(file));
        assertEquals(file + ": metadata 'general.architecture': 'mamba' is not supported; supported: [llama, mistral, qwen2, qwen3, gpt2, deepseek2]", e.getMessage());

        Path missing = dir.resolve("missing.gguf");
        GgufDecoder.write(missing, m.config(), m.weights(), GgmlType.F32);
        // Drop a tensor by rewriting the file without it: copy every tensor but ffn_down of block 1.
        GgufWriter w = new GgufWriter();
        try (GgufFile g = GgufFile.open(missing)) {
            for (var kv : g.metadata().entrySet()) {
                Object v = kv.getValue();
                if (v instanceof GgufFile.GgufArray a) v = a.values();
                w.put(kv.getKey(), v);
            }
            for (var t : g.tensors().values()) {
                if (!t.name().equals("blk.1.ffn_down.weight")) w.tensor(t.name(), GgmlType.F32, t.toFloats(), t.ne());
            }
        }
        Path broken = dir.resolve("broken.gguf");
        w.write(broken);
        e = assertThrows(GgufFormatException.class, () -> GgufDecoder.load(broken));
        assertEquals(broken + ": tensor 'blk.1.ffn_down.weight': missing", e.getMessage());
    }
}
