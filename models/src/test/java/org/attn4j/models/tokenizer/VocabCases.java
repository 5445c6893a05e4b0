package org.attn4j.models.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * llama.cpp's tokenizer test cases: {@code NAME.inp} holds the inputs separated by the line
 * {@code __ggml_vocab_test__}, {@code NAME.out} the expected ids, one line per input (made by
 * Hugging Face tokenizers, no special tokens added).
 */
record VocabCases(List<String> inputs, List<int[]> expected) {

    static VocabCases read(Path gguf) throws IOException {
        String raw = Files.readString(Path.of(gguf + ".inp"), StandardCharsets.UTF_8);
        // The same split as llama.cpp's test-tokenizer-0: pieces between separators; a trailing separator ends the last one.
        String sep = "\n__ggml_vocab_test__\n";
        List<String> in = new ArrayList<>();
        int pos = 0;
        while (pos < raw.length()) {
            int next = raw.indexOf(sep, pos);
            if (next < 0) {
                in.add(raw.substring(pos));
                break;
            }
            in.add(raw.substring(pos, next));
            pos = next + sep.length();
        }
        List<int[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of(gguf + ".out"), StandardCharsets.UTF_8)) {
            String t = line.trim();
            out.add(t.isEmpty() ? new int[0] : Arrays.stream(t.split(" +")).mapToInt(Integer::parseInt).toArray());
        }
        if (in.size() != out.size()) throw new IllegalStateException(gguf + ": " + in.size() + " inputs but " + out.size() + " expected lines");
        return new VocabCases(in, out);
    }

    /** Every case that {@code tok} gets wrong, as readable lines (empty when all match). */
    List<String> mismatches(Tokenizer tok, java.util.function.UnaryOperator<String> roundTrip) {
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            String s = inputs.get(i);
            int[] got = tok.encode(s, true);
            if (!Arrays.equals(expected.get(i), got)) {
                bad.add("case " + i + " " + quote(s) + ": expected " + Arrays.toString(expected.get(i)) + ", got " + Arrays.toString(got));
            }
            String back = tok.decode(expected.get(i));
            if (!back.equals(roundTrip.apply(s))) bad.add("case " + i + " " + quote(s) + ": decodes to " + quote(back));
        }
        return bad;
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '\n') b.append("\\n");
            else if (c == '\t') b.append("\\t");
            else if (c == '\r') b.append("\\r");
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
