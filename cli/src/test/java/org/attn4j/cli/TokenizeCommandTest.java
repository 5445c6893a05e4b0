package org.attn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.attn4j.models.tokenizer.bpe.ByteLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizeCommandTest {
    @TempDir Path dir;

    // The in-process runner every command test shares.
    static CliTest.Run run(String... args) {
        return CliTest.run(args);
    }

    /**
     * A GGUF file holding only a byte-level BPE tokenizer: ids 0..255 are the bytes, then "he",
     * "ll", "hell", "hello" (from merges "h e", "l l", "he ll", "hell o"), then the control token
     * {@code <|endoftext|>} (260).
     */
    private Path tinyGguf() throws IOException {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(String.valueOf(ByteLevel.charOf(b)));
        tokens.addAll(List.of("he", "ll", "hell", "hello", "<|endoftext|>"));
        int[] types = new int[tokens.size()];
        java.util.Arrays.fill(types, 1);
        types[260] = 3;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write("GGUF".getBytes(StandardCharsets.US_ASCII));
        u32(o, 3); u64(o, 0); u64(o, 5);
        str(o, "tokenizer.ggml.model"); u32(o, 8); str(o, "gpt2");
        str(o, "tokenizer.ggml.pre"); u32(o, 8); str(o, "gpt-2");
        str(o, "tokenizer.ggml.tokens"); u32(o, 9); u32(o, 8); u64(o, tokens.size());
        for (String t : tokens) str(o, t);
        str(o, "tokenizer.ggml.token_type"); u32(o, 9); u32(o, 5); u64(o, types.length);
        for (int t : types) u32(o, t);
        List<String> merges = List.of("h e", "l l", "he ll", "hell o");
        str(o, "tokenizer.ggml.merges"); u32(o, 9); u32(o, 8); u64(o, merges.size());
        for (String m : merges) str(o, m);
        Path f = dir.resolve("tiny.gguf");
        Files.write(f, o.toByteArray());
        return f;
    }

    private static void u32(ByteArrayOutputStream o, long v) { o.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array()); }
    private static void u64(ByteArrayOutputStream o, long v) { o.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); }
    private static void str(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(o, b.length);
        o.writeBytes(b);
    }

    @Test
    void printsOneJsonArrayPerInput() throws IOException {
        Path model = tinyGguf();
        CliTest.Run r = run("tokenize", "--model", model.toString(), "hello hello<|endoftext|>");
        assertEquals(0, r.code(), r.err());
        assertEquals("[259,32,259,260]\n", r.out().replace("\r\n", "\n"));

        CliTest.Run plain = run("tokenize", "--model", model.toString(), "--no-special", "hello<|endoftext|>");
        assertEquals(0, plain.code(), plain.err());
        // "<|" and "|>" are punctuation runs, "endoftext" has no merge: all single bytes.
        assertEquals("[259,60,124,101,110,100,111,102,116,101,120,116,124,62]\n", plain.out().replace("\r\n", "\n"));

        Path in = dir.resolve("in.txt");
        Files.writeString(in, "hello\r\n\nhe\n");
        CliTest.Run lines = run("tokenize", "--model", model.toString(), "--input", in.toString());
        assertEquals(0, lines.code(), lines.err());
        assertEquals("[259]\n[]\n[256]\n", lines.out().replace("\r\n", "\n"));
    }

    @Test
    void badFilesAndUsageExitTwoWithOneLine() throws IOException {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, "GGML-not-gguf".getBytes(StandardCharsets.US_ASCII));
        CliTest.Run r = run("tokenize", "--model", bad.toString(), "x");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(bad.toString()) && r.err().contains("magic"), r.err());

        Path truncated = dir.resolve("trunc.gguf");
        byte[] good = Files.readAllBytes(tinyGguf());
        Files.write(truncated, java.util.Arrays.copyOf(good, good.length - 3));
        CliTest.Run t = run("tokenize", "--model", truncated.toString(), "x");
        assertEquals(2, t.code());
        assertTrue(t.err().contains(truncated.toString()) && t.err().contains("truncated"), t.err());

        CliTest.Run missing = run("tokenize", "--model", dir.resolve("nope.gguf").toString(), "x");
        assertEquals(2, missing.code());
        assertTrue(missing.err().contains("nope.gguf") && missing.err().contains("does not exist"), missing.err());

        CliTest.Run both = run("tokenize", "--model", tinyGguf().toString(), "--input", "-", "x");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("either TEXT or --input"), both.err());
    }
}
