package org.attn4j.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.text.Normalizer;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.attn4j.models.gguf.GgufFile;
import org.attn4j.models.gguf.GgufTokenizers;
import org.attn4j.models.testing.LlamaCppSource;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.models.tokenizer.spm.SentencePieceBpe;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The tokenizers read from llama.cpp's vocabulary GGUF files against its 46 test cases each: every case must match, encode and decode. */
class GgufVocabTest {

    @ParameterizedTest
    @ValueSource(strings = {"gpt-2", "llama-bpe", "qwen2", "llama-spm", "starcoder"})
    void everyCaseMatchesHuggingFacesIds(String name) throws Exception {
        Optional<Path> src = LlamaCppSource.get();
        assumeTrue(src.isPresent(), LlamaCppSource.SKIP);
        Path f = src.get().resolve("models").resolve("ggml-vocab-" + name + ".gguf");
        VocabCases cases = VocabCases.read(f);
        assertTrue(cases.inputs().size() >= 40, "cases: " + cases.inputs().size());
        try (GgufFile g = GgufFile.open(f)) {
            Tokenizer tok = GgufTokenizers.read(g);
            assertEquals(g.array("tokenizer.ggml.tokens", String[].class).length, tok.vocabSize());
            assertEquals(name.equals("llama-spm"), tok instanceof SentencePieceBpe);
            // Qwen's tokenizer NFC-normalises, so its round trip gives the NFC form.
            UnaryOperator<String> back = name.equals("qwen2") ? s -> Normalizer.normalize(s, Normalizer.Form.NFC) : s -> s;
            List<String> bad = cases.mismatches(tok, back);
            assertTrue(bad.isEmpty(), bad.size() + " of " + cases.inputs().size() + " cases wrong:\n" + String.join("\n", bad));
            if (tok instanceof ByteLevelBpe) assertEquals(0, tok.encode("", true).length);
        }
    }
}
